// Package lrsched computes FOB's learning-rate schedules on the host, exactly, in float64
// (docs/fob-behaviour.md §4.1). The trainer asks for every group's learning rate once per optimisation step
// and feeds the values to the update graph, so a schedule never recompiles a graph.
//
// All schedules are multiplicative: the learning rate of a group with multiplier m at step s
// is learning_rate × m × Factor(s). In particular eta_min scales with the group multiplier
// (eta_min_factor × the group's initial learning rate), as the lr_scheduler default.yaml
// documents it ("a factor of the base learning rate") and as wsd already does; FOB's cosine
// used one absolute eta_min for all groups (docs/fob-behaviour.md §8, defect 4).
package lrsched

import (
	_ "embed"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/fob-go/fob/train/config"
	"gopkg.in/yaml.v3"
)

// DefaultYAML is the embedded default.yaml: the optimizer.lr_scheduler defaults every
// optimizer receives.
//
//go:embed default.yaml
var DefaultYAML []byte

// Schedule is a learning-rate schedule.
type Schedule interface {
	// Factor is the scheduled learning rate divided by the group's initial learning rate
	// (learning_rate × lr multiplier) before optimisation step `step`, counted from 0 (the
	// number of optimizer updates already made). It is the same for every group.
	Factor(step int) float64
	// LR returns each group's learning rate for step: learning_rate × multipliers[g] × Factor.
	// The trainer calls it once per step with optim.Multipliers(groups) and feeds the result
	// as StepInputs.LR.
	LR(step int, multipliers []float64) []float64
}

// Schedulers lists the valid values of lr_scheduler.scheduler.
var Schedulers = []string{"cosine", "exponential", "identity", "poly", "stepwise", "wsd"}

type schedule struct {
	base          float64
	stepsPerEpoch int // > 0 when the interval is epoch
	factor        func(s int) float64
}

func (s *schedule) Factor(step int) float64 {
	if step < 0 {
		step = 0
	}
	if s.stepsPerEpoch > 0 {
		step /= s.stepsPerEpoch
	}
	return s.factor(step)
}

func (s *schedule) LR(step int, multipliers []float64) []float64 {
	f := s.Factor(step)
	out := make([]float64, len(multipliers))
	for i, m := range multipliers {
		out[i] = s.base * m * f
	}
	return out
}

// Constant is a schedule whose learning rate is base × multiplier at every step. The trainer
// uses Constant(1) for self-scheduling optimizers (optim.SelfScheduling), which then receive
// their groups' lr multipliers.
func Constant(base float64) Schedule {
	return &schedule{base: base, factor: func(int) float64 { return 1 }}
}

// defaults returns the optimizer.lr_scheduler map of DefaultYAML.
func defaults() config.Map {
	var root config.Map
	if err := yaml.Unmarshal(DefaultYAML, &root); err != nil {
		panic(fmt.Sprintf("lrsched: embedded default.yaml: %v", err))
	}
	return config.Sub(root, "optimizer.lr_scheduler")
}

// Plan is a resolved schedule: lengths in schedule units (steps, or epochs when Interval is
// "epoch").
type Plan struct {
	Scheduler string
	Interval  string
	// Total is max_steps, or max_epochs with interval epoch.
	Total int
	// Warmup is the warmup length W; Main = max(Total − W, 1) is the length of the schedule
	// after warmup (T_max of cosine, total_iters of poly).
	Warmup, Main int
	// Decay is the wsd decay length D (0 for other schedulers).
	Decay int
	// StepsPerEpoch converts optimisation steps to epochs when Interval is "epoch".
	StepsPerEpoch int
	LearningRate  float64

	WarmupStrategy, DecayStrategy string
	EtaMinFactor, LRPower, Gamma  float64
	StepSize                      int
}

type reader struct {
	m    config.Map
	errs []error
}

func (r *reader) fail(format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("optimizer.lr_scheduler."+format, args...))
}

func (r *reader) float(key string, lo float64, hi float64, hiIncl bool) float64 {
	return r.floatRange(key, lo, false, hi, hiIncl)
}

func (r *reader) floatRange(key string, lo float64, loOpen bool, hi float64, hiIncl bool) float64 {
	v, err := config.Float(r.m, key)
	ok := err == nil && !math.IsNaN(v) && (v > lo || (!loOpen && v == lo)) && (v < hi || (hiIncl && v == hi))
	if !ok {
		lb := "["
		if loOpen {
			lb = "("
		}
		rb := ")"
		if hiIncl {
			rb = "]"
		}
		hs := fmt.Sprint(hi)
		if math.IsInf(hi, 1) {
			hs = "inf"
		}
		r.fail("%s = %v is not valid; valid range %s%v, %s%s", key, r.m[key], lb, lo, hs, rb)
	}
	return v
}

func (r *reader) optInt(key string, min int) (int, bool) {
	if v, ok := r.m[key]; !ok || v == nil {
		return 0, false
	}
	v, err := config.Int(r.m, key)
	if err != nil || v < min {
		r.fail("%s = %v is not valid; valid values: null or an integer ≥ %d", key, r.m[key], min)
		return 0, false
	}
	return v, true
}

