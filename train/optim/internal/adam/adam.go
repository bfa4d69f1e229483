// Package adam holds the Adam moment updates shared by the Adam-family optimizers, written
// exactly as torch's single-tensor Adam/AdamW so reference values agree to rounding.
package adam

import (
	"github.com/fob-go/fob/train/optim"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Moments updates p's first and second moment EMAs (state "exp_avg", "exp_avg_sq") with grad
// and returns the new values.
func Moments(ctx *context.Context, p optim.Param, grad *Node, beta1, beta2 float64) (m, v *Node) {
	mVar := optim.ZerosState(ctx, p, "exp_avg")
	vVar := optim.ZerosState(ctx, p, "exp_avg_sq")
	g := grad.Graph()
	dt := grad.DType()
	m = mVar.ValueGraph(g)
	v = vVar.ValueGraph(g)
	// torch: exp_avg.lerp_(grad, 1-beta1); exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1-beta2)
	m = Add(m, Mul(Sub(grad, m), optim.Scalar(g, dt, 1-beta1)))
	v = Add(Mul(v, optim.Scalar(g, dt, beta2)), Mul(Square(grad), optim.Scalar(g, dt, 1-beta2)))
	mVar.SetValueGraph(m)
	vVar.SetValueGraph(v)
	return m, v
}

// Step returns the Adam step lr · m̂ / (√v̂ + ε) in torch's arrangement:
// (lr / (1 − β1^k)) · m / (√v / √(1 − β2^k) + ε). The bias corrections are computed in
// float64 from the step (torch does them on the host in double precision).
func Step(m, v, lr *Node, in optim.StepInputs, beta1, beta2, eps float64) *Node {
	g := m.Graph()
	dt := m.DType()
	k := optim.StepAs(in, dtypes.Float64)
	bc1 := optim.AsDType(OneMinus(Pow(optim.Scalar(g, dtypes.Float64, beta1), k)), dt)
	bc2 := optim.AsDType(Sqrt(OneMinus(Pow(optim.Scalar(g, dtypes.Float64, beta2), k))), dt)
	denom := Add(Div(Sqrt(v), bc2), optim.Scalar(g, dt, eps))
	return Mul(Div(lr, bc1), Div(m, denom))
}
