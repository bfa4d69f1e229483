// Package signsgd is the worked example of docs/optimizers.md: signSGD with momentum
// ("Signum", Bernstein et al. 2018) and decoupled weight decay. It is not linked into the
// fob binary (train/optim/all does not import it); its test registers and trains it.
package signsgd

import (
	_ "embed"

	"github.com/fob-go/fob/train/optim"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

//go:embed default.yaml
var defaultYAML []byte

func init() {
	optim.Register(optim.Entry{Name: "signsgd", DefaultYAML: defaultYAML, New: New})
}

type groupHP struct{ momentum, wd float64 }

// SignSGD holds per-group constants.
type SignSGD struct{ groups []groupHP }

// New validates the hyperparameters; errors name the key and the valid range.
func New(s optim.Settings) (optim.Optimizer, error) {
	h, err := optim.NewHyper(s, defaultYAML)
	if err != nil {
		return nil, err
	}
	h.Float("learning_rate", optim.NonNegative)
	o := &SignSGD{}
	for _, g := range s.Groups {
		gh := h.Group(g) // per-group options override the section's values
		o.groups = append(o.groups, groupHP{
			momentum: gh.Float("momentum", optim.Beta),
			wd:       gh.Float("weight_decay", optim.NonNegative) * g.WDMultiplier,
		})
	}
	if err := h.Err(); err != nil {
		return nil, err
	}
	return o, nil
}

// Update: m ← β m + (1−β) g; θ ← θ(1 − lr·λ) − lr·sign(m).
func (o *SignSGD) Update(ctx *context.Context, in optim.StepInputs, params []optim.Param, grads []*Node) {
	for i, p := range params {
		c := o.groups[p.Group]
		theta := p.Var.ValueGraph(in.Step.Graph())
		dt := theta.DType()
		lr := optim.GroupLR(in, p.Group, dt)
		g := optim.AsDType(grads[i], dt)
		mVar := optim.ZerosState(ctx, p, "momentum") // checkpointed as optimizer/<param>/momentum
		m := Add(MulScalar(mVar.ValueGraph(theta.Graph()), c.momentum), MulScalar(g, 1-c.momentum))
		mVar.SetValueGraph(m)
		if c.wd != 0 {
			theta = Mul(theta, OneMinus(MulScalar(lr, c.wd)))
		}
		optim.SetParam(p, Sub(theta, Mul(lr, Sign(m))))
	}
}
