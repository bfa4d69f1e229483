// Package traintest holds helpers for tests that train a task's model: the real data from the
// offline mirror, a task's default config, and a ready Stepper.
package traintest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train"
	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/optim"
	gctx "github.com/gomlx/gomlx/pkg/ml/context"
)

// Mirror returns the offline copy of the real data ($FOB_DATA_MIRROR); the test is skipped
// when it is unset or lacks file (a path inside it, e.g. "cora/ind.cora.graph").
func Mirror(tb testing.TB, file string) string {
	tb.Helper()
	m := os.Getenv("FOB_DATA_MIRROR")
	if m == "" {
		tb.Skipf("FOB_DATA_MIRROR is not set: the real %s is needed", file)
	}
	if _, err := os.Stat(filepath.Join(m, file)); err != nil {
		tb.Skipf("FOB_DATA_MIRROR=%s lacks %s", m, file)
	}
	return m
}

// TaskConfig is the task section of t's default.yaml.
func TaskConfig(tb testing.TB, t tasks.Task) config.Map {
	tb.Helper()
	m, err := config.ParseMap(t.DefaultYAML(), "tasks/"+t.Name()+"/default.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	return config.Sub(m, "task")
}

// SetupData builds t's data module with its default config and a temporary data folder, reading
// the mirror, and sets it up with seed.
func SetupData(tb testing.TB, t tasks.Task, mirror string, seed int64) tasks.DataModule {
	tb.Helper()
	dm, err := t.NewData(tasks.DataEnv{DataDir: tb.TempDir(), Mirror: mirror}, TaskConfig(tb, t))
	if err != nil {
		tb.Fatal(err)
	}
	if err := dm.Setup(context.Background(), seed); err != nil {
		tb.Fatal(err)
	}
	return dm
}

// Stepper loads proto into a fresh GoMLX context seeded with seed and prepares t's train step
// with the optimizer opt (an optimizer section: name, learning_rate, ..., max_steps, max_epochs;
// missing hyperparameters take the optimizer's defaults). It returns the stepper, the model,
// every parameter group's learning rate (learning_rate × multiplier) and the context.
func Stepper(tb testing.TB, t tasks.Task, proto *onnxpb.ModelProto, seed int64, opt config.Map) (*train.Stepper, *train.Model, []float64, *gctx.Context) {
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
	name, err := config.String(opt, "name")
	if err != nil {
		tb.Fatal(err)
	}
	entry, err := optim.Get(name)
	if err != nil {
		tb.Fatal(err)
	}
	o, err := entry.New(optim.Settings{Config: opt, Groups: groups})
	if err != nil {
		tb.Fatal(err)
	}
	st, err := train.NewStepper(train.StepperConfig{Backend: backend, Context: gc, Model: model,
		Task: t, Optimizer: o, Params: params})
	if err != nil {
		tb.Fatal(err)
	}
	// As the trainer does: a self-scheduling optimizer gets the bare multipliers.
	lr, err := config.Float(opt, "learning_rate")
	if err != nil || optim.IsSelfScheduling(o) {
		lr = 1
	}
	lrs := optim.Multipliers(groups)
	for i := range lrs {
		lrs[i] *= lr
	}
	return st, model, lrs, gc
}
