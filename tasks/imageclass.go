package tasks

import (
	"fmt"
	"math"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/train/config"
	"github.com/gomlx/gomlx/pkg/core/graph"
	gctx "github.com/gomlx/gomlx/pkg/ml/context"
)

// SmoothedCrossEntropy is torch.nn.functional.cross_entropy(logits, labels,
// label_smoothing=smoothing) with mean reduction: each example's target is the one-hot label
// mixed with the uniform distribution, (1-ε)·onehot + ε/classes, so the loss is
// (1-ε)·(-log p_y) + ε·mean_j(-log p_j). smoothing 0 is SoftmaxCrossEntropy.
func SmoothedCrossEntropy(logits, labels *graph.Node, smoothing float64) *graph.Node {
	if smoothing == 0 {
		return SoftmaxCrossEntropy(logits, labels, nil)
	}
	classes := logits.Shape().Dimensions[1]
	maxes := graph.StopGradient(graph.ReduceAndKeep(logits, graph.ReduceMax, 1))
	shifted := graph.Sub(logits, maxes)
	logZ := graph.ReduceAndKeep(graph.Exp(shifted), graph.ReduceSum, 1)
	logp := graph.Sub(shifted, graph.Log(logZ)) // [n, classes]
	onehot := graph.OneHot(labels, classes, logits.DType())
	eps := smoothing / float64(classes)
	target := graph.AddScalar(graph.MulScalar(onehot, 1-smoothing), eps)
	return graph.Neg(graph.ReduceAllMean(graph.ReduceSum(graph.Mul(target, logp), 1)))
}

// CheckSmoothing validates a label_smoothing value (task.label_smoothing) as torch does: a
// probability in [0, 1].
func CheckSmoothing(v float64) error {
	if math.IsNaN(v) || v < 0 || v > 1 {
		return fmt.Errorf("task.label_smoothing = %v is out of range; use a value from 0.0 (off) to 1.0", v)
	}
	return nil
}

// TopK accumulates an image classifier's metrics on the host: the label-smoothed cross-entropy
// as the loss (as the training criterion), the argmax accuracy (<split>_acc, ties to the lowest
// class as torch.argmax) and, for each k of Ks, the top-k accuracy and error (<split>_top<k>_acc,
// <split>_top<k>_err) as sklearn.metrics.top_k_accuracy_score computes them on the softmax
// probabilities: classes ranked by probability, ties broken towards the higher class index
// (sklearn's stable argsort, reversed). Examples are weighted equally.
type TopK struct {
	Split, Logits, Labels string
	// Smoothing is the label smoothing of the reported loss.
	Smoothing float64
	// Acc adds <split>_acc.
	Acc bool
	// Ks lists the k of the top-k metrics.
	Ks []int
	// NoLoss leaves <split>_loss out.
	NoLoss bool

	n, loss, correct float64
	hits             []float64
	probs            []float32
}

// Add scores one batch.
func (c *TopK) Add(outputs map[string]tensor.Tensor, b Batch) {
	logits, labels := outputs[c.Logits], b.Targets[c.Labels]
	if c.hits == nil {
		c.hits = make([]float64, len(c.Ks))
	}
	k := logits.Shape[len(logits.Shape)-1]
	if len(c.probs) != k {
		c.probs = make([]float32, k)
	}
	for i, y := range labels.I64 {
		row := logits.F32[i*k : (i+1)*k]
		best, mx, logZ := argmaxLogSumExp(row)
		var sumLogp float64
		for _, v := range row {
			sumLogp += float64(v) - mx - logZ
		}
		nll := logZ - (float64(row[y]) - mx)
		c.loss += (1-c.Smoothing)*nll - c.Smoothing*sumLogp/float64(k)
		if int64(best) == y {
			c.correct++
		}
		if len(c.Ks) > 0 {
			// float32 softmax, as torch computes it before sklearn ranks it: probabilities of
			// nearly equal logits can tie where the logits do not.
			var zf float32
			for j, v := range row {
				c.probs[j] = float32(math.Exp(float64(v) - mx))
				zf += c.probs[j]
			}
			for j := range c.probs {
				c.probs[j] /= zf
			}
			py := c.probs[y]
			rank := 0 // classes ranked ahead of the label
			for j, p := range c.probs {
				if p > py || p == py && j > int(y) {
					rank++
				}
			}
			for ki, kk := range c.Ks {
				if rank < kk {
					c.hits[ki]++
				}
			}
		}
		c.n++
	}
}

// Result returns the metrics (NaN before any example).
func (c *TopK) Result() map[string]float64 {
	out := map[string]float64{}
	div := func(v float64) float64 {
		if c.n == 0 {
			return math.NaN()
		}
		return v / c.n
	}
	if !c.NoLoss {
		out[c.Split+"_loss"] = div(c.loss)
	}
	if c.Acc {
		out[c.Split+"_acc"] = div(c.correct)
	}
	for i, k := range c.Ks {
		var hits float64
		if c.hits != nil {
			hits = c.hits[i]
		}
		acc := div(hits)
		out[fmt.Sprintf("%s_top%d_acc", c.Split, k)] = acc
		out[fmt.Sprintf("%s_top%d_err", c.Split, k)] = 1 - acc
	}
	return out
}

