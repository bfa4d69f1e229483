// Package sgd is the sgd_baseline optimizer: torch's SGD with momentum, coupled (L2) weight
// decay, dampening 0 and optional Nesterov momentum. SGDFactory is shared with sgd_stepwise
// and template, which differ only in their defaults.
package sgd

import (
	_ "embed"

	"github.com/fob-go/fob/train/optim"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

//go:embed default.yaml
var defaultYAML []byte

func init() {
	optim.Register(optim.Entry{Name: "sgd_baseline", DefaultYAML: defaultYAML, New: Factory(defaultYAML)})
}

type hp struct {
	momentum, wd float64
	nesterov     bool
}

// SGD is torch.optim.SGD (dampening 0).
type SGD struct {
	groups []hp
}

// Factory returns a Factory reading learning_rate and, when its default.yaml has them,
// momentum, weight_decay and nesterov (absent keys mean 0/false: plain SGD).
func Factory(defaultYAML []byte) optim.Factory {
	return func(s optim.Settings) (optim.Optimizer, error) {
		h, err := optim.NewHyper(s, defaultYAML)
		if err != nil {
			return nil, err
		}
		h.Float("learning_rate", optim.NonNegative)
		o := &SGD{}
		for _, g := range s.Groups {
			gh := h.Group(g)
			var c hp
			if gh.Has("momentum") {
				c.momentum = gh.Float("momentum", optim.NonNegative)
			}
			if gh.Has("weight_decay") {
				c.wd = gh.Float("weight_decay", optim.NonNegative) * g.WDMultiplier
			}
			if gh.Has("nesterov") {
				c.nesterov = gh.Bool("nesterov")
				if c.nesterov && c.momentum == 0 {
					gh.Failf("nesterov: true needs momentum > 0")
				}
			}
			o.groups = append(o.groups, c)
		}
		if err := h.Err(); err != nil {
			return nil, err
		}
		return o, nil
	}
}

// Update: d = g + λθ; b ← μb + d (b starts at 0, so b₁ = d as in torch); step along
// d + μb (Nesterov) or b; θ ← θ − lr·step.
func (o *SGD) Update(ctx *context.Context, in optim.StepInputs, params []optim.Param, grads []*Node) {
	for i, p := range params {
		c := o.groups[p.Group]
		theta := p.Var.ValueGraph(in.Step.Graph())
		dt := theta.DType()
		d := optim.AsDType(grads[i], dt)
		lr := optim.GroupLR(in, p.Group, dt)
		if c.wd != 0 {
			d = Add(d, MulScalar(theta, c.wd))
		}
		if c.momentum != 0 {
			bVar := optim.ZerosState(ctx, p, "momentum_buffer")
			b := Add(MulScalar(bVar.ValueGraph(theta.Graph()), c.momentum), d)
			bVar.SetValueGraph(b)
			if c.nesterov {
				d = Add(d, MulScalar(b, c.momentum))
			} else {
				d = b
			}
		}
		optim.SetParam(p, Sub(theta, Mul(lr, d)))
	}
}