func (r *reader) optFloat(key string, lo, hi float64) (float64, bool) {
	if v, ok := r.m[key]; !ok || v == nil {
		return 0, false
	}
	return r.float(key, lo, hi, true), true
}

func (r *reader) choice(key string, valid ...string) string {
	v, err := config.String(r.m, key)
	if err == nil {
		for _, c := range valid {
			if c == v {
				return v
			}
		}
	}
	r.fail("%s = %v is not valid; valid values: %s", key, r.m[key], strings.Join(valid, ", "))
	return valid[0]
}

// Resolve validates the optimizer section (learning_rate, max_steps, max_epochs and
// lr_scheduler over its defaults) and computes the phase lengths. stepsPerEpoch is the number
// of optimisation steps per epoch (needed for interval epoch; it may be 0 otherwise).
func Resolve(opt config.Map, stepsPerEpoch int) (Plan, error) {
	def := defaults()
	ls := config.Sub(opt, "lr_scheduler")
	r := &reader{m: config.Map{}}
	for k, v := range def {
		r.m[k] = v
	}
	var unknown []string
	for k, v := range ls {
		if _, ok := def[k]; !ok {
			unknown = append(unknown, k)
			continue
		}
		r.m[k] = v
	}
	if len(unknown) > 0 {
		valid := make([]string, 0, len(def))
		for k := range def {
			valid = append(valid, k)
		}
		sort.Strings(valid)
		sort.Strings(unknown)
		r.fail("%s: unknown key(s); valid keys: %s", strings.Join(unknown, ", "), strings.Join(valid, ", "))
	}

	p := Plan{StepsPerEpoch: stepsPerEpoch}
	p.Scheduler = r.choice("scheduler", Schedulers...)
	p.Interval = r.choice("interval", "step", "epoch")
	p.EtaMinFactor = r.float("eta_min_factor", 0, math.Inf(1), false)
	p.WarmupStrategy = r.choice("warmup_strategy", "linear", "cosine")
	p.DecayStrategy = r.choice("decay_strategy", "linear", "cosine")
	p.LRPower = r.float("lr_power", 0, math.Inf(1), false)
	p.Gamma = r.floatRange("gamma", 0, true, math.Inf(1), false)
	if v, err := config.Int(r.m, "step_size"); err != nil || v < 1 {
		r.fail("step_size = %v is not valid; valid values: integers ≥ 1", r.m["step_size"])
	} else {
		p.StepSize = v
	}
	warmupSteps, hasWarmupSteps := r.optInt("warmup_steps", 0)
	warmupFactor, hasWarmupFactor := r.optFloat("warmup_factor", 0, 1)
	decaySteps, hasDecaySteps := r.optInt("decay_steps", 0)
	decayFactor, hasDecayFactor := r.optFloat("decay_factor", 0, 1)

	if lr, err := config.Float(opt, "learning_rate"); err != nil || math.IsNaN(lr) || lr < 0 {
		r.errs = append(r.errs, fmt.Errorf("optimizer.learning_rate = %v is not valid; valid range [0, inf)", opt["learning_rate"]))
	} else {
		p.LearningRate = lr
	}
	maxSteps, hasSteps := intKey(opt, "max_steps")
	maxEpochs, hasEpochs := intKey(opt, "max_epochs")
	switch p.Interval {
	case "step":
		switch {
		case hasSteps && maxSteps >= 1:
			p.Total = maxSteps
		case hasEpochs && maxEpochs >= 1 && stepsPerEpoch >= 1:
			p.Total = maxEpochs * stepsPerEpoch
		default:
			r.errs = append(r.errs, fmt.Errorf("optimizer.max_steps = %v is not valid; need an integer ≥ 1 (the engine copies it from the task)", opt["max_steps"]))
		}
		p.StepsPerEpoch = 0
	case "epoch":
		if stepsPerEpoch < 1 {
			r.errs = append(r.errs, fmt.Errorf("optimizer.lr_scheduler.interval = epoch needs the number of steps per epoch (got %d)", stepsPerEpoch))
		}
		switch {
		case hasEpochs && maxEpochs >= 1:
			p.Total = maxEpochs
		case hasSteps && maxSteps >= 1 && stepsPerEpoch >= 1:
			p.Total = (maxSteps + stepsPerEpoch - 1) / stepsPerEpoch
		default:
			r.errs = append(r.errs, fmt.Errorf("optimizer.max_epochs = %v is not valid; interval epoch needs an integer ≥ 1", opt["max_epochs"]))
		}
	}
	if err := errors.Join(r.errs...); err != nil {
		return Plan{}, err
	}

	// Warmup split (FOB warmup_split_from_config): explicit steps win over the factor.
	switch {
	case hasWarmupSteps:
		p.Warmup = warmupSteps
	case hasWarmupFactor:
		p.Warmup = int(math.Ceil(float64(p.Total) * warmupFactor))
	default:
		return Plan{}, errors.New("optimizer.lr_scheduler: warmup_steps and warmup_factor are both null; set one of them")
	}
	p.Main = max(p.Total-p.Warmup, 1)
	if p.Scheduler == "wsd" {
		switch {
		case hasDecaySteps:
			p.Decay = decaySteps
		case hasDecayFactor:
			p.Decay = int(math.Ceil(float64(p.Total) * decayFactor))
		default:
			return Plan{}, errors.New("optimizer.lr_scheduler: decay_steps and decay_factor are both null; set one of them for scheduler wsd")
		}
		if p.Warmup+p.Decay > p.Total {
			return Plan{}, fmt.Errorf("optimizer.lr_scheduler: wsd warmup (%d) + decay (%d) exceed the run length (%d %ss); lower warmup_steps/warmup_factor or decay_steps/decay_factor",
				p.Warmup, p.Decay, p.Total, p.Interval)
		}
	}
	return p, nil
}

