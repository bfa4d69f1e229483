package train_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/fob-go/fob/eval"
	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/runtime"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	_ "github.com/fob-go/fob/tasks/all"
	"github.com/fob-go/fob/train"
	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/experiment"
	_ "github.com/fob-go/fob/train/optim/all"
	gctx "github.com/gomlx/gomlx/pkg/ml/context"
)

// resolve parses a one-run experiment given as overrides of an empty experiment.
func resolve(t testing.TB, overrides ...string) experiment.Run {
	t.Helper()
	exp, err := experiment.ParseBytes([]byte("{}"), "test", overrides, experiment.RegistryCatalog())
	if err != nil {
		t.Fatal(err)
	}
	if len(exp.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(exp.Runs))
	}
	return exp.Runs[0]
}

func quiet() train.Options {
	return train.Options{Progress: discard{}}
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// shortMNIST is a 2-epoch mnist run restricted to few steps so tests stay fast.
func shortMNIST(t testing.TB, dir string, extra ...string) experiment.Run {
	args := append([]string{"task.name=mnist", "optimizer.name=adamw_baseline", "task.max_steps=60",
		"engine.output_dir=" + dir, "engine.silent=true", "engine.data_dir=" + dataDir(t)}, extra...)
	return resolve(t, args...)
}

var (
	dataOnce sync.Once
	dataPath string
)

// dataDir is one data folder shared by the tests of this package, so MNIST is fetched once.
func dataDir(t testing.TB) string {
	dataOnce.Do(func() {
		dataPath = filepath.Join(os.TempDir(), "fob-test-data")
	})
	return dataPath
}

func readResults(t *testing.T, path string) map[string]float64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var res []map[string]float64
	if err := json.Unmarshal(b, &res); err != nil || len(res) != 1 {
		t.Fatalf("%s: %v %v", path, err, res)
	}
	return res[0]
}

// TestTrainEvalAgree trains briefly, then checks that scoring best.onnx again reproduces
// results_best_model.json exactly and that GoMLX and onnxruntime give the same test logits.
func TestTrainEvalAgree(t *testing.T) {
	dir := t.TempDir()
	run := shortMNIST(t, dir)
	scores, err := train.Run(context.Background(), run.Config, run.Dir, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if scores.Steps != 60 {
		t.Errorf("steps = %d, want 60", scores.Steps)
	}
	best := readResults(t, filepath.Join(run.Dir, "results_best_model.json"))
	if best["test_acc"] < 0.8 {
		t.Errorf("test_acc after 60 steps = %v, want > 0.8", best["test_acc"])
	}

	// fob eval's path: the checkpoint's metadata names the task, its config and seed.
	bestPath := filepath.Join(run.Dir, "checkpoints", "best.onnx")
	ck, err := eval.ReadCheckpoint(bestPath, "")
	if err != nil {
		t.Fatal(err)
	}
	dm, err := ck.Task.NewData(tasks.DataEnv{DataDir: dataDir(t), Mirror: os.Getenv("FOB_DATA_MIRROR")}, ck.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := dm.Setup(ctx, ck.Seed); err != nil {
		t.Fatal(err)
	}
	var ortLogits []tensor.Tensor
	var batches []tasks.Batch
	again, _, err := eval.Outputs(ctx, eval.Request{Task: ck.Task, Data: dm, Split: "test", Path: bestPath, BatchSize: 512},
		func(b tasks.Batch, out map[string]tensor.Tensor) {
			batches = append(batches, b)
			ortLogits = append(ortLogits, out["logits"])
		})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range best {
		if again[k] != v {
			t.Errorf("re-scored %s = %v, results_best_model.json has %v", k, again[k], v)
		}
	}

	// GoMLX forward of the same file.
	proto, err := onnx.Load(bestPath)
	if err != nil {
		t.Fatal(err)
	}
	backend, err := runtime.NewBackend("")
	if err != nil {
		t.Fatal(err)
	}
	gc := gctx.New()
	model, err := train.LoadModel(gc, proto)
	if err != nil {
		t.Fatal(err)
	}
	st, err := train.NewStepper(train.StepperConfig{Backend: backend, Context: gc, Model: model, Task: ck.Task})
	if err != nil {
		t.Fatal(err)
	}
	var maxDiff float64
	for i, b := range batches {
		out, err := st.Forward(b)
		if err != nil {
			t.Fatal(err)
		}
		for j, v := range out["logits"].F32 {
			maxDiff = math.Max(maxDiff, math.Abs(float64(v-ortLogits[i].F32[j])))
		}
	}
	t.Logf("max |GoMLX - onnxruntime| over %d test batches: %.3g", len(batches), maxDiff)
	if maxDiff > 1e-4 {
		t.Errorf("GoMLX and onnxruntime test logits differ by %g, want <= 1e-4", maxDiff)
	}
}

// TestNaNLossStops checks that a diverging run stops with a message naming the step and keeps
// what it wrote.
func TestNaNLossStops(t *testing.T) {
	dir := t.TempDir()
	run := shortMNIST(t, dir, "optimizer.name=sgd_baseline", "optimizer.learning_rate=1.e+30", "task.max_steps=300",
		"optimizer.lr_scheduler.warmup_steps=0")
	_, err := train.Run(context.Background(), run.Config, run.Dir, quiet())
	if !errors.Is(err, train.ErrNonFinite) {
		t.Fatalf("err = %v, want a non-finite loss error", err)
	}
	if !strings.Contains(err.Error(), "at step ") {
		t.Errorf("error does not name the step: %v", err)
	}
	if _, err := os.Stat(filepath.Join(run.Dir, "csv_logs", "metrics.csv")); err != nil {
		t.Errorf("metrics written so far are gone: %v", err)
	}
}

// TestExternalModel trains an MLP exported by PyTorch (onnx/testdata) and rejects a model whose
// signature does not fit the task, showing both signatures.
func TestExternalModel(t *testing.T) {
	dir := t.TempDir()
	ext, _ := filepath.Abs("../onnx/testdata/torch_mlp.onnx")
	run := shortMNIST(t, dir, "task.model.onnx="+ext, "task.max_steps=30", "engine.test=false")
	scores, err := train.Run(context.Background(), run.Config, run.Dir, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if scores.Steps != 30 {
		t.Errorf("steps = %d", scores.Steps)
	}
	csv, _ := os.ReadFile(filepath.Join(run.Dir, "csv_logs", "metrics.csv"))
	if !strings.Contains(string(csv), "val_acc") {
		t.Errorf("no validation metrics logged:\n%s", csv)
	}

	// The template task's model (x[batch,1] → y[batch,1]) does not fit mnist.
	tpl, _ := tasks.Get("template")
	m, err := tpl.BuildModel(config.Map{"model": config.Map{"hidden_channels": 4, "activation": "relu"}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "template.onnx")
	if err := onnx.Save(bad, m); err != nil {
		t.Fatal(err)
	}
	run = shortMNIST(t, dir, "task.model.onnx="+bad)
	_, err = train.Run(context.Background(), run.Config, run.Dir, quiet())
	if err == nil {
		t.Fatal("a model with the wrong signature trained")
	}
	for _, want := range []string{"does not fit task mnist", "X", "x"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func mirror() string { return os.Getenv("FOB_DATA_MIRROR") }
