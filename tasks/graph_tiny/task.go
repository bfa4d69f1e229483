// Package graph_tiny is FOB's graph_tiny task (docs/fob-behaviour.md §5.7): node classification on the Cora
// citation graph (2,708 papers, 7 topics) with a two-layer graph convolutional network, trained
// on the whole graph at once with the public Planetoid split (140 training, 500 validation and
// 1,000 test nodes). The loss and accuracy count only the nodes of the split's mask.
package graph_tiny

import (
	_ "embed"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/tasks"
	"github.com/gomlx/gomlx/pkg/core/graph"
)

//go:embed default.yaml
var defaultYAML []byte

// Cora's sizes.
const (
	NumFeatures = 1433
	NumClasses  = 7
)

// Task is the graph_tiny task.
type Task struct{}

func init() { tasks.Register(Task{}) }

// Name implements tasks.Task.
func (Task) Name() string { return "graph_tiny" }

// DefaultYAML implements tasks.Task.
func (Task) DefaultYAML() []byte { return defaultYAML }

// Signature is PyG's: x float32[nodes,1433] and edge_index int64[2,edges] (sources, then
// targets; no self loops) → log_probs float32[nodes,7].
func (Task) Signature() onnx.Signature {
	return onnx.Signature{
		Inputs: []onnx.TensorSpec{
			{Name: "x", DType: "float32", Dims: []int{-1, NumFeatures}, DimNames: []string{"nodes", ""}},
			{Name: "edge_index", DType: "int64", Dims: []int{2, -1}, DimNames: []string{"", "edges"}},
		},
		Outputs: []onnx.TensorSpec{{Name: "log_probs", DType: "float32", Dims: []int{-1, NumClasses}, DimNames: []string{"nodes", ""}}},
	}
}

// Loss is the cross-entropy over the nodes of the split's mask (the model's log-softmax output
// serves as logits: log-softmax leaves log-probabilities unchanged).
func (Task) Loss(_ *graph.Graph, outputs, targets map[string]*graph.Node) *graph.Node {
	return tasks.SoftmaxCrossEntropy(outputs["log_probs"], targets["y"], targets["mask"])
}

// NewMetrics reports <split>_loss and <split>_acc over the masked nodes.
func (Task) NewMetrics(split string) tasks.Metrics {
	return &tasks.Classification{Split: split, Logits: "log_probs", Labels: "y", Mask: "mask"}
}
