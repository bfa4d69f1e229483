// Package tabular is FOB's tabular task (docs/fob-behaviour.md §5.8): an FT-Transformer regresses the median
// house value of California Housing districts from their 8 numeric features. Targets are
// standardized with the training mean and standard deviation; the loss is the mean squared
// error, and rmse and r2_score are reported on the standardized targets, as the original does.
package tabular

import (
	_ "embed"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/tasks"
	"github.com/gomlx/gomlx/pkg/core/graph"
)

//go:embed default.yaml
var defaultYAML []byte

// NFeatures is the number of California Housing features the model reads.
const NFeatures = 8

// Task is the tabular task.
type Task struct{}

func init() { tasks.Register(Task{}) }

// Name implements tasks.Task.
func (Task) Name() string { return "tabular" }

// DefaultYAML implements tasks.Task.
func (Task) DefaultYAML() []byte { return defaultYAML }

// Signature is X float32[batch,8] → prediction float32[batch,1].
func (Task) Signature() onnx.Signature {
	return onnx.Signature{
		Inputs:  []onnx.TensorSpec{{Name: "X", DType: "float32", Dims: []int{-1, NFeatures}, DimNames: []string{"batch", ""}}},
		Outputs: []onnx.TensorSpec{{Name: "prediction", DType: "float32", Dims: []int{-1, 1}, DimNames: []string{"batch", ""}}},
	}
}

// Loss is the mean squared error of the prediction against the standardized target "y".
func (Task) Loss(_ *graph.Graph, outputs, targets map[string]*graph.Node) *graph.Node {
	return tasks.MeanSquaredError(outputs["prediction"], targets["y"])
}

// NewMetrics reports <split>_loss (MSE), <split>_rmse and <split>_r2_score over the split.
func (Task) NewMetrics(split string) tasks.Metrics {
	return &tasks.Regression{Split: split, Pred: "prediction", Target: "y", Scores: true}
}
