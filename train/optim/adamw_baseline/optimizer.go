// Package adamw is the adamw_baseline optimizer: torch's AdamW (decoupled weight decay).
package adamw

import (
	_ "embed"

	"github.com/fob-go/fob/train/optim"
	"github.com/fob-go/fob/train/optim/internal/adam"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

//go:embed default.yaml
var defaultYAML []byte

func init() {
	optim.Register(optim.Entry{Name: "adamw_baseline", DefaultYAML: defaultYAML, New: New})
}

type hp struct{ beta1, beta2, eps, wd float64 }

// AdamW keeps per-group hyperparameters; the learning rate comes from StepInputs each step.
type AdamW struct {
	groups []hp
}

// New reads learning_rate, beta1, beta2, weight_decay and epsilon (per group overridable).
func New(s optim.Settings) (optim.Optimizer, error) {
	h, err := optim.NewHyper(s, defaultYAML)
	if err != nil {
		return nil, err
	}
	h.Float("learning_rate", optim.NonNegative)
	o := &AdamW{}
	for _, g := range s.Groups {
		gh := h.Group(g)
		o.groups = append(o.groups, hp{
			beta1: gh.Float("beta1", optim.Beta),
			beta2: gh.Float("beta2", optim.Beta),
			eps:   gh.Float("epsilon", optim.NonNegative),
			wd:    gh.Float("weight_decay", optim.NonNegative) * g.WDMultiplier,
		})
	}
	if err := h.Err(); err != nil {
		return nil, err
	}
	return o, nil
}

// Update: θ ← θ(1 − lr·λ); m, v Adam moments; θ ← θ − lr·m̂/(√v̂ + ε).
func (o *AdamW) Update(ctx *context.Context, in optim.StepInputs, params []optim.Param, grads []*Node) {
	for i, p := range params {
		c := o.groups[p.Group]
		theta := p.Var.ValueGraph(in.Step.Graph())
		dt := theta.DType()
		grad := optim.AsDType(grads[i], dt)
		lr := optim.GroupLR(in, p.Group, dt)
		if c.wd != 0 {
			theta = Mul(theta, OneMinus(MulScalar(lr, c.wd)))
		}
		m, v := adam.Moments(ctx, p, grad, c.beta1, c.beta2)
		theta = Sub(theta, adam.Step(m, v, lr, in, c.beta1, c.beta2, c.eps))
		optim.SetParam(p, theta)
	}
}
