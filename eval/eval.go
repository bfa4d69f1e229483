// Package eval scores exported ONNX models on a task's data split in onnxruntime, the runtime
// that never saw training: what it reports is what the exported file does.
package eval

import (
	"context"
	"fmt"
	"maps"
	"os"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/runtime/ort"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/train/config"
	"gopkg.in/yaml.v3"
)

// Request names what to score.
type Request struct {
	Task tasks.Task
	// Data is a set-up data module of the task.
	Data tasks.DataModule
	// Split is "test" (or "val").
	Split string
	// Path is the ONNX file.
	Path string
	// BatchSize is the evaluation batch size.
	BatchSize int
	// CUDA asks onnxruntime for its CUDA execution provider (falls back to CPU).
	CUDA bool
}

// ScoreFile runs the model in Path over the split and returns the task's metrics.
func ScoreFile(ctx context.Context, r Request) (map[string]float64, error) {
	m, _, err := Outputs(ctx, r, nil)
	return m, err
}

// Outputs scores like ScoreFile and, when keep is non-nil, also hands every batch's outputs to
// keep (used to compare runtimes output by output). It returns the provider that ran it.
func Outputs(ctx context.Context, r Request, keep func(b tasks.Batch, out map[string]tensor.Tensor)) (map[string]float64, string, error) {
	raw, err := os.ReadFile(r.Path)
	if err != nil {
		return nil, "", fmt.Errorf("eval: %w", err)
	}
	// Parse and validate first: a corrupt file gets our clear error rather than onnxruntime's.
	proto, err := onnx.Parse(raw)
	if err == nil {
		err = onnx.Validate(proto)
	}
	if err != nil {
		return nil, "", fmt.Errorf("eval: %s: %w", r.Path, err)
	}
	if err := ort.Init(); err != nil {
		return nil, "", err
	}
	sess, err := ort.NewSession(raw, ort.Options{Threads: 0, CUDA: r.CUDA})
	if err != nil {
		return nil, "", fmt.Errorf("eval: %s: %w", r.Path, err)
	}
	defer sess.Close()
	ds, err := r.Data.Split(r.Split)
	if err != nil {
		return nil, "", err
	}
	met := r.Task.NewMetrics(r.Split)
	bs := r.BatchSize
	if bs <= 0 {
		bs = 512
	}
	for _, idx := range data.Batches(ds.Len(), bs, false, 0, 0) {
		if err := ctx.Err(); err != nil {
			return nil, "", err
		}
		b, err := tasks.ReadBatch(ds, idx)
		if err != nil {
			return nil, "", err
		}
		out, err := sess.Run(b.Inputs)
		if err == nil {
			err = r.Task.Signature().CheckTensors(b.Inputs, out) // before metrics index into out
		}
		if err != nil {
			return nil, "", fmt.Errorf("eval: %s: %w", r.Path, err)
		}
		met.Add(out, b)
		if keep != nil {
			keep(b, out)
		}
	}
	res := met.Result()
	if gen, ok := r.Task.(tasks.Generator); ok {
		extra, err := gen.GenerateMetrics(ctx, proto, r.Data, r.Split)
		if err != nil {
			return nil, "", fmt.Errorf("eval: %s: decoding: %w", r.Path, err)
		}
		maps.Copy(res, extra)
	}
	return res, sess.Provider(), nil
}

// Checkpoint describes an exported model and the task settings recorded in it.
type Checkpoint struct {
	Task   tasks.Task
	Config config.Map
	Seed   int64
}

// ReadCheckpoint reads the task, its config section and the seed from the metadata that
// export writes into every fob ONNX file; taskName overrides the recorded task (needed for
// ONNX files not written by fob).
func ReadCheckpoint(path, taskName string) (*Checkpoint, error) {
	m, err := onnx.Load(path)
	if err != nil {
		return nil, err
	}
	meta := onnx.Metadata(m)
	name := taskName
	if name == "" {
		name = meta["fob.task"]
	}
	if name == "" {
		return nil, fmt.Errorf("%s carries no fob.task metadata (not exported by fob); name the task with -task", path)
	}
	t, err := tasks.Get(name)
	if err != nil {
		return nil, err
	}
	ck := &Checkpoint{Task: t, Config: config.Map{}}
	if s := meta["fob.config"]; s != "" {
		if err := yaml.Unmarshal([]byte(s), &ck.Config); err != nil {
			return nil, fmt.Errorf("%s: fob.config metadata: %w", path, err)
		}
	}
	if s := meta["fob.seed"]; s != "" {
		fmt.Sscan(s, &ck.Seed)
	}
	return ck, nil
}