// LabelSmoothing reads and validates task.label_smoothing (0 when absent, as torch's default).
func LabelSmoothing(cfg config.Map) (float64, error) {
	if _, ok := config.Get(cfg, "label_smoothing"); !ok || config.IsNull(cfg, "label_smoothing") {
		return 0, nil
	}
	v, err := config.Float(cfg, "label_smoothing")
	if err != nil {
		return 0, fmt.Errorf("task.%w; use a number from 0.0 to 1.0", err)
	}
	return v, CheckSmoothing(v)
}

// Stem is a ResNet stem convolution as FOB's image tasks configure it.
type Stem struct {
	Kernel, Stride, Padding int
	MaxPool                 bool
}

// ReadStem reads task.model.{kernel_size, padding, maxpool} and, with withStride,
// task.model.stride (classification_small has none: its stem has stride 1).
func ReadStem(cfg config.Map, withStride bool) (Stem, error) {
	s := Stem{Stride: 1}
	var err error
	if s.Kernel, err = IntInRange(cfg, "model.kernel_size", 1, 15); err != nil {
		return s, err
	}
	if withStride {
		if s.Stride, err = IntInRange(cfg, "model.stride", 1, 8); err != nil {
			return s, err
		}
	}
	if s.Padding, err = IntInRange(cfg, "model.padding", 0, s.Kernel-1); err != nil {
		return s, err
	}
	if s.MaxPool, err = config.Bool(cfg, "model.maxpool"); err != nil {
		return s, fmt.Errorf("task.%w; use true or false", err)
	}
	return s, nil
}

// ImageClassifier is an image classification task (classification, classification_small):
// images float32[batch,3,ImageSize,ImageSize] under Input, integer labels under Label, a model
// with a logits output, cross-entropy with task.label_smoothing as the loss. The zero
// Smoothing of the registered value is replaced by the run's through Configure.
type ImageClassifier struct {
	TaskName string
	Defaults []byte
	// Input and Label name the image input and the label target of the batches.
	Input, Label string
	// ImageSize is the images' height and width; Classes the number of classes.
	ImageSize, Classes int
	// ModelName is the only task.model.name the task builds.
	ModelName string
	// Build builds the model from the task section (task.model.name already checked).
	Build func(cfg config.Map, seed int64) (*onnxpb.ModelProto, error)
	// Data returns the task's data module.
	Data func(env DataEnv, cfg config.Map) (DataModule, error)
	// Ks are the top-k metrics reported; with none, <split>_acc is reported instead.
	Ks []int
	// Smoothing is the label smoothing of the loss and the reported loss.
	Smoothing float64
}

// Name implements Task.
func (c ImageClassifier) Name() string { return c.TaskName }

// DefaultYAML implements Task.
func (c ImageClassifier) DefaultYAML() []byte { return c.Defaults }

// Configure implements Configurer: it reads task.label_smoothing.
func (c ImageClassifier) Configure(cfg config.Map) (Task, error) {
	s, err := LabelSmoothing(cfg)
	if err != nil {
		return nil, err
	}
	c.Smoothing = s
	return c, nil
}

// Signature is Input float32[batch,3,ImageSize,ImageSize] → logits float32[batch,Classes].
func (c ImageClassifier) Signature() onnx.Signature {
	return onnx.Signature{
		Inputs: []onnx.TensorSpec{{Name: c.Input, DType: "float32", Dims: []int{-1, 3, c.ImageSize, c.ImageSize},
			DimNames: []string{"batch", "", "", ""}}},
		Outputs: []onnx.TensorSpec{{Name: "logits", DType: "float32", Dims: []int{-1, c.Classes}, DimNames: []string{"batch", ""}}},
	}
}

// BuildModel checks task.model.name and builds the model.
func (c ImageClassifier) BuildModel(cfg config.Map, seed int64) (*onnxpb.ModelProto, error) {
	name, err := config.String(cfg, "model.name")
	if err != nil {
		return nil, fmt.Errorf("task.%w", err)
	}
	if name != c.ModelName {
		return nil, fmt.Errorf("task.model.name = %q: %s builds %s only; set task.model.name: %s, or train your own ONNX model with -model file.onnx",
			name, c.TaskName, c.ModelName, c.ModelName)
	}
	return c.Build(cfg, seed)
}

// NewData implements Task.
func (c ImageClassifier) NewData(env DataEnv, cfg config.Map) (DataModule, error) {
	return c.Data(env, cfg)
}

// Loss is torch's cross-entropy with label_smoothing.
func (c ImageClassifier) Loss(_ *graph.Graph, outputs, targets map[string]*graph.Node) *graph.Node {
	return SmoothedCrossEntropy(outputs["logits"], targets[c.Label], c.Smoothing)
}

// NewMetrics reports <split>_loss (the training criterion) and either the top-k accuracies and
// errors (Ks) or <split>_acc.
func (c ImageClassifier) NewMetrics(split string) Metrics {
	return &TopK{Split: split, Logits: "logits", Labels: c.Label, Smoothing: c.Smoothing, Acc: len(c.Ks) == 0, Ks: c.Ks}
}

// SampleTargets draws labels from softmax(logits) for curvature estimates (sophia).
func (c ImageClassifier) SampleTargets(ctx *gctx.Context, outputs, targets map[string]*graph.Node) (map[string]*graph.Node, *graph.Node) {
	return SampleClassTargets(ctx, outputs["logits"], targets, c.Label, "")
}
