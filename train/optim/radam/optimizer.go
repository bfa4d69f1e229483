// Package radam is the radam optimizer: Rectified Adam as published (Liu et al. 2020, "On the
// Variance of the Adaptive Learning Rate and Beyond", Algorithm 2) and implemented by its
// authors, including the un-rectified momentum update while the variance is intractable.
package radam

import (
	_ "embed"

	"github.com/fob-go/fob/train/optim"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

//go:embed default.yaml
var defaultYAML []byte

func init() {
	optim.Register(optim.Entry{Name: "radam", DefaultYAML: defaultYAML, New: New})
}

// RhoThreshold is the length of the approximated SMA from which the adaptive (rectified)
// update is used; the authors' implementation uses 5 (the paper writes ρ_t > 4).
const RhoThreshold = 5

type hp struct{ beta1, beta2, eps, wd float64 }

// RAdam keeps per-group hyperparameters.
type RAdam struct {
	groups []hp
}

// New reads learning_rate, beta1, beta2, weight_decay, epsilon.
func New(s optim.Settings) (optim.Optimizer, error) {
	h, err := optim.NewHyper(s, defaultYAML)
	if err != nil {
		return nil, err
	}
	h.Float("learning_rate", optim.NonNegative)
	o := &RAdam{}
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

// Update: m, v Adam EMAs; ρ∞ = 2/(1−β2) − 1, ρ_k = ρ∞ − 2kβ2^k/(1−β2^k); θ ← θ(1 − lr·λ);
// if ρ_k ≥ 5: θ ← θ − lr·r_k·m/(√v + ε) with
// r_k = √((1−β2^k)(ρ_k−4)(ρ_k−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρ_k)) / (1−β1^k);
// else θ ← θ − lr·m/(1−β1^k) (SGD with bias-corrected momentum).
func (o *RAdam) Update(ctx *context.Context, in optim.StepInputs, params []optim.Param, grads []*Node) {
	for i, p := range params {
		c := o.groups[p.Group]
		theta := p.Var.ValueGraph(in.Step.Graph())
		g := theta.Graph()
		dt := theta.DType()
		grad := optim.AsDType(grads[i], dt)
		lr := optim.GroupLR(in, p.Group, dt)
		// Scalar coefficients in float64 (as the reference does on the host): ρ_k near the
		// threshold would otherwise round across it in float32.
		k := optim.StepAs(in, dtypes.Float64)

		mVar := optim.ZerosState(ctx, p, "exp_avg")
		vVar := optim.ZerosState(ctx, p, "exp_avg_sq")
		m := Add(MulScalar(mVar.ValueGraph(g), c.beta1), MulScalar(grad, 1-c.beta1))
		v := Add(MulScalar(vVar.ValueGraph(g), c.beta2), MulScalar(Square(grad), 1-c.beta2))
		mVar.SetValueGraph(m)
		vVar.SetValueGraph(v)

		f64 := func(v float64) *Node { return optim.Scalar(g, dtypes.Float64, v) }
		b2k := Pow(f64(c.beta2), k)
		bc1 := OneMinus(Pow(f64(c.beta1), k))
		rhoInf := 2/(1-c.beta2) - 1
		rho := Sub(f64(rhoInf), Div(MulScalar(Mul(k, b2k), 2), OneMinus(b2k)))
		// Clamped so the unused branch stays finite while ρ_k < 4.
		num := Mul(Mul(OneMinus(b2k), MaxScalar(AddScalar(rho, -4), 0)), Mul(AddScalar(rho, -2), f64(rhoInf)))
		den := MulScalar(rho, (rhoInf-4)*(rhoInf-2))
		r := optim.AsDType(Div(Sqrt(Div(num, den)), bc1), dt)
		adaptive := Mul(r, Div(m, AddScalar(Sqrt(v), c.eps)))
		sgd := Div(m, optim.AsDType(bc1, dt))
		rectified := GreaterOrEqual(rho, f64(RhoThreshold))
		if c.wd != 0 {
			theta = Mul(theta, OneMinus(MulScalar(lr, c.wd)))
		}
		theta = Sub(theta, Mul(lr, Where(rectified, adaptive, sgd)))
		optim.SetParam(p, theta)
	}
}
