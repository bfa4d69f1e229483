// Package lion is the lion optimizer (Chen et al. 2023, "Symbolic Discovery of Optimization
// Algorithms"), as implemented by lion-pytorch 0.2.x.
package lion

import (
	_ "embed"

	"github.com/fob-go/fob/train/optim"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

//go:embed default.yaml
var defaultYAML []byte

func init() {
	optim.Register(optim.Entry{Name: "lion", DefaultYAML: defaultYAML, New: New})
}

type hp struct{ beta1, beta2, wd float64 }

// Lion is sign momentum with decoupled weight decay.
type Lion struct {
	groups []hp
}

// New reads learning_rate, beta1, beta2, weight_decay, decoupled_weight_decay.
// With decoupled_weight_decay the decay is divided by the initial learning_rate, so the
// per-step shrink is lr_t/learning_rate × weight_decay (independent of the lr scale).
func New(s optim.Settings) (optim.Optimizer, error) {
	h, err := optim.NewHyper(s, defaultYAML)
	if err != nil {
		return nil, err
	}
	lr := h.Float("learning_rate", optim.NonNegative)
	decoupled := h.Bool("decoupled_weight_decay")
	o := &Lion{}
	for _, g := range s.Groups {
		gh := h.Group(g)
		c := hp{
			beta1: gh.Float("beta1", optim.Fraction),
			beta2: gh.Float("beta2", optim.Fraction),
			wd:    gh.Float("weight_decay", optim.NonNegative) * g.WDMultiplier,
		}
		if decoupled && c.wd != 0 {
			if lr == 0 {
				gh.Failf("decoupled_weight_decay: true needs learning_rate > 0 (the decay is divided by it)")
			} else {
				c.wd /= lr
			}
		}
		o.groups = append(o.groups, c)
	}
	if err := h.Err(); err != nil {
		return nil, err
	}
	return o, nil
}

// Update: θ ← θ(1 − lr·λ); θ ← θ − lr·sign(β1 m + (1−β1) g); m ← β2 m + (1−β2) g.
func (o *Lion) Update(ctx *context.Context, in optim.StepInputs, params []optim.Param, grads []*Node) {
	for i, p := range params {
		c := o.groups[p.Group]
		theta := p.Var.ValueGraph(in.Step.Graph())
		dt := theta.DType()
		grad := optim.AsDType(grads[i], dt)
		lr := optim.GroupLR(in, p.Group, dt)
		mVar := optim.ZerosState(ctx, p, "exp_avg")
		m := mVar.ValueGraph(theta.Graph())
		if c.wd != 0 {
			theta = Mul(theta, OneMinus(MulScalar(lr, c.wd)))
		}
		update := Sign(Add(MulScalar(m, c.beta1), MulScalar(grad, 1-c.beta1)))
		theta = Sub(theta, Mul(lr, update))
		mVar.SetValueGraph(Add(MulScalar(m, c.beta2), MulScalar(grad, 1-c.beta2)))
		optim.SetParam(p, theta)
	}
}
