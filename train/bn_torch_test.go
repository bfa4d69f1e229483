package train_test

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/traintest"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
)

// ceTask is the smallest task a Stepper needs: softmax cross-entropy of "logits" against int64
// class labels "y", with the signature read from the model itself.
type ceTask struct {
	tasks.Task
	sig     onnx.Signature
	classes int
}

func (c ceTask) Name() string              { return "ce-test" }
func (c ceTask) Signature() onnx.Signature { return c.sig }
func (c ceTask) Loss(g *graph.Graph, out, tgt map[string]*graph.Node) *graph.Node {
	onehot := graph.OneHot(tgt["y"], c.classes, dtypes.Float32)
	return graph.Neg(graph.ReduceAllMean(graph.ReduceSum(graph.Mul(onehot, graph.LogSoftmax(out["logits"], -1)), -1)))
}

// torchReference runs testdata/bn_torch.py into a temporary folder (skipping without PyTorch).
func torchReference(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("needs /usr/bin/python3 with python3-torch (scripts/install-deps.sh)")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import torch, onnx").Run(); err != nil {
		t.Skip("needs python3-torch and python3-onnx (scripts/install-deps.sh)")
	}
	dir := t.TempDir()
	out, err := exec.Command("/usr/bin/python3", "testdata/bn_torch.py", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("testdata/bn_torch.py: %v\n%s", err, out)
	}
	return dir
}

func readNPY(t *testing.T, path string) tensor.Tensor {
	t.Helper()
	shape, d, err := data.ReadNPY(path)
	if err != nil {
		t.Fatal(err)
	}
	switch v := d.(type) {
	case []float32:
		return tensor.F32s(v, shape...)
	case []int64:
		return tensor.I64s(v, shape...)
	}
	t.Fatalf("%s: unexpected element type %T", path, d)
	return tensor.Tensor{}
}

func maxAbsDiff(t *testing.T, what string, got, want tensor.Tensor, tol float64) {
	t.Helper()
	if fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, want.Shape)
	}
	worst := 0.0
	for i := range want.F32 {
		d := math.Abs(float64(got.F32[i] - want.F32[i]))
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		worst = max(worst, d/max(1, math.Abs(float64(want.F32[i]))))
	}
	if worst > tol {
		t.Errorf("%s: max relative difference %.3g > %.3g", what, worst, tol)
	} else {
		t.Logf("%s: max relative difference %.3g", what, worst)
	}
}

// TestBatchNormMatchesPyTorch trains a small CNN (BatchNorm2d and BatchNorm1d in train mode,
// MaxPool and AveragePool with padding, grouped conv, GlobalAveragePool) three SGD steps in fob
// and in PyTorch from the same weights and batches. PyTorch exported the net twice: in eval
// mode (inference-form BN, what fob's models store) and in training mode (training_mode=1 BN
// nodes); both must give PyTorch's logits at every step, its weights and running statistics
// after training, and its eval-mode logits from the exported model in onnxruntime and in GoMLX.
//
// Step 1 agrees to ~1e-6; float32 rounding differences (summation orders) then grow through
// three steps of training to ~5e-5 relative, hence tol.
func TestBatchNormMatchesPyTorch(t *testing.T) {
	const tol = 1e-4
	ref := torchReference(t)
	for _, file := range []string{"eval.onnx", "train.onnx"} {
		t.Run(file, func(t *testing.T) {
			m, err := onnx.Load(filepath.Join(ref, file))
			if err != nil {
				t.Fatal(err)
			}
			sig, err := onnx.SignatureOf(m)
			if err != nil {
				t.Fatal(err)
			}
			task := ceTask{sig: sig, classes: 10}
			st, model, lrs, gc := traintest.Stepper(t, task, m, 1, config.Map{"name": "sgd_baseline", "learning_rate": 0.1, "momentum": 0.9})
			if len(model.Stats) != 6 {
				t.Fatalf("%d running statistics found, want 6 (3 BatchNormalization nodes)", len(model.Stats))
			}
			for step := range 3 {
				b := tasks.Batch{
					Inputs:  map[string]tensor.Tensor{"x": readNPY(t, filepath.Join(ref, fmt.Sprintf("x%d.npy", step)))},
					Targets: map[string]tensor.Tensor{"y": readNPY(t, filepath.Join(ref, fmt.Sprintf("y%d.npy", step)))},
				}
				res, err := st.Step(b, step+1, lrs)
				if err != nil {
					t.Fatal(err)
				}
				maxAbsDiff(t, fmt.Sprintf("step %d logits", step+1), res.Outputs["logits"], readNPY(t, filepath.Join(ref, fmt.Sprintf("logits%d.npy", step))), tol)
			}
			exported, err := model.Export(gc, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, init := range exported.Graph.Initializer {
				want := filepath.Join(ref, "state", init.GetName()+".npy")
				if _, err := os.Stat(want); err != nil {
					continue
				}
				got, err := onnx.TensorOf(init)
				if err != nil {
					t.Fatal(err)
				}
				maxAbsDiff(t, init.GetName(), got, readNPY(t, want), tol)
			}
			xe := readNPY(t, filepath.Join(ref, "xeval.npy"))
			wantEval := readNPY(t, filepath.Join(ref, "logitseval.npy"))
			goOut, err := st.Forward(tasks.Batch{Inputs: map[string]tensor.Tensor{"x": xe}})
			if err != nil {
				t.Fatal(err)
			}
			maxAbsDiff(t, "GoMLX eval logits", goOut["logits"], wantEval, tol)
			ortOut := traintest.RunORT(t, exported, map[string]tensor.Tensor{"x": xe})["logits"]
			maxAbsDiff(t, "onnxruntime eval logits of the exported model", ortOut, wantEval, tol)
			maxAbsDiff(t, "onnxruntime vs GoMLX eval logits", ortOut, goOut["logits"], 1e-5)
		})
	}
}
