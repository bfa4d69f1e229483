// Package translation is FOB's translation task: WMT17 English↔German with a randomly
// initialised T5-small and the T5 sentencepiece tokenizer. Training uses teacher forcing with
// label padding ignored; validation reports the loss and the corpus BLEU of greedy decodes,
// the test the loss and the BLEU of beam search (4 beams, length penalty 0.6), both decoded by
// onnxruntime from the exported model. "wmt" is the task's short name.
package translation

import (
	_ "embed"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/tasks"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
)

//go:embed default.yaml
var defaultYAML []byte

// Name is the task's name; Alias its short name.
const (
	Name  = "translation"
	Alias = "wmt"
)

// IgnoreLabel marks label positions that the loss skips (padding), as torch's ignore_index.
const IgnoreLabel = -100

// Task is the translation task.
type Task struct{}

func init() {
	tasks.Register(Task{})
	tasks.Alias(Alias, Name)
}

// Name implements tasks.Task.
func (Task) Name() string { return Name }

// DefaultYAML implements tasks.Task.
func (Task) DefaultYAML() []byte { return defaultYAML }

// Signature is HF's T5ForConditionalGeneration export: input_ids, attention_mask and
// decoder_input_ids int64[batch, len] → logits float32[batch, tgt_len, vocab].
func (Task) Signature() onnx.Signature {
	ids := func(name, length string) onnx.TensorSpec {
		return onnx.TensorSpec{Name: name, DType: "int64", Dims: []int{-1, -1}, DimNames: []string{"batch", length}}
	}
	return onnx.Signature{
		Inputs: []onnx.TensorSpec{ids("input_ids", "src_len"), ids("attention_mask", "src_len"), ids("decoder_input_ids", "tgt_len")},
		Outputs: []onnx.TensorSpec{{Name: "logits", DType: "float32", Dims: []int{-1, -1, -1},
			DimNames: []string{"batch", "tgt_len", "vocab"}}},
	}
}

// Loss is the mean cross-entropy over the target tokens whose label is not IgnoreLabel (HF's
// T5 loss with labels padded by -100).
func (Task) Loss(g *graph.Graph, outputs, targets map[string]*graph.Node) *graph.Node {
	logits, labels := outputs["logits"], targets["labels"]
	dims := logits.Shape().Dimensions
	n, vocab := dims[0]*dims[1], dims[2]
	flat := graph.Reshape(logits, n, vocab)
	lab := graph.Reshape(labels, n)
	keep := graph.NotEqual(lab, graph.Scalar(g, lab.DType(), IgnoreLabel))
	safe := graph.Where(keep, lab, graph.ZerosLike(lab))
	return tasks.SoftmaxCrossEntropy(flat, safe, graph.ConvertDType(keep, dtypes.Float32))
}

// NewMetrics reports <split>_loss (mean token cross-entropy) and, for val and test,
// <split>_bleu, which the decoding pass fills in (see GenerateMetrics).
func (Task) NewMetrics(split string) tasks.Metrics {
	return &metrics{split: split}
}
