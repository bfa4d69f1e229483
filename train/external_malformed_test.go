package train_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fob-go/fob/eval"
	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train"
	"github.com/fob-go/fob/train/config"
)

// mnistLike is X[batch,784] -> Gemm(W[784,classes]) -> h -> Tile(h, [1,1]) -> logits, declared
// logits[batch,10]. With classes != 10 the file lies about its output shape in a way static
// shape inference cannot see (fob's does not follow Tile).
func mnistLike(t *testing.T, classes int) *onnxpb.ModelProto {
	t.Helper()
	b := onnx.NewBuilder("mnist_like")
	b.Input("X", "float32", "batch", 784)
	b.Initializer("W", tensor.F32s(make([]float32, 784*classes), 784, classes))
	b.Initializer("B", tensor.F32s(make([]float32, classes), classes))
	b.Node("Gemm", []string{"X", "W", "B"}, []string{"h"})
	b.Node("Constant", nil, []string{"reps"}, onnx.AttrTensor("value", tensor.I64s([]int64{1, 1}, 2)))
	b.Node("Tile", []string{"h", "reps"}, []string{"logits"})
	b.Output("logits", "float32", "batch", 10)
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestExternalModelMalformed: external files that used to crash a run (a cycle overflowed the
// stack in onnx-gomlx; an output narrower than declared panicked in the metrics) are errors
// that name the file and the problem, in training and in scoring.
func TestExternalModelMalformed(t *testing.T) {
	dir := t.TempDir()
	cyclic := mnistLike(t, 10)
	cyclic.Graph.Node[0].Input[0] = "logits" // Gemm reads Tile's output
	narrow := mnistLike(t, 5)
	cases := []struct {
		name  string
		model *onnxpb.ModelProto
		want  []string
	}{
		{"cyclic.onnx", cyclic, []string{"cyclic.onnx: not a valid ONNX model", "the graph has a cycle", `node "Gemm_0" (Gemm) reads "logits" from node "Tile_0" (Tile)`}},
		{"narrow.onnx", narrow, []string{`model output "logits" has shape [`, "but the task expects logits float32[batch,10] (dim 1 is 5, want 10)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name)
			if err := onnx.Save(path, c.model); err != nil {
				t.Fatal(err)
			}
			run := shortMNIST(t, dir, "task.model.onnx="+path, "task.max_steps=2", "engine.test=false")
			_, err := train.Run(context.Background(), run.Config, run.Dir, quiet())
			if err == nil {
				t.Fatal("trained")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("train error %q lacks %q", err, w)
				}
			}
		})
	}

	// Scoring the narrow file in onnxruntime: an error, not an index panic in the metrics.
	task, err := tasks.Get("mnist")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "narrow.onnx")
	run := shortMNIST(t, dir)
	dm, err := task.NewData(tasks.DataEnv{DataDir: dataDir(t), Mirror: mirror()}, config.Sub(run.Config, "task"))
	if err != nil {
		t.Fatal(err)
	}
	if err := dm.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := dm.Setup(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	_, err = eval.ScoreFile(context.Background(), eval.Request{Task: task, Data: dm, Split: "test", Path: path, BatchSize: 512})
	if err == nil || !strings.Contains(err.Error(), "narrow.onnx") {
		t.Fatalf("scoring error %v, want one naming the file", err)
	}
	t.Logf("scoring error: %v", err)
}
