package tasks

import (
	"maps"
	"math"

	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/train/optim"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	gctx "github.com/gomlx/gomlx/pkg/ml/context"
)

// SoftmaxCrossEntropy is the mean cross-entropy of logits [n, classes] against integer labels
// [n], optionally weighted per example by mask [n] (1 = counted), as torch's cross_entropy.
func SoftmaxCrossEntropy(logits, labels, mask *graph.Node) *graph.Node {
	g := logits.Graph()
	classes := logits.Shape().Dimensions[1]
	maxes := graph.StopGradient(graph.ReduceAndKeep(logits, graph.ReduceMax, 1))
	shifted := graph.Sub(logits, maxes)
	logZ := graph.Log(graph.ReduceSum(graph.Exp(shifted), 1))
	onehot := graph.OneHot(labels, classes, logits.DType())
	picked := graph.ReduceSum(graph.Mul(shifted, onehot), 1)
	nll := graph.Sub(logZ, picked)
	if mask == nil {
		return graph.ReduceAllMean(nll)
	}
	mask = graph.ConvertDType(mask, logits.DType())
	return graph.Div(graph.ReduceAllSum(graph.Mul(nll, mask)), graph.Max(graph.ReduceAllSum(mask), graph.ScalarOne(g, logits.DType())))
}

// SampleClassTargets replaces targets[labels] by labels drawn from softmax(logits) (a
// TargetSampler for classification); with a mask target only masked examples count as terms.
func SampleClassTargets(ctx *gctx.Context, logits *graph.Node, targets map[string]*graph.Node, labels, mask string) (map[string]*graph.Node, *graph.Node) {
	out := maps.Clone(targets)
	out[labels] = optim.SampleCategorical(ctx, logits)
	terms := graph.Scalar(logits.Graph(), dtypes.Float32, float64(logits.Shape().Dimensions[0]))
	if mask != "" {
		terms = graph.ReduceAllSum(graph.ConvertDType(targets[mask], dtypes.Float32))
	}
	return out, terms
}

// SampleRegressionTargets replaces targets[target] by prediction + N(0, 1) noise (a
// TargetSampler for squared-error losses).
func SampleRegressionTargets(ctx *gctx.Context, pred *graph.Node, targets map[string]*graph.Node, target string) (map[string]*graph.Node, *graph.Node) {
	out := maps.Clone(targets)
	out[target] = optim.SampleGaussianTargets(ctx, pred)
	return out, graph.Scalar(pred.Graph(), dtypes.Float32, float64(pred.Shape().Size()))
}

// MeanSquaredError is the mean of (pred - target)² over all elements.
func MeanSquaredError(pred, target *graph.Node) *graph.Node {
	if target.DType() != pred.DType() {
		target = graph.ConvertDType(target, pred.DType())
	}
	d := graph.Sub(pred, graph.Reshape(target, pred.Shape().Dimensions...))
	return graph.ReduceAllMean(graph.Mul(d, d))
}

// Classification accumulates the cross-entropy loss and accuracy of logits against integer
// labels on the host, weighting examples equally (the batch-size-weighted epoch mean of the
// original). With a mask target, only examples whose mask is non-zero count.
type Classification struct {
	Split          string
	Logits, Labels string // output and target names
	Mask           string // optional target name of a 0/1 mask
	n              float64
	loss, correct  float64
}

// Add scores one batch.
func (c *Classification) Add(outputs map[string]tensor.Tensor, b Batch) {
	logits, labels := outputs[c.Logits], b.Targets[c.Labels]
	var mask tensor.Tensor
	if c.Mask != "" {
		mask = b.Targets[c.Mask]
	}
	k := logits.Shape[len(logits.Shape)-1]
	for i, y := range labels.I64 {
		if mask.F32 != nil && mask.F32[i] == 0 || mask.I64 != nil && mask.I64[i] == 0 {
			continue
		}
		row := logits.F32[i*k : (i+1)*k]
		best, mx, logZ := argmaxLogSumExp(row)
		c.loss += logZ - (float64(row[y]) - mx)
		if int64(best) == y {
			c.correct++
		}
		c.n++
	}
}

// argmaxLogSumExp returns a logits row's argmax (ties to the lowest index, as torch.argmax),
// its maximum and log Σ exp(v - max), in float64: -log softmax(row)[y] is logZ - (row[y] - mx).
func argmaxLogSumExp(row []float32) (best int, mx, logZ float64) {
	mx = math.Inf(-1)
	for j, v := range row {
		if float64(v) > mx {
			best, mx = j, float64(v)
		}
	}
	var z float64
	for _, v := range row {
		z += math.Exp(float64(v) - mx)
	}
	return best, mx, math.Log(z)
}

// Result returns <split>_loss and <split>_acc (NaN before any example).
func (c *Classification) Result() map[string]float64 {
	if c.n == 0 {
		return map[string]float64{c.Split + "_loss": math.NaN(), c.Split + "_acc": math.NaN()}
	}
	return map[string]float64{c.Split + "_loss": c.loss / c.n, c.Split + "_acc": c.correct / c.n}
}

// Regression accumulates the mean squared error of a prediction output against a float target
// on the host; with Scores it also reports <split>_rmse and <split>_r2_score (coefficient of
// determination over the whole split, as sklearn's r2_score).
type Regression struct {
	Split        string
	Pred, Target string
	Scores       bool
	n, sse       float64
	sum, sumSq   float64
}

// Add scores one batch.
func (r *Regression) Add(outputs map[string]tensor.Tensor, b Batch) {
	pred, target := outputs[r.Pred], b.Targets[r.Target]
	for i, t := range target.F32 {
		d := float64(pred.F32[i]) - float64(t)
		r.sse += d * d
		r.sum += float64(t)
		r.sumSq += float64(t) * float64(t)
		r.n++
	}
}

// Result returns <split>_loss (the MSE) and, with Scores, _rmse and _r2_score.
func (r *Regression) Result() map[string]float64 {
	out := map[string]float64{r.Split + "_loss": math.NaN()}
	if r.Scores {
		out[r.Split+"_rmse"], out[r.Split+"_r2_score"] = math.NaN(), math.NaN()
	}
	if r.n == 0 {
		return out
	}
	mse := r.sse / r.n
	out[r.Split+"_loss"] = mse
	if r.Scores {
		out[r.Split+"_rmse"] = math.Sqrt(mse)
		ssTot := r.sumSq - r.sum*r.sum/r.n
		out[r.Split+"_r2_score"] = 1 - r.sse/ssTot
	}
	return out
}