func intKey(m config.Map, key string) (int, bool) {
	if v, ok := m[key]; !ok || v == nil {
		return 0, false
	}
	v, err := config.Int(m, key)
	return v, err == nil
}

// New builds the schedule of an optimizer section (the optimizer map with learning_rate,
// max_steps, max_epochs and lr_scheduler). stepsPerEpoch is needed for interval epoch.
func New(opt config.Map, stepsPerEpoch int) (Schedule, error) {
	p, err := Resolve(opt, stepsPerEpoch)
	if err != nil {
		return nil, err
	}
	return p.Schedule(), nil
}

// Schedule returns the schedule of a resolved plan.
func (p Plan) Schedule() Schedule {
	return &schedule{base: p.LearningRate, stepsPerEpoch: p.StepsPerEpoch, factor: p.Factor}
}

// Factor is the closed form of the plan at s schedule units (steps or epochs) from the start.
func (p Plan) Factor(s int) float64 {
	W := p.Warmup
	if p.Scheduler == "wsd" {
		return p.wsd(s)
	}
	if s < W {
		return warmup(p.WarmupStrategy, s, W, 0)
	}
	t := s - W
	T := p.Main
	switch p.Scheduler {
	case "identity":
		return 1
	case "cosine":
		// Held at eta_min past T (torch's recursion would restart the cosine).
		return cosineDecay(min(t, T), T, p.EtaMinFactor)
	case "poly":
		return math.Pow(1-float64(min(t, T))/float64(T), p.LRPower)
	case "stepwise":
		return math.Pow(p.Gamma, float64(t/p.StepSize))
	case "exponential":
		return math.Pow(p.Gamma, float64(t))
	}
	panic("lrsched: unknown scheduler " + p.Scheduler)
}

// warmup rises from ~0 (linear: 1e-10 as torch LinearLR's start factor; cosine: from floor)
// to 1 over W units.
func warmup(strategy string, s, W int, floor float64) float64 {
	x := float64(s) / float64(W)
	if strategy == "cosine" {
		return floor + (1-floor)*(1-math.Cos(math.Pi*x))/2
	}
	return 1e-10 + (1-1e-10)*x
}

// cosineDecay goes from 1 at t = 0 to f at t = T.
func cosineDecay(t, T int, f float64) float64 {
	return f + (1-f)*(1+math.Cos(math.Pi*float64(t)/float64(T)))/2
}

// wsd: warmup W (linear from 1e-10, or cosine from eta_min_factor), stable, decay D to
// eta_min_factor (linear or cosine); any phase may be empty.
func (p Plan) wsd(s int) float64 {
	W, D := p.Warmup, p.Decay
	if s < W {
		return warmup(p.WarmupStrategy, s, W, p.EtaMinFactor)
	}
	start := p.Total - D
	if s < start || D == 0 {
		return 1
	}
	t := min(s-start, D)
	if p.DecayStrategy == "cosine" {
		return cosineDecay(t, D, p.EtaMinFactor)
	}
	return 1 + (p.EtaMinFactor-1)*float64(t)/float64(D)
}

// WarmupSteps is the warmup length W in optimisation steps (what adamcpr's
// warm_start_factor multiplies): with interval epoch, the warmup epochs × stepsPerEpoch.
func WarmupSteps(opt config.Map, stepsPerEpoch int) (int, error) {
	p, err := Resolve(opt, stepsPerEpoch)
	if err != nil {
		return 0, err
	}
	if p.Interval == "epoch" {
		return p.Warmup * p.StepsPerEpoch, nil
	}
	return p.Warmup, nil
}

// StepsPerEpoch derives the steps per epoch from the optimizer section's max_steps and
// max_epochs (what a Factory has); 0 when either is missing.
func StepsPerEpoch(opt config.Map) int {
	steps, ok1 := intKey(opt, "max_steps")
	epochs, ok2 := intKey(opt, "max_epochs")
	if !ok1 || !ok2 || steps < 1 || epochs < 1 {
		return 0
	}
	return (steps + epochs - 1) / epochs
}
