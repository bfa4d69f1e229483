package classification_small_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/runtime/ort"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	cs "github.com/fob-go/fob/tasks/classification_small"
	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/traintest"
)

// TestExternalTorchCNN takes a CNN exported by torch.onnx in training mode at test time
// (testdata/torch_cnn.py: Conv, BatchNormalization with training_mode=1, Relu, MaxPool,
// Flatten, Dropout, Gemm; input "input", output "output"), renames its input and output to the
// task's as the trainer does for -model files, checks GoMLX's inference logits against
// PyTorch's eval-mode ones, trains it a few steps on one batch and checks the exported model in
// onnxruntime against GoMLX.
func TestExternalTorchCNN(t *testing.T) {
	const py = "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import torch, onnx").CombinedOutput(); err != nil {
		t.Fatalf("the PyTorch export needs %s with torch and onnx: apt-get install python3-torch python3-onnx: %v\n%s", py, err, out)
	}
	if err := ort.Init(); err != nil {
		t.Skipf("onnxruntime unavailable: %v", err)
	}
	dir := t.TempDir()
	file, refFile := filepath.Join(dir, "cnn.onnx"), filepath.Join(dir, "cnn.json")
	if out, err := exec.Command(py, "testdata/torch_cnn.py", file, refFile).CombinedOutput(); err != nil {
		t.Fatalf("torch_cnn.py: %v\n%s", err, out)
	}
	var ref struct {
		X      []float32 `json:"x"`
		Logits []float32 `json:"logits"`
	}
	raw, err := os.ReadFile(refFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	sig := cs.Task.Signature()
	renames, err := sig.AdaptNames(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(renames) != 2 || renames[0] != (onnx.Rename{Kind: "input", From: "input", To: "image"}) ||
		renames[1] != (onnx.Rename{Kind: "output", From: "output", To: "logits"}) {
		t.Errorf("renames %v, want input→image and output→logits", renames)
	}
	got, err := onnx.SignatureOf(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := sig.Check(got); err != nil {
		t.Fatalf("the renamed torch CNN does not fit the task: %v", err)
	}

	n := len(ref.X) / (3 * cs.ImageSize * cs.ImageSize)
	b := tasks.Batch{
		Inputs:  map[string]tensor.Tensor{"image": tensor.F32s(ref.X, n, 3, cs.ImageSize, cs.ImageSize)},
		Targets: map[string]tensor.Tensor{"label": tensor.I64s([]int64{0, 1, 2, 3}[:n], n)},
		Size:    n,
	}
	st, model, lrs, gc := traintest.Stepper(t, cs.Task, m, 1, config.Map{"name": "adamw_baseline",
		"learning_rate": 1e-2, "weight_decay": 0.0, "max_steps": 10, "max_epochs": 1})
	before, err := st.Forward(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := traintest.MaxAbsDiff(before["logits"].F32, ref.Logits); d > 1e-4 {
		t.Errorf("GoMLX inference logits differ from PyTorch eval mode by %g", d)
	}
	losses, d, _ := traintest.TrainAndExport(t, st, model, gc, b, lrs, 5, "logits")
	t.Logf("GoMLX vs PyTorch before training: %.3g; losses %v; GoMLX vs onnxruntime after: %.3g",
		traintest.MaxAbsDiff(before["logits"].F32, ref.Logits), losses, d)
}
