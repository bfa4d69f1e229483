package graph_tiny_test

import (
	"context"
	"os"
	"testing"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/graph_tiny"
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
		tb.Skip("FOB_DATA_MIRROR is not set: the real Cora files are needed")
	}
	if _, err := os.Stat(m + "/cora/ind.cora.graph"); err != nil {
		tb.Skipf("FOB_DATA_MIRROR=%s lacks cora/ind.cora.graph", m)
	}
	return m
}

// taskConfig is the task section of graph_tiny's default.yaml.
func taskConfig(tb testing.TB) config.Map {
	tb.Helper()
	m, err := config.ParseMap(graph_tiny.Task{}.DefaultYAML(), "default.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	return config.Sub(m, "task")
}

// setupData loads Cora with the data folder in a temporary directory.
func setupData(tb testing.TB) tasks.DataModule {
	tb.Helper()
	dm, err := graph_tiny.Task{}.NewData(tasks.DataEnv{DataDir: tb.TempDir(), Mirror: mirror(tb)}, taskConfig(tb))
	if err != nil {
		tb.Fatal(err)
	}
	if err := dm.Setup(context.Background(), 1); err != nil {
		tb.Fatal(err)
	}
	return dm
}

// stepper loads proto into a fresh GoMLX context with graph_tiny's AdamW (lr 0.1, wd 1e-3).
func stepper(tb testing.TB, proto *onnxpb.ModelProto, seed int64) (*train.Stepper, *train.Model, []float64, *gctx.Context) {
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
	optCfg := config.Map{"name": "adamw_baseline", "learning_rate": 0.1, "beta1": 0.9, "beta2": 0.999,
		"weight_decay": 1e-3, "epsilon": 1e-8, "max_steps": 50, "max_epochs": 50}
	opt, err := entry.New(optim.Settings{Config: optCfg, Groups: groups})
	if err != nil {
		tb.Fatal(err)
	}
	st, err := train.NewStepper(train.StepperConfig{Backend: backend, Context: gc, Model: model,
		Task: graph_tiny.Task{}, Optimizer: opt, Params: params})
	if err != nil {
		tb.Fatal(err)
	}
	lrs := make([]float64, len(groups))
	for i := range lrs {
		lrs[i] = 0.1
	}
	return st, model, lrs, gc
}
