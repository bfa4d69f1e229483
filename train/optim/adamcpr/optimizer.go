// Package adamcpr is the adamcpr optimizer: Adam without weight decay followed by
// Constrained Parameter Regularization (package internal/cpr) on the parameters of groups
// with a weight-decay multiplier > 0. Factory is shared with adamcpr_fast (same math, no
// kappa_adapt key).
package adamcpr

import (
	_ "embed"
	"fmt"

	"github.com/fob-go/fob/train/lrsched"
	"github.com/fob-go/fob/train/optim"
	"github.com/fob-go/fob/train/optim/internal/adam"
	"github.com/fob-go/fob/train/optim/internal/cpr"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

//go:embed default.yaml
var defaultYAML []byte

func init() {
	optim.Register(optim.Entry{Name: "adamcpr", DefaultYAML: defaultYAML, New: Factory(defaultYAML)})
}

type hp struct {
	beta1, beta2, eps float64
	regularize        bool
}

// AdamCPR is Adam followed by CPR.
type AdamCPR struct {
	groups []hp
	cpr    cpr.Config
}

// Factory returns the Factory of an Adam+CPR optimizer with the given default.yaml. It reads
// learning_rate, beta1, beta2, epsilon, kappa_init_param, kappa_init_method, reg_function,
// kappa_update and, when the defaults have it, kappa_adapt. kappa_init_method
// warm_start_factor sets κ = R(θ) at step int(W × kappa_init_param) (W the warmup steps of
// the schedule); warm_start at step int(kappa_init_param); uniform uses κ = kappa_init_param;
// dependent κ = kappa_init_param × R(θ₀); inflection_point detects the inflection of Σθ²
// after a burn-in of 3W steps (W stands in for the published reg_step_size, as FOB passes W).
func Factory(defaultYAML []byte) optim.Factory {
	return func(s optim.Settings) (optim.Optimizer, error) {
		h, err := optim.NewHyper(s, defaultYAML)
		if err != nil {
			return nil, err
		}
		h.Float("learning_rate", optim.NonNegative)
		method := h.Choice("kappa_init_method", "warm_start_factor", "warm_start", "uniform", "dependent", "inflection_point")
		kip := h.Float("kappa_init_param", optim.NonNegative)
		c := cpr.Config{
			Method:      method,
			Reg:         h.Choice("reg_function", cpr.RegFunctions...),
			KappaUpdate: h.Float("kappa_update", optim.NonNegative),
		}
		if h.Has("kappa_adapt") {
			c.KappaAdapt = h.Bool("kappa_adapt")
		}
		warmup := func() int {
			w, err := lrsched.WarmupSteps(h.Config(), lrsched.StepsPerEpoch(h.Config()))
			if err != nil {
				h.Failf("kappa_init_method %s needs the warmup length: %v", method, err)
			}
			return w
		}
		switch method {
		case "warm_start_factor":
			c.Method = "warm_start"
			c.WarmStart = int(float64(warmup()) * kip)
		case "warm_start":
			c.WarmStart = int(kip)
		case "uniform", "dependent":
			c.KappaInit = kip
		case "inflection_point":
			c.RegStepSize = max(warmup(), 1)
		}
		// A warm start of 0 would constrain to κ = 0 from the first step (shrinking every
		// weight to 0); take κ after the first update instead.
		c.WarmStart = max(c.WarmStart, 1)
		o := &AdamCPR{cpr: c}
		for _, g := range s.Groups {
			gh := h.Group(g)
			o.groups = append(o.groups, hp{
				beta1:      gh.Float("beta1", optim.Beta),
				beta2:      gh.Float("beta2", optim.Beta),
				eps:        gh.Float("epsilon", optim.NonNegative),
				regularize: g.WDMultiplier > 0,
			})
		}
		if err := h.Err(); err != nil {
			return nil, err
		}
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("optimizer %s: %w", s.Config["name"], err)
		}
		return o, nil
	}
}

// Update: Adam step (no weight decay), then the CPR constraint for regularized groups.
func (o *AdamCPR) Update(ctx *context.Context, in optim.StepInputs, params []optim.Param, grads []*Node) {
	for i, p := range params {
		c := o.groups[p.Group]
		theta0 := p.Var.ValueGraph(in.Step.Graph())
		dt := theta0.DType()
		grad := optim.AsDType(grads[i], dt)
		lr := optim.GroupLR(in, p.Group, dt)
		m, v := adam.Moments(ctx, p, grad, c.beta1, c.beta2)
		theta := Sub(theta0, adam.Step(m, v, lr, in, c.beta1, c.beta2, c.eps))
		if c.regularize {
			theta = cpr.Apply(ctx, p, o.cpr, optim.StepAs(in, dt), theta0, theta)
		}
		optim.SetParam(p, theta)
	}
}
