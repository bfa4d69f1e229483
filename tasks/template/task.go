// Package template is the starting point for a new task: copy this folder to tasks/<name>/,
// rename the package, and replace the model, the data and the loss. It mirrors FOB's template
// task: a tiny MLP learns the identity on 100 random scalars (docs/fob-behaviour.md §5.11).
//
// A task is four Go files and a YAML file:
//   - task.go     registers the task and defines its loss and metrics (this file);
//   - model.go    builds the model as an ONNX graph (models/ has builders to reuse);
//   - data.go     prepares (downloads/verifies) and loads the data, split by seed;
//   - default.yaml the task's defaults: task.* keys and overrides of engine/optimizer/evaluation;
//   - README.md   what the task is and the baseline measured with fob.
//
// Finally add a blank import of the new package to tasks/all/all.go.
package template

import (
	_ "embed"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/tasks"
	"github.com/gomlx/gomlx/pkg/core/graph"
	gctx "github.com/gomlx/gomlx/pkg/ml/context"
)

// The defaults are embedded, so the binary carries them and `fob run` needs no source tree.
//
//go:embed default.yaml
var defaultYAML []byte

// Task is the template task. It is stateless: everything a run needs comes from its config.
type Task struct{}

// init registers the task under its folder name, which is what task.name refers to.
func init() { tasks.Register(Task{}) }

// Name implements tasks.Task; it must equal the folder name and task.name in default.yaml.
func (Task) Name() string { return "template" }

// DefaultYAML implements tasks.Task.
func (Task) DefaultYAML() []byte { return defaultYAML }

// Signature declares the model's inputs and outputs: an external ONNX model given with
// task.model.onnx=FILE must have the same names, element types and shapes. -1 with a dim name
// marks a symbolic axis (the batch).
func (Task) Signature() onnx.Signature {
	return onnx.Signature{
		Inputs:  []onnx.TensorSpec{{Name: "x", DType: "float32", Dims: []int{-1, 1}, DimNames: []string{"batch", ""}}},
		Outputs: []onnx.TensorSpec{{Name: "y", DType: "float32", Dims: []int{-1, 1}, DimNames: []string{"batch", ""}}},
	}
}

// Loss builds the training loss in the GoMLX graph from the model outputs and the batch
// targets (keyed by the names data.go uses). It must return a scalar.
func (Task) Loss(_ *graph.Graph, outputs, targets map[string]*graph.Node) *graph.Node {
	return tasks.MeanSquaredError(outputs["y"], targets["target"])
}

// NewMetrics returns the host-side metrics for a split. Names carry the split prefix
// (val_loss, test_loss); task.target_metric must be one of the validation names.
func (Task) NewMetrics(split string) tasks.Metrics {
	return &tasks.Regression{Split: split, Pred: "y", Target: "target"}
}

// SampleTargets draws targets from N(prediction, 1), the model's predictive distribution under
// an MSE loss; optimizers that estimate curvature (sophia) use it. Optional for a new task.
func (Task) SampleTargets(ctx *gctx.Context, outputs, targets map[string]*graph.Node) (map[string]*graph.Node, *graph.Node) {
	return tasks.SampleRegressionTargets(ctx, outputs["y"], targets, "target")
}
