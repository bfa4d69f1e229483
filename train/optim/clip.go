package optim

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/pkg/core/graph"
)

// ValidateClip checks engine.gradient_clip_alg / gradient_clip_val before training.
func ValidateClip(alg string, val float64) error {
	if alg != "norm" && alg != "value" {
		return fmt.Errorf("engine.gradient_clip_alg = %q is not valid; valid values: norm, value", alg)
	}
	if math.IsNaN(val) || val <= 0 || math.IsInf(val, 0) {
		return fmt.Errorf("engine.gradient_clip_val = %v is out of range; valid range (0, inf) (null disables clipping)", val)
	}
	return nil
}

// ClipGradients clips gradients before the update, with torch semantics:
//   - "norm": all gradients are scaled by min(1, val / (‖g‖ + 1e-6)), ‖g‖ the global L2 norm
//     over every element of every gradient (clip_grad_norm_);
//   - "value": every element is clamped to [-val, val] (clip_grad_value_).
//
// It panics on an invalid alg or val; check them first with ValidateClip.
func ClipGradients(grads []*graph.Node, alg string, val float64) []*graph.Node {
	if err := ValidateClip(alg, val); err != nil {
		panic(err)
	}
	if len(grads) == 0 {
		return grads
	}
	out := make([]*graph.Node, len(grads))
	if alg == "value" {
		for i, g := range grads {
			out[i] = graph.ClipScalar(g, -val, val)
		}
		return out
	}
	// The norm is accumulated in the first gradient's dtype; mixed precisions are converted.
	dtype := grads[0].DType()
	var sumSq *graph.Node
	for _, g := range grads {
		s := graph.ReduceAllSum(graph.Square(AsDType(g, dtype)))
		if sumSq == nil {
			sumSq = s
		} else {
			sumSq = graph.Add(sumSq, s)
		}
	}
	norm := graph.Sqrt(sumSq)
	g0 := grads[0].Graph()
	coef := graph.Div(Scalar(g0, dtype, val), graph.AddScalar(norm, 1e-6))
	coef = graph.Min(coef, Scalar(g0, dtype, 1))
	for i, g := range grads {
		out[i] = graph.Mul(g, AsDType(coef, g.DType()))
	}
	return out
}
