package tabular_test

import (
	"testing"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/tabular"
	"github.com/fob-go/fob/train"
	"github.com/fob-go/fob/train/config"
	_ "github.com/fob-go/fob/train/optim/all"
	"github.com/fob-go/fob/train/traintest"
	gctx "github.com/gomlx/gomlx/pkg/ml/context"
)

// mirror is the offline copy of the real data; tests that need it skip without it.
func mirror(tb testing.TB) string { return traintest.Mirror(tb, "california_housing/cal_housing.tgz") }

// taskConfig is the task section of tabular's default.yaml.
func taskConfig(tb testing.TB) config.Map { return traintest.TaskConfig(tb, tabular.Task{}) }

// setupData loads the real data with the data folder in a temporary directory.
func setupData(tb testing.TB, seed int64) tasks.DataModule {
	return traintest.SetupData(tb, tabular.Task{}, mirror(tb), seed)
}

// stepper loads proto into a fresh GoMLX context with AdamW (lr 1e-3, weight decay 0.01).
func stepper(tb testing.TB, proto *onnxpb.ModelProto, seed int64, maxSteps int) (*train.Stepper, *train.Model, []float64, *gctx.Context) {
	return traintest.Stepper(tb, tabular.Task{}, proto, seed, config.Map{"name": "adamw_baseline",
		"learning_rate": 1e-3, "weight_decay": 0.01, "max_steps": maxSteps, "max_epochs": 1})
}
