package tasks_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"testing"

	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
)

// TestROCAUCMatchesSklearn: ROCAUC equals sklearn's roc_auc_score (OGB's evaluator) on the
// cases of testdata/rocauc_ref.json (make_rocauc_ref.py): tied scores, rare positives, float32
// scores, and the single-class case sklearn rejects.
func TestROCAUCMatchesSklearn(t *testing.T) {
	b, err := os.ReadFile("testdata/rocauc_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name           string
		Labels, Scores []float64
		AUC            *float64
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 10 {
		t.Fatalf("only %d cases in the fixture", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			got, err := tasks.ROCAUC(c.Labels, c.Scores)
			if c.AUC == nil {
				if !errors.Is(err, tasks.ErrOneClass) {
					t.Fatalf("sklearn rejects this case; got %v, %v", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-*c.AUC) > 1e-12 {
				t.Errorf("ROC-AUC %.15f, sklearn %.15f", got, *c.AUC)
			}
		})
	}
}

// TestBinaryROC: the metric skips padding graphs and NaN labels, reports the mean BCE with
// logits of column 1, and turns an undefined ROC-AUC into 0 as FOB does.
func TestBinaryROC(t *testing.T) {
	logits := tensor.F32s([]float32{9, 2, 9, -1, 9, 0.5, 9, 100, 9, -3}, 5, 2)
	batch := tasks.Batch{Targets: map[string]tensor.Tensor{
		"y":    tensor.F32s([]float32{1, 0, 1, float32(math.NaN()), 1}, 5),
		"mask": tensor.F32s([]float32{1, 1, 1, 1, 0}, 5),
	}}
	m := &tasks.BinaryROC{Split: "val", Logits: "logits", Labels: "y", Column: 1, Mask: "mask"}
	m.Add(map[string]tensor.Tensor{"logits": logits}, batch)
	res := m.Result()
	bce := func(z, y float64) float64 { return math.Log1p(math.Exp(z)) - y*z }
	wantLoss := (bce(2, 1) + bce(-1, 0) + bce(0.5, 1)) / 3
	if math.Abs(res["val_loss"]-wantLoss) > 1e-12 {
		t.Errorf("val_loss %v, want %v", res["val_loss"], wantLoss)
	}
	// Scores 2 (y 1), -1 (y 0), 0.5 (y 1): both positives above the negative.
	if res["val_rocauc"] != 1 {
		t.Errorf("val_rocauc %v, want 1", res["val_rocauc"])
	}
	one := &tasks.BinaryROC{Split: "test", Logits: "logits", Labels: "y", Column: 1}
	one.Add(map[string]tensor.Tensor{"logits": tensor.F32s([]float32{0, 1, 0, 2}, 2, 2)},
		tasks.Batch{Targets: map[string]tensor.Tensor{"y": tensor.F32s([]float32{1, 1}, 2)}})
	if r := one.Result(); r["test_rocauc"] != 0 || math.IsNaN(r["test_loss"]) {
		t.Errorf("single-class split: %v, want test_rocauc 0 and a loss", r)
	}
	if r := (&tasks.BinaryROC{Split: "val"}).Result(); !math.IsNaN(r["val_rocauc"]) {
		t.Errorf("empty split: %v, want NaN", r)
	}
}
