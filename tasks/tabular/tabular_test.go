package tabular_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/runtime/ort"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/tasks/tabular"
	"github.com/fob-go/fob/train"
	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/experiment"
)

// ortRun runs an ONNX model in onnxruntime.
func ortRun(t *testing.T, raw []byte, in map[string]tensor.Tensor) map[string]tensor.Tensor {
	t.Helper()
	if err := ort.Init(); err != nil {
		t.Skipf("onnxruntime unavailable: %v", err)
	}
	sess, err := ort.NewSession(raw, ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	out, err := sess.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestModel checks the built model against the task signature, runs it in onnxruntime (output
// [batch, 1]) and rejects a block count without defaults.
func TestModel(t *testing.T) {
	task := tabular.Task{}
	m, err := task.BuildModel(taskConfig(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := onnx.SignatureOf(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Signature().Check(got); err != nil {
		t.Fatal(err)
	}
	raw, err := onnx.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 3*tabular.NFeatures)
	for i := range x {
		x[i] = float32(i%5) - 2
	}
	out := ortRun(t, raw, map[string]tensor.Tensor{"X": tensor.F32s(x, 3, tabular.NFeatures)})["prediction"]
	if len(out.Shape) != 2 || out.Shape[0] != 3 || out.Shape[1] != 1 {
		t.Fatalf("prediction shape %v, want [3 1]", out.Shape)
	}
	for _, v := range out.F32 {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("non-finite prediction %v", out.F32)
		}
	}
	cfg := taskConfig(t)
	config.Set(cfg, "model.n_blocks", 7)
	if _, err := task.BuildModel(cfg, 1); err == nil || !strings.Contains(err.Error(), "task.model.n_blocks=7: valid values are 1 to 6") {
		t.Errorf("n_blocks 7: err = %v", err)
	}
}

// TestDropoutAndExport checks that dropout really drops in training (two steps with the
// learning rate at 0 see different outputs, inference twice the same, and the same seed
// reproduces the training outputs), and that after a few real steps the exported ONNX model gives
// GoMLX's inference predictions in onnxruntime, i.e. the export carries no dropout.
func TestDropoutAndExport(t *testing.T) {
	dm := setupData(t, 1)
	ds, _ := dm.Split("train")
	val, _ := dm.Split("val")
	proto, err := tabular.Task{}.BuildModel(taskConfig(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	batches := data.Batches(ds.Len(), 64, true, 1, 0)
	b := ds.Batch(batches[0])

	trainOutputs := func() [][]float32 {
		st, model, lrs, _ := stepper(t, proto, 5, 10)
		if len(model.Sites) != 6 {
			t.Fatalf("%d dropout mask inputs in the training graph, want 6 (3 attention, 3 FFN)", len(model.Sites))
		}
		for i := range lrs {
			lrs[i] = 0
		}
		var outs [][]float32
		for step := 1; step <= 2; step++ {
			r, err := st.Step(b, step, lrs)
			if err != nil {
				t.Fatal(err)
			}
			outs = append(outs, r.Outputs["prediction"].F32)
		}
		for i := 0; i < 2; i++ {
			f, err := st.Forward(b)
			if err != nil {
				t.Fatal(err)
			}
			outs = append(outs, f["prediction"].F32)
		}
		return outs
	}
	outs := trainOutputs()
	differ := func(a, b []float32) float64 {
		var d float64
		for i := range a {
			d = math.Max(d, math.Abs(float64(a[i]-b[i])))
		}
		return d
	}
	if d := differ(outs[0], outs[1]); d < 1e-3 {
		t.Errorf("two training steps with unchanged weights differ by only %g: dropout masks are not redrawn", d)
	}
	if d := differ(outs[0], outs[2]); d < 1e-3 {
		t.Errorf("training and inference outputs differ by only %g: dropout does not drop", d)
	}
	if d := differ(outs[2], outs[3]); d != 0 {
		t.Errorf("inference is not deterministic: %g", d)
	}
	again := trainOutputs()
	if d := differ(outs[0], again[0]) + differ(outs[1], again[1]); d != 0 {
		t.Errorf("the same seed gives different dropout masks (difference %g)", d)
	}

	// A few real steps, then GoMLX inference vs the exported model in onnxruntime.
	st, model, lrs, gc := stepper(t, proto, 1, 10)
	for step := 1; step <= 3; step++ {
		r, err := st.Step(ds.Batch(batches[step]), step, lrs)
		if err != nil || math.IsNaN(r.Loss) {
			t.Fatalf("step %d: loss %v, err %v", step, r.Loss, err)
		}
	}
	vb := val.Batch(seqInts(300))
	goOut, err := st.Forward(vb)
	if err != nil {
		t.Fatal(err)
	}
	exported, err := model.Export(gc, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := onnx.Marshal(exported)
	if err != nil {
		t.Fatal(err)
	}
	ortOut := ortRun(t, raw, vb.Inputs)["prediction"]
	if d := differ(goOut["prediction"].F32, ortOut.F32); d > 1e-4 {
		t.Errorf("GoMLX and onnxruntime predictions differ by %g after training, want <= 1e-4", d)
	} else {
		t.Logf("max |GoMLX - onnxruntime| = %.3g", d)
	}
}

func seqInts(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// TestShortRun trains a few steps through fob's run loop (validation, checkpoints, test split
// scored in onnxruntime) and checks that the loss and the test metrics are finite.
func TestShortRun(t *testing.T) {
	mirror(t)
	if err := ort.Init(); err != nil {
		t.Skipf("onnxruntime unavailable: %v", err)
	}
	dir := t.TempDir()
	exp, err := experiment.ParseBytes([]byte("{}"), "test", []string{"task.name=tabular", "optimizer.name=adamw_baseline",
		"task.max_steps=4", "engine.output_dir=" + dir, "engine.silent=true", "engine.data_dir=" + filepath.Join(dir, "data"),
		"engine.data_mirror=" + os.Getenv("FOB_DATA_MIRROR")}, experiment.RegistryCatalog())
	if err != nil {
		t.Fatal(err)
	}
	run := exp.Runs[0]
	scores, err := train.Run(context.Background(), run.Config, run.Dir, train.Options{Progress: discard{}})
	if err != nil {
		t.Fatal(err)
	}
	if scores.Steps != 4 {
		t.Errorf("steps = %d, want 4", scores.Steps)
	}
	b, err := os.ReadFile(filepath.Join(run.Dir, "results_best_model.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res []map[string]float64
	if err := json.Unmarshal(b, &res); err != nil || len(res) != 1 {
		t.Fatalf("results_best_model.json: %v %s", err, b)
	}
	for _, k := range []string{"test_loss", "test_rmse", "test_r2_score"} {
		v, ok := res[0][k]
		if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("%s = %v (present %v), want a finite value", k, v, ok)
		}
	}
	csv, _ := os.ReadFile(filepath.Join(run.Dir, "csv_logs", "metrics.csv"))
	if !strings.Contains(string(csv), "val_rmse") || !strings.Contains(string(csv), "train_loss") {
		t.Errorf("metrics.csv lacks train_loss or val_rmse:\n%s", csv)
	}
	t.Logf("after 4 steps: %v", res[0])
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }
