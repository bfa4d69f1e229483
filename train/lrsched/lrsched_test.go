package lrsched

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/fob-go/fob/train/config"
	"gopkg.in/yaml.v3"
)

const base = 0.1

func optSection(ls config.Map) config.Map {
	return config.Map{"name": "sgd_baseline", "learning_rate": base, "max_steps": 1000, "lr_scheduler": ls}
}

func relErr(got, want float64) float64 {
	return math.Abs(got-want) / math.Max(math.Abs(want), 1e-300)
}

// The curves of torch 1.13's schedulers (testdata/torch_curves.json, gen_torch_curves.py),
// step by step over whole runs.
func TestTorchCurves(t *testing.T) {
	b, err := os.ReadFile("testdata/torch_curves.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []struct {
			Name          string     `json:"name"`
			Config        config.Map `json:"config"`
			StepsPerEpoch int        `json:"steps_per_epoch"`
			LRs           []float64  `json:"lrs"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) < 10 {
		t.Fatalf("only %d reference curves", len(ref.Cases))
	}
	for _, c := range ref.Cases {
		t.Run(c.Name, func(t *testing.T) {
			s, err := New(c.Config, c.StepsPerEpoch)
			if err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for step, want := range c.LRs {
				got := s.LR(step, []float64{1})[0]
				if e := relErr(got, want); e > worst {
					worst = e
				}
				if e := relErr(got, want); e > 1e-9 {
					t.Fatalf("step %d: lr %.17g, torch %.17g (rel err %.2g)", step, got, want, e)
				}
			}
			t.Logf("%d steps, max relative error %.2g", len(c.LRs), worst)
		})
	}
}

// expected builds a curve phase by phase (warmup, then the main schedule) straight from the
// formulas of docs/fob-behaviour.md §4.1, for a run of total units.
func expected(total, W, T int, warmupCosine bool, main func(t int) float64) []float64 {
	var out []float64
	for s := 0; s < W; s++ {
		if warmupCosine {
			out = append(out, (1-math.Cos(math.Pi*float64(s)/float64(W)))/2)
		} else {
			out = append(out, 1e-10+(1-1e-10)*float64(s)/float64(W))
		}
	}
	for t := 0; len(out) < total; t++ {
		out = append(out, main(t))
	}
	return out
}

func TestClosedForms(t *testing.T) {
	const N = 1000
	cos := func(T int, f float64) func(int) float64 {
		return func(t int) float64 { return f + (1-f)*(1+math.Cos(math.Pi*float64(t)/float64(T)))/2 }
	}
	for _, c := range []struct {
		name string
		ls   config.Map
		want []float64
	}{
		{"defaults_cosine", config.Map{}, expected(N, 10, 990, false, cos(990, 0.01))},
		{"cosine_cosine_warmup", config.Map{"warmup_strategy": "cosine", "warmup_factor": 0.1, "eta_min_factor": 0.2},
			expected(N, 100, 900, true, cos(900, 0.2))},
		{"cosine_eta1_is_constant", config.Map{"eta_min_factor": 1.0}, expected(N, 10, 990, false, func(int) float64 { return 1 })},
		{"identity", config.Map{"scheduler": "identity", "warmup_steps": 25}, expected(N, 25, 975, false, func(int) float64 { return 1 })},
		{"identity_no_warmup", config.Map{"scheduler": "identity", "warmup_steps": 0}, expected(N, 0, N, false, func(int) float64 { return 1 })},
		{"poly_half", config.Map{"scheduler": "poly", "lr_power": 0.5, "warmup_steps": 40},
			expected(N, 40, 960, false, func(t int) float64 { return math.Sqrt(1 - float64(t)/960) })},
		{"stepwise", config.Map{"scheduler": "stepwise", "step_size": 7, "gamma": 0.9, "warmup_steps": 3},
			expected(N, 3, 997, false, func(t int) float64 { return math.Pow(0.9, float64(t/7)) })},
		{"exponential_cosine_warmup", config.Map{"scheduler": "exponential", "gamma": 0.99, "warmup_strategy": "cosine", "warmup_steps": 12},
			expected(N, 12, 988, true, func(t int) float64 { return math.Pow(0.99, float64(t)) })},
		{"warmup_longer_than_run", config.Map{"scheduler": "cosine", "warmup_steps": 1200},
			expected(N, 1200, 1, false, nil)[:N]},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := New(optSection(c.ls), 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.want) != N {
				t.Fatalf("expected curve has %d points", len(c.want))
			}
			for step, w := range c.want {
				if got := s.Factor(step); relErr(got, w) > 1e-12 {
					t.Fatalf("step %d: factor %.17g, want %.17g", step, got, w)
				}
			}
		})
	}
}

// WSD phases, including empty ones (FOB's SequentialLR failed on those, docs/fob-behaviour.md §8, defect 2).
func TestWSD(t *testing.T) {
	const N = 1000
	lin := func(D int, f float64) func(t int) float64 {
		return func(t int) float64 { return 1 + (f-1)*float64(t)/float64(D) }
	}
	cosd := func(D int, f float64) func(t int) float64 {
		return func(t int) float64 { return f + (1-f)*(1+math.Cos(math.Pi*float64(t)/float64(D)))/2 }
	}
	build := func(W, D int, wCos bool, f float64, decay func(int) float64) []float64 {
		var out []float64
		for s := 0; s < W; s++ {
			x := float64(s) / float64(W)
			if wCos {
				out = append(out, f+(1-f)*(1-math.Cos(math.Pi*x))/2)
			} else {
				out = append(out, 1e-10+(1-1e-10)*x)
			}
		}
		for len(out) < N-D {
			out = append(out, 1)
		}
		for t := 0; t < D; t++ {
			out = append(out, decay(t))
		}
		return out
	}
	for _, c := range []struct {
		name string
		ls   config.Map
		want []float64
	}{
		{"all_phases_cosine", config.Map{"scheduler": "wsd", "warmup_steps": 100, "decay_steps": 250, "eta_min_factor": 0.1},
			build(100, 250, false, 0.1, cosd(250, 0.1))},
		{"cosine_warmup_linear_decay", config.Map{"scheduler": "wsd", "warmup_factor": 0.1, "decay_factor": 0.25, "warmup_strategy": "cosine", "decay_strategy": "linear"},
			build(100, 250, true, 0.01, lin(250, 0.01))},
		{"no_warmup", config.Map{"scheduler": "wsd", "warmup_steps": 0, "decay_steps": 150}, build(0, 150, false, 0.01, cosd(150, 0.01))},
		{"no_decay", config.Map{"scheduler": "wsd", "warmup_steps": 50, "decay_steps": 0}, build(50, 0, false, 0.01, nil)},
		{"no_stable", config.Map{"scheduler": "wsd", "warmup_steps": 400, "decay_steps": 600, "decay_strategy": "linear"},
			build(400, 600, false, 0.01, lin(600, 0.01))},
		{"only_stable", config.Map{"scheduler": "wsd", "warmup_steps": 0, "decay_steps": 0}, build(0, 0, false, 0.01, nil)},
	} {
		t.Run(c.name, func(t *testing.T) {
			opt := optSection(c.ls)
			opt["max_steps"] = N
			s, err := New(opt, 0)
			if err != nil {
				t.Fatal(err)
			}
			for step, w := range c.want {
				if got := s.Factor(step); relErr(got, w) > 1e-12 {
					t.Fatalf("step %d: factor %.17g, want %.17g", step, got, w)
				}
			}
		})
	}
}

// Every group's lr is learning_rate × multiplier × Factor: eta_min scales with the group.
func TestGroupMultipliers(t *testing.T) {
	s, err := New(optSection(config.Map{"eta_min_factor": 0.05, "warmup_steps": 0}), 0)
	if err != nil {
		t.Fatal(err)
	}
	mults := []float64{1, 0.1, 0}
	for _, step := range []int{0, 1, 500, 999} {
		lrs := s.LR(step, mults)
		f := s.Factor(step)
		for i, m := range mults {
			if want := base * m * f; relErr(lrs[i], want) > 1e-15 && want != lrs[i] {
				t.Errorf("step %d group %d: lr %g, want %g", step, i, lrs[i], want)
			}
		}
	}
	// At the end of the cosine the backbone group (×0.1) sits at 0.05 × its own initial lr.
	T := 1000.0
	end := s.LR(1000, mults)[1]
	want := 0.1 * base * (0.05 + 0.95*(1+math.Cos(math.Pi*1000/T))/2)
	if relErr(end, want) > 1e-12 || relErr(end, 0.1*0.05*base) > 1e-12 {
		t.Errorf("group ×0.1 at T_max: lr %g, want %g", end, 0.1*0.05*base)
	}
}

// With interval epoch the schedule moves once per epoch and warmup/T_max count epochs.
func TestEpochInterval(t *testing.T) {
	opt := config.Map{"learning_rate": base, "max_steps": 500, "max_epochs": 50,
		"lr_scheduler": config.Map{"interval": "epoch", "warmup_factor": 0.1}}
	p, err := Resolve(opt, 10)
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 50 || p.Warmup != 5 || p.Main != 45 {
		t.Fatalf("plan %+v: want 50 epochs, warmup 5, main 45", p)
	}
	s := p.Schedule()
	for e := 0; e < 50; e++ {
		f := s.Factor(e * 10)
		for i := 1; i < 10; i++ {
			if s.Factor(e*10+i) != f {
				t.Fatalf("epoch %d: factor changes within the epoch", e)
			}
		}
		if want := p.Factor(e); f != want {
			t.Fatalf("epoch %d: factor %g, plan %g", e, f, want)
		}
	}
	if got := s.Factor(49); got >= 0.9 {
		t.Errorf("step 49 (epoch 4, still warmup) factor %g", got)
	}
	if got := s.Factor(50); got != 1 {
		t.Errorf("step 50 (epoch 5, first after warmup) factor %g, want 1", got)
	}
	w, err := WarmupSteps(opt, 10)
	if err != nil || w != 50 {
		t.Errorf("WarmupSteps = %d, %v; want 50 steps (5 epochs × 10)", w, err)
	}
	if spe := StepsPerEpoch(opt); spe != 10 {
		t.Errorf("StepsPerEpoch = %d, want 10", spe)
	}
}

func TestConstant(t *testing.T) {
	s := Constant(1)
	got := s.LR(12345, []float64{1, 0.5})
	if got[0] != 1 || got[1] != 0.5 || s.Factor(0) != 1 {
		t.Errorf("Constant(1): %v", got)
	}
}

func TestWarmupSplit(t *testing.T) {
	for _, c := range []struct {
		ls         config.Map
		total      int
		warm, main int
	}{
		{config.Map{}, 1000, 10, 990},
		{config.Map{"warmup_factor": 0.07}, 300, 22, 278}, // ceil(300 × 0.07) = ceil(21.000000000000004), as Python
		{config.Map{"warmup_steps": 5, "warmup_factor": 0.5}, 100, 5, 95},
		{config.Map{"warmup_steps": 100}, 100, 100, 1},
		{config.Map{"warmup_factor": 0.0}, 100, 0, 100},
	} {
		opt := optSection(c.ls)
		opt["max_steps"] = c.total
		p, err := Resolve(opt, 0)
		if err != nil {
			t.Fatal(err)
		}
		if p.Warmup != c.warm || p.Main != c.main {
			t.Errorf("%v over %d: warmup %d main %d, want %d %d", c.ls, c.total, p.Warmup, p.Main, c.warm, c.main)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		opt  config.Map
		spe  int
		want string
	}{
		{"unknown key", optSection(config.Map{"warmup": 10}), 0, "warmup: unknown key"},
		{"bad scheduler", optSection(config.Map{"scheduler": "linear"}), 0, "scheduler = linear is not valid; valid values: cosine"},
		{"negative lr", config.Map{"learning_rate": -0.1, "max_steps": 10}, 0, "learning_rate = -0.1"},
		{"no max_steps", config.Map{"learning_rate": 0.1}, 0, "max_steps"},
		{"both warmups null", optSection(config.Map{"warmup_factor": nil}), 0, "warmup_steps and warmup_factor are both null"},
		{"negative warmup", optSection(config.Map{"warmup_steps": -3}), 0, "warmup_steps = -3"},
		{"warmup factor > 1", optSection(config.Map{"warmup_factor": 1.5}), 0, "warmup_factor = 1.5 is not valid; valid range [0, 1]"},
		{"bad interval", optSection(config.Map{"interval": "batch"}), 0, "interval = batch"},
		{"epoch without steps per epoch", optSection(config.Map{"interval": "epoch"}), 0, "steps per epoch"},
		{"gamma zero", optSection(config.Map{"gamma": 0.0}), 0, "gamma = 0 is not valid; valid range (0, inf)"},
		{"step_size zero", optSection(config.Map{"step_size": 0}), 0, "step_size"},
		{"wsd too long", optSection(config.Map{"scheduler": "wsd", "warmup_steps": 600, "decay_steps": 500}), 0, "exceed the run length"},
		{"wsd decay null", optSection(config.Map{"scheduler": "wsd", "decay_factor": nil}), 0, "decay_steps and decay_factor"},
		{"bad warmup strategy", optSection(config.Map{"warmup_strategy": "exp"}), 0, "warmup_strategy"},
	} {
		_, err := New(c.opt, c.spe)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// default.yaml carries exactly the keys and defaults of docs/fob-behaviour.md §4.1.
func TestDefaultYAML(t *testing.T) {
	var root config.Map
	if err := yaml.Unmarshal(DefaultYAML, &root); err != nil {
		t.Fatal(err)
	}
	got := config.Sub(root, "optimizer.lr_scheduler")
	want := config.Map{"scheduler": "cosine", "eta_min_factor": 0.01, "interval": "step", "warmup_factor": 0.01,
		"warmup_steps": nil, "warmup_strategy": "linear", "lr_power": 1.0, "decay_strategy": "cosine",
		"decay_factor": 0.1, "decay_steps": nil, "step_size": 10, "gamma": 0.1}
	if len(got) != len(want) {
		t.Errorf("default.yaml has %d keys, want %d: %v", len(got), len(want), got)
	}
	for k, v := range want {
		if gv, ok := got[k]; !ok || gv != v {
			t.Errorf("default %s = %#v, want %#v", k, gv, v)
		}
	}
}
