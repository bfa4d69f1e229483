package tabular_test

import (
	"context"
	"os"
	"testing"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/tabular"
	"github.com/fob-go/fob/train"
	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/optim"
	_ "github.com/fob-go/fob/train/optim/all"
	gctx "github.com/gomlx/gomlx/pkg/ml/context"
)

// mirror is the offline copy of the real data ($FOB_DATA_MIRROR); tests that need the real
// files skip without it.
func mirror(tb testing.TB) string {
	tb.Helper()
	m := os.Getenv("FOB_DATA_MIRROR")
	if m == "" {
		tb.Skip("FOB_DATA_MIRROR is not set: the real California Housing files are needed")
	}
	if _, err := os.Stat(m + "/california_housing/cal_housing.tgz"); err != nil {
		tb.Skipf("FOB_DATA_MIRROR=%s lacks california_housing/cal_housing.tgz", m)
	}
	return m
}

// taskConfig is the task section of tabular's default.yaml.
func taskConfig(tb testing.TB) config.Map {
	tb.Helper()
	m, err := config.ParseMap(tabular.Task{}.DefaultYAML(), "default.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	return config.Sub(m, "task")
}

// setupData loads the real data, split by seed, with the data folder in a temporary directory.
func setupData(tb testing.TB, seed int64) tasks.DataModule {
	tb.Helper()
	dm, err := tabular.Task{}.NewData(tasks.DataEnv{DataDir: tb.TempDir(), Mirror: mirror(tb)}, taskConfig(tb))
	if err != nil {
		tb.Fatal(err)
	}
	if err := dm.Setup(context.Background(), seed); err != nil {
		tb.Fatal(err)
	}
	return dm
}

// stepper loads proto into a fresh GoMLX context with an AdamW optimizer (FOB's defaults,
// lr 1e-3, wd 0.01) over maxSteps steps.
func stepper(tb testing.TB, proto *onnxpb.ModelProto, seed int64, maxSteps int) (*train.Stepper, *train.Model, []float64, *gctx.Context) {
	tb.Helper()
	backend, err := runtime.NewBackend("")
	if err != nil {
		tb.Fatal(err)
	}
	gc := gctx.New()
	if err := gc.SetRNGStateFromSeed(seed); err != nil {
		tb.Fatal(err)
	}
	model, err := train.LoadModel(gc, proto)
	if err != nil {
		tb.Fatal(err)
	}
	groups, params, err := model.Groups()
	if err != nil {
		tb.Fatal(err)
	}
	entry, err := optim.Get("adamw_baseline")
	if err != nil {
		tb.Fatal(err)
	}
	optCfg := config.Map{"name": "adamw_baseline", "learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999,
		"weight_decay": 0.01, "epsilon": 1e-8, "max_steps": maxSteps, "max_epochs": 1}
	opt, err := entry.New(optim.Settings{Config: optCfg, Groups: groups})
	if err != nil {
		tb.Fatal(err)
	}
	st, err := train.NewStepper(train.StepperConfig{Backend: backend, Context: gc, Model: model,
		Task: tabular.Task{}, Optimizer: opt, Params: params})
	if err != nil {
		tb.Fatal(err)
	}
	lrs := make([]float64, len(groups))
	for i := range lrs {
		lrs[i] = 1e-3
	}
	return st, model, lrs, gc
}
