// Package adamplus is the adam_plus optimizer: FOB's AdamPlus, an Adam whose learning rate is
// scheduled per parameter by the optimizer itself, coupled to CPR's l2 constraint.
//
// Parameters of groups with a weight-decay multiplier > 0 are "masters": each has its own
// learning rate, starting at 0 and growing by lr_grad per step. Every reg_step_size steps the
// master tracks mean(θ²) and its first and second differences; at the inflection (after
// 3·reg_step_size steps, the first difference starts shrinking while the second difference
// turns from positive to ≤ 0) it fixes κ = mean(θ²) and from then on applies the CPR l2
// constraint and multiplies its learning rate by lr_decay^(1/(max_steps − k)) each step, so
// it ends at lr_decay × its peak. Other parameters use, each step, the learning rate of the
// master named like them with "bias" replaced by "weight" (fc.bias follows fc.weight), or
// else the mean of all masters' learning rates.
package adamplus

import (
	_ "embed"
	"strings"

	"github.com/fob-go/fob/train/optim"
	"github.com/fob-go/fob/train/optim/internal/adam"
	"github.com/fob-go/fob/train/optim/internal/cpr"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

//go:embed default.yaml
var defaultYAML []byte

func init() {
	optim.Register(optim.Entry{Name: "adam_plus", DefaultYAML: defaultYAML, New: New})
}

// AdamPlus implements optim.SelfScheduling: the trainer feeds each group's lr multiplier as
// StepInputs.LR, and the internal learning rates are multiplied by it.
type AdamPlus struct {
	master                    []bool // per group
	beta1, beta2, eps         float64
	lrGrad, lrDecay, kappaUpd float64
	regStepSize, maxSteps     int
}

var _ optim.SelfScheduling = (*AdamPlus)(nil)

// SelfScheduling reports true: lr_scheduler settings do not apply to adam_plus.
func (o *AdamPlus) SelfScheduling() bool { return true }

// New reads lr_grad, lr_decay, beta1, beta2, epsilon, reg_step_size, kappa_update, foreach
// (accepted and ignored: there is one implementation) and max_steps.
func New(s optim.Settings) (optim.Optimizer, error) {
	h, err := optim.NewHyper(s, defaultYAML)
	if err != nil {
		return nil, err
	}
	o := &AdamPlus{
		beta1:       h.Float("beta1", optim.Beta),
		beta2:       h.Float("beta2", optim.Beta),
		eps:         h.Float("epsilon", optim.NonNegative),
		lrGrad:      h.Float("lr_grad", optim.NonNegative),
		lrDecay:     h.Float("lr_decay", optim.Positive),
		kappaUpd:    h.Float("kappa_update", optim.NonNegative),
		regStepSize: h.Int("reg_step_size", 1),
		maxSteps:    h.MaxSteps(),
	}
	h.OptionalBool("foreach")
	anyMaster := false
	for _, g := range s.Groups {
		if len(g.Options) > 0 {
			h.Failf("group %q: adam_plus takes no per-group options", g.Name)
		}
		o.master = append(o.master, g.WDMultiplier > 0)
		anyMaster = anyMaster || g.WDMultiplier > 0
	}
	if len(s.Groups) > 0 && !anyMaster {
		h.Failf("no parameter group has a weight decay multiplier > 0; adam_plus schedules its learning rates from those parameters")
	}
	if err := h.Err(); err != nil {
		return nil, err
	}
	return o, nil
}

// Update builds one AdamPlus step (see the package comment).
func (o *AdamPlus) Update(ctx *context.Context, in optim.StepInputs, params []optim.Param, grads []*Node) {
	g := in.Step.Graph()
	masterIdx := map[string]int{}
	for i, p := range params {
		if o.master[p.Group] {
			masterIdx[p.Name] = i
		}
	}
	// Learning rates at the start of the step: the value every follower copies. Read before
	// any update so followers see the same value their master uses this step.
	startLR := map[int]*Node{}
	var sumLR *Node
	for i, p := range params {
		if !o.master[p.Group] {
			continue
		}
		startLR[i] = optim.ScalarState(ctx, p, "lr", 0).ValueGraph(g)
		v64 := optim.AsDType(startLR[i], dtypes.Float64)
		if sumLR == nil {
			sumLR = v64
		} else {
			sumLR = Add(sumLR, v64)
		}
	}
	var meanLR *Node
	if sumLR != nil {
		meanLR = DivScalar(sumLR, float64(len(startLR)))
	}

	for i, p := range params {
		theta := p.Var.ValueGraph(g)
		dt := theta.DType()
		grad := optim.AsDType(grads[i], dt)
		var lr *Node
		switch {
		case o.master[p.Group]:
			lr = startLR[i]
		default:
			if mi, ok := masterIdx[strings.ReplaceAll(p.Name, "bias", "weight")]; ok {
				lr = optim.AsDType(startLR[mi], dt)
			} else if meanLR != nil {
				lr = optim.AsDType(meanLR, dt)
			} else {
				lr = optim.Scalar(g, dt, 0)
			}
		}
		lr = Mul(lr, optim.GroupLR(in, p.Group, dt)) // the group's lr multiplier
		m, v := adam.Moments(ctx, p, grad, o.beta1, o.beta2)
		theta = Sub(theta, adam.Step(m, v, lr, in, o.beta1, o.beta2, o.eps))
		if o.master[p.Group] {
			theta = o.schedule(ctx, p, in, startLR[i], theta)
		}
		optim.SetParam(p, theta)
	}
}

// schedule runs the master's learning-rate schedule and, once κ is set, the l2 constraint.
func (o *AdamPlus) schedule(ctx *context.Context, p optim.Param, in optim.StepInputs, lr, theta *Node) *Node {
	g := theta.Graph()
	dt := theta.DType()
	c := func(v float64) *Node { return optim.Scalar(g, dt, v) }
	k64 := optim.StepAs(in, dtypes.Float64)
	k := optim.AsDType(k64, dt)
	R := float64(o.regStepSize)

	lrVar := optim.ScalarState(ctx, p, "lr", 0)
	lagVar := optim.ScalarState(ctx, p, "lagmul", 0)
	kappaVar := optim.ScalarState(ctx, p, "kappa", 0)
	setVar := optim.ScalarState(ctx, p, "kappa_set", 0)
	dfVar := optim.ScalarState(ctx, p, "lr_decay_factor", 1)
	prevVar := optim.ScalarState(ctx, p, "prev_reg", 0)
	prevGVar := optim.ScalarState(ctx, p, "prev_reg_gradient", 0)
	prevSVar := optim.ScalarState(ctx, p, "prev_reg_second_derivative", 0)
	lag, kappa, set := lagVar.ValueGraph(g), kappaVar.ValueGraph(g), setVar.ValueGraph(g)
	df, prev, prevG, prevS := dfVar.ValueGraph(g), prevVar.ValueGraph(g), prevGVar.ValueGraph(g), prevSVar.ValueGraph(g)

	isSet := GreaterThan(set, c(0.5))
	// Tracking steps: κ not set and k a multiple of reg_step_size (exact in float64).
	track := LogicalAnd(LogicalNot(isSet), Equal(Mod(k64, optim.Scalar(g, dtypes.Float64, R)), optim.Scalar(g, dtypes.Float64, 0)))
	cur := ReduceAllMean(Square(theta))
	curG := Sub(cur, prev)
	curS := Sub(curG, prevG)
	pastR, past2R := GreaterThan(k, c(R)), GreaterThan(k, c(2*R))
	found := LogicalAnd(track, LogicalAnd(GreaterThan(k, c(3*R)),
		LogicalAnd(GreaterThan(prevG, curG), LogicalAnd(GreaterThan(prevS, c(0)), LessOrEqual(curS, c(0))))))
	remaining := MaxScalar(Sub(optim.Scalar(g, dtypes.Float64, float64(o.maxSteps)), k64), 1)
	newDF := optim.AsDType(Pow(optim.Scalar(g, dtypes.Float64, o.lrDecay), Reciprocal(remaining)), dt)

	kappaVar.SetValueGraph(Where(found, cur, kappa))
	setVar.SetValueGraph(Where(found, c(1), set))
	dfVar.SetValueGraph(Where(found, newDF, df))
	prevVar.SetValueGraph(Where(track, cur, prev))
	prevGVar.SetValueGraph(Where(LogicalAnd(track, pastR), curG, prevG))
	prevSVar.SetValueGraph(Where(LogicalAnd(track, past2R), curS, prevS))

	// Once κ is set: constraint and decay; before: warmup by lr_grad per step.
	constrained, newLag := cpr.Constrain("l2", theta, lag, kappa, o.kappaUpd)
	lagVar.SetValueGraph(Where(isSet, newLag, lag))
	lrVar.SetValueGraph(Where(isSet, Mul(lr, df), AddScalar(lr, o.lrGrad)))
	return Where(isSet, constrained, theta)
}
