package graph_tiny_test

import (
	"testing"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/graph_tiny"
	"github.com/fob-go/fob/train"
	"github.com/fob-go/fob/train/config"
	_ "github.com/fob-go/fob/train/optim/all"
	"github.com/fob-go/fob/train/traintest"
	gctx "github.com/gomlx/gomlx/pkg/ml/context"
)

// mirror is the offline copy of the real data; tests that need it skip without it.
func mirror(tb testing.TB) string { return traintest.Mirror(tb, "cora/ind.cora.graph") }

// taskConfig is the task section of graph_tiny's default.yaml.
func taskConfig(tb testing.TB) config.Map { return traintest.TaskConfig(tb, graph_tiny.Task{}) }

// setupData loads the real data with the data folder in a temporary directory.
func setupData(tb testing.TB) tasks.DataModule {
	return traintest.SetupData(tb, graph_tiny.Task{}, mirror(tb), 1)
}

// stepper loads proto into a fresh GoMLX context with AdamW (lr 0.1, weight decay 1e-3).
func stepper(tb testing.TB, proto *onnxpb.ModelProto, seed int64) (*train.Stepper, *train.Model, []float64, *gctx.Context) {
	return traintest.Stepper(tb, graph_tiny.Task{}, proto, seed, config.Map{"name": "adamw_baseline",
		"learning_rate": 0.1, "weight_decay": 1e-3, "max_steps": 50, "max_epochs": 50})
}
