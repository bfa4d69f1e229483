// Package adafactor is the adafactor optimizer (Shazeer & Stern 2018, "Adafactor: Adaptive
// Learning Rates with Sublinear Memory Cost") with an external learning rate
// (relative_step false), parameter-scale step sizes (scale_parameter true) and no warmup_init,
// as FOB configures the torch_optimizer implementation.
package adafactor

import (
	_ "embed"

	"github.com/fob-go/fob/train/optim"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

//go:embed default.yaml
var defaultYAML []byte

func init() {
	optim.Register(optim.Entry{Name: "adafactor", DefaultYAML: defaultYAML, New: New})
}

type hp struct {
	beta1                         float64
	useBeta1                      bool
	wd, eps1, eps2, clip, decayRt float64
}

// Adafactor keeps factored second moments for parameters of rank ≥ 2.
type Adafactor struct {
	groups []hp
}

// New reads learning_rate, beta1 (null: no first moment), weight_decay, eps1, eps2,
// clipping_threshold and decay_rate.
func New(s optim.Settings) (optim.Optimizer, error) {
	h, err := optim.NewHyper(s, defaultYAML)
	if err != nil {
		return nil, err
	}
	h.Float("learning_rate", optim.NonNegative)
	o := &Adafactor{}
	for _, g := range s.Groups {
		gh := h.Group(g)
		var c hp
		c.beta1, c.useBeta1 = gh.OptionalFloat("beta1", optim.Beta)
		c.wd = gh.Float("weight_decay", optim.NonNegative) * g.WDMultiplier
		c.eps1 = gh.Float("eps1", optim.NonNegative)
		c.eps2 = gh.Float("eps2", optim.NonNegative)
		c.clip = gh.Float("clipping_threshold", optim.Positive)
		c.decayRt = gh.Float("decay_rate", optim.Range{Lo: -1e9, Hi: 0, HiOpen: true})
		o.groups = append(o.groups, c)
	}
	if err := h.Err(); err != nil {
		return nil, err
	}
	return o, nil
}

func rms(x *Node) *Node { return Sqrt(ReduceAllMean(Square(x))) }

// Update, per parameter at step k with group lr:
// ρ = lr·max(eps2, RMS(θ)); β2t = 1 − k^decay_rate; u = g² + eps1;
// rank ≥ 2: R ← β2t R + (1−β2t) mean_last(u), C ← β2t C + (1−β2t) mean_second_last(u),
// U = g / √((R / mean(R)) ⊗ C); otherwise v ← β2t v + (1−β2t) u, U = g / √v;
// U ← ρ·U / max(1, RMS(U)/clipping_threshold); with beta1: m ← β1 m + (1−β1) U, U = m;
// θ ← θ − weight_decay·ρ·θ − U.
func (o *Adafactor) Update(ctx *context.Context, in optim.StepInputs, params []optim.Param, grads []*Node) {
	for i, p := range params {
		c := o.groups[p.Group]
		theta := p.Var.ValueGraph(in.Step.Graph())
		g := theta.Graph()
		dt := theta.DType()
		grad := optim.AsDType(grads[i], dt)
		lr := optim.GroupLR(in, p.Group, dt)
		k := optim.StepAs(in, dt)

		rho := Mul(lr, Max(rms(theta), optim.Scalar(g, dt, c.eps2)))
		beta2t := OneMinus(Pow(k, optim.Scalar(g, dt, c.decayRt)))
		oneMinus := OneMinus(beta2t)
		u := AddScalar(Square(grad), c.eps1)
		var update *Node
		dims := theta.Shape().Dimensions
		if r := len(dims); r >= 2 {
			rowShape := shapes.Make(dt, dims[:r-1]...)
			colShape := shapes.Make(dt, append(append([]int{}, dims[:r-2]...), dims[r-1])...)
			rowVar := optim.ZerosStateShaped(ctx, p, "exp_avg_sq_row", rowShape)
			colVar := optim.ZerosStateShaped(ctx, p, "exp_avg_sq_col", colShape)
			row := Add(Mul(rowVar.ValueGraph(g), beta2t), Mul(ReduceMean(u, r-1), oneMinus))
			col := Add(Mul(colVar.ValueGraph(g), beta2t), Mul(ReduceMean(u, r-2), oneMinus))
			rowVar.SetValueGraph(row)
			colVar.SetValueGraph(col)
			rFactor := ExpandAxes(Rsqrt(Div(row, ReduceAndKeep(row, ReduceMean, -1))), -1)
			cFactor := ExpandAxes(Rsqrt(col), r-2)
			update = Mul(Mul(rFactor, cFactor), grad)
		} else {
			vVar := optim.ZerosState(ctx, p, "exp_avg_sq")
			v := Add(Mul(vVar.ValueGraph(g), beta2t), Mul(u, oneMinus))
			vVar.SetValueGraph(v)
			update = Mul(Rsqrt(v), grad)
		}
		update = Div(update, Max(DivScalar(rms(update), c.clip), optim.Scalar(g, dt, 1)))
		update = Mul(update, rho)
		if c.useBeta1 {
			mVar := optim.ZerosState(ctx, p, "exp_avg")
			m := Add(MulScalar(mVar.ValueGraph(g), c.beta1), MulScalar(update, 1-c.beta1))
			mVar.SetValueGraph(m)
			update = m
		}
		if c.wd != 0 {
			theta = Sub(theta, Mul(MulScalar(rho, c.wd), theta))
		}
		optim.SetParam(p, Sub(theta, update))
	}
}
