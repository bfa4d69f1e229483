// Package sophia is the sophia optimizer: SophiaG (Liu et al. 2023, "Sophia: A Scalable
// Stochastic Second-order Optimizer for Language Model Pre-training") with its diagonal
// Hessian estimate refreshed by the Gauss-Newton-Bartlett estimator every
// hessian_update_interval steps (optim.CurvatureEstimator).
package sophia

import (
	_ "embed"

	"github.com/fob-go/fob/train/optim"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

//go:embed default.yaml
var defaultYAML []byte

func init() {
	optim.Register(optim.Entry{Name: "sophia", DefaultYAML: defaultYAML, New: New})
}

type hp struct{ beta1, beta2, rho, wd float64 }

// Sophia implements optim.CurvatureEstimator.
type Sophia struct {
	groups []hp
	every  int
}

var _ optim.CurvatureEstimator = (*Sophia)(nil)

// New reads learning_rate, beta1, beta2, rho, weight_decay and hessian_update_interval.
func New(s optim.Settings) (optim.Optimizer, error) {
	h, err := optim.NewHyper(s, defaultYAML)
	if err != nil {
		return nil, err
	}
	h.Float("learning_rate", optim.NonNegative)
	o := &Sophia{every: h.Int("hessian_update_interval", 0)}
	for _, g := range s.Groups {
		gh := h.Group(g)
		o.groups = append(o.groups, hp{
			beta1: gh.Float("beta1", optim.Beta),
			beta2: gh.Float("beta2", optim.Beta),
			rho:   gh.Float("rho", optim.NonNegative),
			wd:    gh.Float("weight_decay", optim.NonNegative) * g.WDMultiplier,
		})
	}
	if err := h.Err(); err != nil {
		return nil, err
	}
	return o, nil
}

// HessianEvery is hessian_update_interval.
func (o *Sophia) HessianEvery() int { return o.every }

// Update: θ ← θ(1 − lr·λ); m ← β1 m + (1−β1) g;
// θ ← θ − lr·sign(m)·min(|m| / (ρ·h + 1e-15), 1), h the state "hessian" (batch size folded in,
// see UpdateHessian). Before the first Hessian update h = 0 and the step is lr·sign(m).
func (o *Sophia) Update(ctx *context.Context, in optim.StepInputs, params []optim.Param, grads []*Node) {
	for i, p := range params {
		c := o.groups[p.Group]
		theta := p.Var.ValueGraph(in.Step.Graph())
		g := theta.Graph()
		dt := theta.DType()
		grad := optim.AsDType(grads[i], dt)
		lr := optim.GroupLR(in, p.Group, dt)
		mVar := optim.ZerosState(ctx, p, "exp_avg")
		hess := optim.ZerosState(ctx, p, "hessian").ValueGraph(g)
		if c.wd != 0 {
			theta = Mul(theta, OneMinus(MulScalar(lr, c.wd)))
		}
		m := Add(MulScalar(mVar.ValueGraph(g), c.beta1), MulScalar(grad, 1-c.beta1))
		mVar.SetValueGraph(m)
		ratio := Min(Div(Abs(m), AddScalar(MulScalar(hess, c.rho), 1e-15)), optim.Scalar(g, dt, 1))
		theta = Sub(theta, Mul(lr, Mul(Sign(m), ratio)))
		optim.SetParam(p, theta)
	}
}

// UpdateHessian folds one Gauss-Newton-Bartlett estimate into the EMA:
// h ← β2 h + (1−β2)·B·ĝ⊙ĝ, ĝ the gradient of the mean loss on sampled labels and B the
// number of terms it averages. The official SophiaG keeps the EMA of ĝ⊙ĝ and multiplies by B
// (its `bs`) in the step; folding B in here is the same for a fixed B and keeps the
// checkpointed state self-contained.
func (o *Sophia) UpdateHessian(ctx *context.Context, in optim.StepInputs, params []optim.Param, h optim.HessianInputs) {
	for i, p := range params {
		c := o.groups[p.Group]
		g := in.Step.Graph()
		hVar := optim.ZerosState(ctx, p, "hessian")
		dt := hVar.DType()
		sg := optim.AsDType(h.Grads[i], dt)
		bs := optim.AsDType(h.BatchSize, dt)
		hess := Add(MulScalar(hVar.ValueGraph(g), c.beta2), Mul(MulScalar(bs, 1-c.beta2), Square(sg)))
		hVar.SetValueGraph(hess)
	}
}
