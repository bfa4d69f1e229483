package optim

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// SampleCategorical draws one class per row from softmax(logits) over the last axis
// (Gumbel-max: argmax(logits + G), G standard Gumbel noise from ctx's random state) and
// returns int32 indices of logits' shape without the last axis. It is the label sampling of
// the Gauss-Newton-Bartlett estimator for cross-entropy losses (see HessianInputs); the
// samples carry no gradient.
func SampleCategorical(ctx *context.Context, logits *graph.Node) *graph.Node {
	g := logits.Graph()
	u := ctx.RandomUniform(g, logits.Shape())
	// u is in [0, 1); keep it above 0 so both logarithms stay finite.
	u = graph.MaxScalar(u, 1e-30)
	gumbel := graph.Neg(graph.Log(graph.Neg(graph.Log(u))))
	z := graph.StopGradient(graph.Add(logits, gumbel))
	return graph.ArgMax(z, -1, dtypes.Int32)
}

// SampleGaussianTargets returns prediction + N(0, 1) noise without gradient: the sampled
// targets of the Gauss-Newton-Bartlett estimator for a squared-error loss.
func SampleGaussianTargets(ctx *context.Context, prediction *graph.Node) *graph.Node {
	noise := ctx.RandomNormal(prediction.Graph(), prediction.Shape())
	return graph.StopGradient(graph.Add(prediction, noise))
}
