package tasks_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fob-go/fob/runtime"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// tieLogits draws n rows of logits over classes from a few integer levels, so that most rows
// hold ties around the label's score, plus an all-equal row and one with huge values.
func tieLogits(n, classes int, seed uint64) ([]float32, []int64) {
	r := rand.New(rand.NewPCG(seed, 1))
	logits := make([]float32, n*classes)
	labels := make([]int64, n)
	for i := range n {
		for j := range classes {
			logits[i*classes+j] = float32(r.IntN(4)) - 1.5
		}
		labels[i] = int64(r.IntN(classes))
	}
	for j := range classes {
		logits[j] = 0.25 // row 0: every class tied
		logits[classes+j] = float32(j%3) * 300
	}
	return logits, labels
}

// TestTopKMatchesSklearn scores batches full of ties with tasks.TopK and the training loss
// tasks.SmoothedCrossEntropy, and compares them with sklearn's top_k_accuracy_score on torch's
// softmax, torch's argmax accuracy and torch's cross_entropy with label_smoothing
// (testdata/imageclass_ref.py), for 100 and 1000 classes.
func TestTopKMatchesSklearn(t *testing.T) {
	const py = "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import torch, sklearn").CombinedOutput(); err != nil {
		t.Fatalf("the reference needs %s with torch and sklearn: apt-get install python3-torch python3-sklearn: %v\n%s", py, err, out)
	}
	backend, err := runtime.NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	smoothings := []float64{0, 0.1, 0.35, 1}
	ks := []int{1, 2, 5}
	for _, c := range []struct {
		n, classes int
	}{{64, 100}, {40, 1000}, {30, 3}} {
		logits, labels := tieLogits(c.n, c.classes, uint64(c.classes))
		dir := t.TempDir()
		in, _ := json.Marshal(map[string]any{"shape": []int{c.n, c.classes}, "logits": logits, "labels": labels,
			"smoothings": smoothings, "ks": ks})
		src, dst := filepath.Join(dir, "in.json"), filepath.Join(dir, "out.json")
		if err := os.WriteFile(src, in, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(py, "testdata/imageclass_ref.py", src, dst).CombinedOutput(); err != nil {
			t.Fatalf("imageclass_ref.py: %v\n%s", err, out)
		}
		var ref struct {
			CE   []float64 `json:"ce"`
			Acc  float64   `json:"acc"`
			TopK []float64 `json:"topk"`
		}
		raw, err := os.ReadFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &ref); err != nil {
			t.Fatal(err)
		}
		out := map[string]tensor.Tensor{"logits": tensor.F32s(logits, c.n, c.classes)}
		for si, s := range smoothings {
			m := &tasks.TopK{Split: "val", Logits: "logits", Labels: "label", Smoothing: s, Acc: true, Ks: ks}
			// Two batches, to check accumulation.
			half := c.n / 2
			m.Add(map[string]tensor.Tensor{"logits": tensor.F32s(logits[:half*c.classes], half, c.classes)},
				tasks.Batch{Targets: map[string]tensor.Tensor{"label": tensor.I64s(labels[:half], half)}})
			m.Add(map[string]tensor.Tensor{"logits": tensor.F32s(logits[half*c.classes:], c.n-half, c.classes)},
				tasks.Batch{Targets: map[string]tensor.Tensor{"label": tensor.I64s(labels[half:], c.n-half)}})
			got := m.Result()
			if d := math.Abs(got["val_loss"] - ref.CE[si]); d > 1e-9*math.Max(1, ref.CE[si]) {
				t.Errorf("%d classes, smoothing %g: val_loss %v, torch %v", c.classes, s, got["val_loss"], ref.CE[si])
			}
			if got["val_acc"] != ref.Acc {
				t.Errorf("%d classes: val_acc %v, torch argmax %v", c.classes, got["val_acc"], ref.Acc)
			}
			for ki, k := range ks {
				acc, err := got[fmt.Sprintf("val_top%d_acc", k)], got[fmt.Sprintf("val_top%d_err", k)]
				if acc != ref.TopK[ki] || math.Abs(err-(1-ref.TopK[ki])) > 1e-15 {
					t.Errorf("%d classes: top-%d acc %v err %v, sklearn acc %v", c.classes, k, acc, err, ref.TopK[ki])
				}
			}
			if len(got) != 2+2*len(ks) {
				t.Errorf("metrics %v: want loss, acc and top-k acc/err", got)
			}

			exec, err := graph.NewExec(backend, func(l, y *graph.Node) *graph.Node { return tasks.SmoothedCrossEntropy(l, y, s) })
			if err != nil {
				t.Fatal(err)
			}
			res, err := exec.Exec(tensors.FromFlatDataAndDimensions(out["logits"].F32, c.n, c.classes),
				tensors.FromFlatDataAndDimensions(labels, c.n))
			if err != nil {
				t.Fatal(err)
			}
			loss := float64(tensors.ToScalar[float32](res[0]))
			if d := math.Abs(loss - ref.CE[si]); d > 1e-5*math.Max(1, ref.CE[si]) {
				t.Errorf("%d classes, smoothing %g: graph loss %v, torch %v", c.classes, s, loss, ref.CE[si])
			}
		}
	}
}

