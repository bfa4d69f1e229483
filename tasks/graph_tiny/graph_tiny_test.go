package graph_tiny_test

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
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/graph_tiny"
	"github.com/fob-go/fob/train"
	"github.com/fob-go/fob/train/experiment"
	gctx "github.com/gomlx/gomlx/pkg/ml/context"
)

// ortRun runs an ONNX model in onnxruntime with its default thread pool, as fob's evaluation
// does.
func ortRun(t *testing.T, raw []byte, in map[string]tensor.Tensor) map[string]tensor.Tensor {
	t.Helper()
	if err := ort.Init(); err != nil {
		t.Skipf("onnxruntime unavailable: %v", err)
	}
	sess, err := ort.NewSession(raw, ort.Options{})
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

func maxDiff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// TestModelOnCora checks the model against the task signature and runs it on Cora in
// onnxruntime: [2708, 7] log-probabilities (each row's exponentials sum to 1), the same in
// every run.
func TestModelOnCora(t *testing.T) {
	task := graph_tiny.Task{}
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
	ds, _ := setupData(t).Split("test")
	raw, _ := onnx.Marshal(m)
	out := ortRun(t, raw, ds.Batch([]int{0}).Inputs)["log_probs"]
	if len(out.Shape) != 2 || out.Shape[0] != 2708 || out.Shape[1] != graph_tiny.NumClasses {
		t.Fatalf("log_probs shape %v, want [2708 7]", out.Shape)
	}
	// Scoring must not depend on thread scheduling (onnxruntime's ScatterND add does, which is
	// why the task does not use the edge-list model).
	for k := 0; k < 3; k++ {
		if d := maxDiff(out.F32, ortRun(t, raw, ds.Batch([]int{0}).Inputs)["log_probs"].F32); d != 0 {
			t.Fatalf("onnxruntime run %d differs from the first by %g", k+2, d)
		}
	}
	for i := 0; i < 2708; i++ {
		var s float64
		for _, v := range out.F32[i*7 : i*7+7] {
			s += math.Exp(float64(v))
		}
		if math.Abs(s-1) > 1e-5 {
			t.Fatalf("row %d: probabilities sum to %g", i, s)
		}
	}
}

// TestDropoutAndExport checks that dropout drops in training (two steps at learning rate 0 see
// different outputs; inference is deterministic; the seed reproduces the masks) and that after a
// few real steps the exported model gives GoMLX's inference outputs in onnxruntime.
func TestDropoutAndExport(t *testing.T) {
	ds, _ := setupData(t).Split("train")
	b := ds.Batch([]int{0})
	proto, err := graph_tiny.Task{}.BuildModel(taskConfig(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	run := func(seed int64) [][]float32 {
		st, model, lrs, _ := stepper(t, proto, seed)
		if len(model.Sites) != 1 {
			t.Fatalf("%d dropout mask inputs, want 1", len(model.Sites))
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
			outs = append(outs, r.Outputs["log_probs"].F32)
		}
		for i := 0; i < 2; i++ {
			f, err := st.Forward(b)
			if err != nil {
				t.Fatal(err)
			}
			outs = append(outs, f["log_probs"].F32)
		}
		return outs
	}
	outs, again := run(5), run(5)
	if d := maxDiff(outs[0], outs[1]); d < 1e-3 {
		t.Errorf("two training steps with unchanged weights differ by only %g: masks are not redrawn", d)
	}
	if d := maxDiff(outs[0], outs[2]); d < 1e-3 {
		t.Errorf("training and inference outputs differ by only %g: dropout does not drop", d)
	}
	if d := maxDiff(outs[2], outs[3]); d != 0 {
		t.Errorf("inference is not deterministic: %g", d)
	}
	if d := maxDiff(outs[0], again[0]) + maxDiff(outs[1], again[1]); d != 0 {
		t.Errorf("the same seed gives different dropout masks (difference %g)", d)
	}

	st, model, lrs, gc := stepper(t, proto, 1)
	trainAndExport(t, st, model, gc, b, lrs)
}

// trainAndExport takes 5 steps on batch b, checks that the loss fell, exports the trained
// weights and checks that onnxruntime gives GoMLX's outputs for b to 1e-4.
func trainAndExport(t *testing.T, st *train.Stepper, model *train.Model, gc *gctx.Context, b tasks.Batch, lrs []float64) {
	t.Helper()
	var first, last float64
	for step := 1; step <= 5; step++ {
		r, err := st.Step(b, step, lrs)
		if err != nil {
			t.Fatal(err)
		}
		if step == 1 {
			first = r.Loss
		}
		last = r.Loss
	}
	if !(last < first) {
		t.Errorf("training loss went from %g to %g in 5 steps at lr 0.1", first, last)
	}
	goOut, err := st.Forward(b)
	if err != nil {
		t.Fatal(err)
	}
	exported, err := model.Export(gc, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := onnx.Marshal(exported)
	ortOut := ortRun(t, raw, b.Inputs)["log_probs"]
	if d := maxDiff(goOut["log_probs"].F32, ortOut.F32); d > 1e-4 {
		t.Errorf("GoMLX and onnxruntime outputs differ by %g after training, want <= 1e-4", d)
	} else {
		t.Logf("training loss %.4f -> %.4f in 5 steps; max |GoMLX - onnxruntime| = %.3g", first, last, d)
	}
}

// TestShortRun trains three epochs through fob's run loop and checks the logged and scored
// metrics.
func TestShortRun(t *testing.T) {
	mirror(t)
	if err := ort.Init(); err != nil {
		t.Skipf("onnxruntime unavailable: %v", err)
	}
	dir := t.TempDir()
	exp, err := experiment.ParseBytes([]byte("{}"), "test", []string{"task.name=graph_tiny", "optimizer.name=adamw_baseline",
		"task.max_steps=3", "engine.output_dir=" + dir, "engine.silent=true", "engine.data_dir=" + filepath.Join(dir, "data"),
		"engine.data_mirror=" + os.Getenv("FOB_DATA_MIRROR")}, experiment.RegistryCatalog())
	if err != nil {
		t.Fatal(err)
	}
	run := exp.Runs[0]
	scores, err := train.Run(context.Background(), run.Config, run.Dir, train.Options{Progress: discard{}})
	if err != nil {
		t.Fatal(err)
	}
	if scores.Steps != 3 {
		t.Errorf("steps = %d, want 3 (one per epoch)", scores.Steps)
	}
	b, err := os.ReadFile(filepath.Join(run.Dir, "results_best_model.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res []map[string]float64
	if err := json.Unmarshal(b, &res); err != nil || len(res) != 1 {
		t.Fatalf("results_best_model.json: %v %s", err, b)
	}
	acc, loss := res[0]["test_acc"], res[0]["test_loss"]
	if math.IsNaN(loss) || math.IsInf(loss, 0) || acc <= 0 || acc > 1 {
		t.Errorf("test_acc %v, test_loss %v; want a finite loss and an accuracy in (0, 1]", acc, loss)
	}
	csv, _ := os.ReadFile(filepath.Join(run.Dir, "csv_logs", "metrics.csv"))
	for _, col := range []string{"train_loss", "train_acc", "val_acc"} {
		if !strings.Contains(string(csv), col) {
			t.Errorf("metrics.csv lacks %s:\n%s", col, csv)
		}
	}
	t.Logf("after 3 steps: %v", res[0])
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// TestExternalTorchGCN takes a GCN written as PyG's GCNConv and exported by torch.onnx
// (testdata/make_torch_gcn.py: scatter_add_ becomes ScatterElements), checks it against the task
// signature and PyTorch's outputs in onnxruntime and GoMLX, then trains it on Cora and checks
// that the exported weights give GoMLX's outputs in onnxruntime.
func TestExternalTorchGCN(t *testing.T) {
	proto, err := onnx.Load("testdata/torch_gcn.onnx")
	if err != nil {
		t.Fatal(err)
	}
	sig, err := onnx.SignatureOf(proto)
	if err != nil {
		t.Fatal(err)
	}
	if err := (graph_tiny.Task{}).Signature().Check(sig); err != nil {
		t.Fatalf("PyTorch's GCN does not fit the task: %v", err)
	}
	// The message scatters become row scatters (ScatterND [edges, 1]), not element-wise ones
	// (CumSum-counted coordinates).
	lowered, _, err := onnx.ForImport(proto, onnx.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]int{}
	for _, n := range lowered.GetGraph().GetNode() {
		ops[n.GetOpType()]++
	}
	if ops["ScatterElements"] != 0 || ops["ScatterND"] != 4 || ops["CumSum"] != 0 {
		t.Errorf("lowered ops: %d ScatterElements, %d ScatterND, %d CumSum; want 0, 4, 0", ops["ScatterElements"], ops["ScatterND"], ops["CumSum"])
	}
	var ref struct {
		X         []float32 `json:"x"`
		Nodes     int       `json:"nodes"`
		EdgeIndex []int64   `json:"edge_index"`
		LogProbs  []float32 `json:"log_probs"`
	}
	b, err := os.ReadFile("testdata/torch_gcn_io.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	small := tasks.Batch{Inputs: map[string]tensor.Tensor{
		"x":          tensor.F32s(ref.X, ref.Nodes, graph_tiny.NumFeatures),
		"edge_index": tensor.I64s(ref.EdgeIndex, 2, len(ref.EdgeIndex)/2),
	}}
	raw, err := onnx.Marshal(proto)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(ortRun(t, raw, small.Inputs)["log_probs"].F32, ref.LogProbs); d > 1e-5 {
		t.Errorf("onnxruntime differs from PyTorch by %g", d)
	}
	st, model, lrs, gc := stepper(t, proto, 1)
	goOut, err := st.Forward(small)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(goOut["log_probs"].F32, ref.LogProbs); d > 1e-5 {
		t.Errorf("GoMLX differs from PyTorch by %g", d)
	}

	ds, _ := setupData(t).Split("train")
	trainAndExport(t, st, model, gc, ds.Batch([]int{0}), lrs)
}
