package tasks_test

import (
	"math"
	"strings"
	"testing"

	"github.com/fob-go/fob/runtime"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

func TestClassificationMetrics(t *testing.T) {
	// Two examples: logits (2, 0) with label 0 and (0, 1) with label 0 (wrong), plus a masked-out one.
	logits := tensor.F32s([]float32{2, 0, 0, 1, 5, -5}, 3, 2)
	b := tasks.Batch{Targets: map[string]tensor.Tensor{
		"y":    tensor.I64s([]int64{0, 0, 1}, 3),
		"mask": tensor.F32s([]float32{1, 1, 0}, 3),
	}}
	c := &tasks.Classification{Split: "val", Logits: "logits", Labels: "y", Mask: "mask"}
	if r := c.Result(); !math.IsNaN(r["val_acc"]) {
		t.Errorf("empty accumulator: %v, want NaN", r)
	}
	c.Add(map[string]tensor.Tensor{"logits": logits}, b)
	r := c.Result()
	// CE: log(1+e^-2) and log(1+e^1).
	wantLoss := (math.Log(1+math.Exp(-2)) + math.Log(1+math.Exp(1))) / 2
	if math.Abs(r["val_loss"]-wantLoss) > 1e-9 || r["val_acc"] != 0.5 {
		t.Errorf("got %v, want val_loss %v val_acc 0.5", r, wantLoss)
	}
}

func TestRegressionMetrics(t *testing.T) {
	r := &tasks.Regression{Split: "test", Pred: "p", Target: "y", Scores: true}
	r.Add(map[string]tensor.Tensor{"p": tensor.F32s([]float32{1, 2, 2, 5}, 4, 1)},
		tasks.Batch{Targets: map[string]tensor.Tensor{"y": tensor.F32s([]float32{1, 2, 3, 4}, 4, 1)}})
	got := r.Result()
	// SSE = 0+0+1+1 = 2, MSE 0.5; SST = 5 around mean 2.5, R² = 1 - 2/5 (sklearn's r2_score).
	want := map[string]float64{"test_loss": 0.5, "test_rmse": math.Sqrt(0.5), "test_r2_score": 0.6}
	for k, v := range want {
		if math.Abs(got[k]-v) > 1e-12 {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestSoftmaxCrossEntropyGraph(t *testing.T) {
	backend, err := runtime.NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	exec, err := graph.NewExec(backend, func(logits, labels, mask *graph.Node) (*graph.Node, *graph.Node) {
		return tasks.SoftmaxCrossEntropy(logits, labels, nil), tasks.SoftmaxCrossEntropy(logits, labels, mask)
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(
		tensors.FromValue([][]float32{{2, 0}, {0, 1}, {1000, -1000}}),
		tensors.FromValue([]int64{0, 0, 0}),
		tensors.FromValue([]float32{1, 1, 0}))
	if err != nil {
		t.Fatal(err)
	}
	a, m := math.Log(1+math.Exp(-2)), math.Log(1+math.Exp(1))
	all := float64(tensors.ToScalar[float32](out[0]))
	masked := float64(tensors.ToScalar[float32](out[1]))
	if math.Abs(all-(a+m)/3) > 1e-6 { // the third row is exact (loss 0) despite huge logits
		t.Errorf("mean CE %v, want %v", all, (a+m)/3)
	}
	if math.Abs(masked-(a+m)/2) > 1e-6 {
		t.Errorf("masked CE %v, want %v", masked, (a+m)/2)
	}
}

func TestRegistry(t *testing.T) {
	u := tasks.NewUnbuilt("fob_test_unbuilt", []byte("task: {name: fob_test_unbuilt}"))
	tasks.Register(u)
	got, err := tasks.Get("fob_test_unbuilt")
	if err != nil || got.Name() != "fob_test_unbuilt" {
		t.Fatalf("Get: %v %v", got, err)
	}
	if _, err := got.NewData(tasks.DataEnv{}, nil); err == nil || !strings.Contains(err.Error(), "not built") {
		t.Errorf("unbuilt task trained: %v", err)
	}
	_, err = tasks.Get("nope")
	if err == nil || !strings.Contains(err.Error(), "fob_test_unbuilt") {
		t.Errorf("unknown-task error should list the valid tasks: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("duplicate registration did not panic")
		}
	}()
	tasks.Register(u)
}