// TestTopKEmptyAndNoLoss: NaN before any example, and NoLoss/Acc pick the reported names.
func TestTopKEmptyAndNoLoss(t *testing.T) {
	m := &tasks.TopK{Split: "test", Logits: "l", Labels: "y", NoLoss: true, Ks: []int{1, 5}}
	got := m.Result()
	if len(got) != 4 || !math.IsNaN(got["test_top5_acc"]) || !math.IsNaN(got["test_top1_err"]) {
		t.Errorf("empty: %v, want NaN top1/top5 acc and err only", got)
	}
}

func TestCheckSmoothing(t *testing.T) {
	for _, c := range []struct {
		v  float64
		ok bool
	}{{0, true}, {0.1, true}, {1, true}, {-0.1, false}, {1.5, false}, {math.NaN(), false}} {
		err := tasks.CheckSmoothing(c.v)
		if (err == nil) != c.ok || err != nil && !strings.Contains(err.Error(), "task.label_smoothing") {
			t.Errorf("CheckSmoothing(%v) = %v, want ok %v", c.v, err, c.ok)
		}
	}
}

// TestImageClassifierConfigure: Configure carries task.label_smoothing into the loss and the
// metrics; a task without settings is returned as it is.
func TestImageClassifierConfigure(t *testing.T) {
	base := tasks.ImageClassifier{TaskName: "img", Input: "image", Label: "label", ImageSize: 8, Classes: 3}
	got, err := tasks.Configure(base, map[string]any{"label_smoothing": 0.3})
	if err != nil {
		t.Fatal(err)
	}
	if s := got.(tasks.ImageClassifier).Smoothing; s != 0.3 {
		t.Errorf("configured smoothing %v, want 0.3", s)
	}
	if base.Smoothing != 0 {
		t.Error("Configure changed the registered value")
	}
	m := got.NewMetrics("val")
	m.Add(map[string]tensor.Tensor{"logits": tensor.F32s([]float32{1, 0, 0}, 1, 3)},
		tasks.Batch{Targets: map[string]tensor.Tensor{"label": tensor.I64s([]int64{0}, 1)}})
	logZ := math.Log(math.E + 2)
	if want := 0.7*(logZ-1) + 0.3*(logZ-1.0/3); math.Abs(m.Result()["val_loss"]-want) > 1e-9 {
		t.Errorf("val_loss %v, want %v", m.Result()["val_loss"], want)
	}
	if _, err := tasks.Configure(base, map[string]any{"label_smoothing": -1}); err == nil {
		t.Error("label_smoothing -1 accepted")
	}
	plain := tasks.NewUnbuilt("x", nil)
	if same, err := tasks.Configure(plain, nil); err != nil || same.Name() != "x" {
		t.Errorf("Configure of a task without settings: %v, %v", same, err)
	}
}

// TestSmoothedCrossEntropyGradient: the loss's gradient is torch's, (softmax − target)/n with
// target (1−ε)·onehot + ε/classes.
func TestSmoothedCrossEntropyGradient(t *testing.T) {
	backend, err := runtime.NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	const n, k, eps = 3, 4, 0.2
	logits := []float32{1, 2, 0, -1, 0.5, 0.5, 0.5, 3, -2, 0, 1, 1}
	labels := []int64{1, 3, 0}
	exec, err := graph.NewExec(backend, func(l, y *graph.Node) *graph.Node {
		return graph.Gradient(tasks.SmoothedCrossEntropy(l, y, eps), l)[0]
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := exec.Exec(tensors.FromFlatDataAndDimensions(logits, n, k), tensors.FromFlatDataAndDimensions(labels, n))
	if err != nil {
		t.Fatal(err)
	}
	got, err := tensors.CopyFlatData[float32](res[0])
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		var z float64
		for j := range k {
			z += math.Exp(float64(logits[i*k+j]))
		}
		for j := range k {
			target := eps / k
			if int64(j) == labels[i] {
				target += 1 - eps
			}
			want := (math.Exp(float64(logits[i*k+j]))/z - target) / n
			if d := math.Abs(float64(got[i*k+j]) - want); d > 1e-6 {
				t.Errorf("d loss / d logits[%d,%d] = %v, want %v", i, j, got[i*k+j], want)
			}
		}
	}
}
