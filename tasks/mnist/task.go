// Package mnist is FOB's mnist task: a 784-128-10 MLP on MNIST digits (docs/fob-behaviour.md §5.2), trained with
// a correct softmax cross-entropy loss.
package mnist

import (
	_ "embed"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/tasks"
	"github.com/gomlx/gomlx/pkg/core/graph"
	gctx "github.com/gomlx/gomlx/pkg/ml/context"
)

//go:embed default.yaml
var defaultYAML []byte

// Task is the mnist task.
type Task struct{}

func init() { tasks.Register(Task{}) }

// Name implements tasks.Task.
func (Task) Name() string { return "mnist" }

// DefaultYAML implements tasks.Task.
func (Task) DefaultYAML() []byte { return defaultYAML }

// Signature is X float32[batch,784] → logits float32[batch,10].
func (Task) Signature() onnx.Signature {
	return onnx.Signature{
		Inputs:  []onnx.TensorSpec{{Name: "X", DType: "float32", Dims: []int{-1, 784}, DimNames: []string{"batch", ""}}},
		Outputs: []onnx.TensorSpec{{Name: "logits", DType: "float32", Dims: []int{-1, 10}, DimNames: []string{"batch", ""}}},
	}
}

// Loss is the softmax cross-entropy of the logits against the labels. (The original applies
// NLL to softmax probabilities, a bug: see docs/differences.md.)
func (Task) Loss(_ *graph.Graph, outputs, targets map[string]*graph.Node) *graph.Node {
	return tasks.SoftmaxCrossEntropy(outputs["logits"], targets["y"], nil)
}

// NewMetrics reports <split>_loss and <split>_acc.
func (Task) NewMetrics(split string) tasks.Metrics {
	return &tasks.Classification{Split: split, Logits: "logits", Labels: "y"}
}

// SampleTargets draws labels from softmax(logits) for curvature estimates (sophia).
func (Task) SampleTargets(ctx *gctx.Context, outputs, targets map[string]*graph.Node) (map[string]*graph.Node, *graph.Node) {
	return tasks.SampleClassTargets(ctx, outputs["logits"], targets, "y", "")
}
