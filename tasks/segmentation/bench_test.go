package segmentation_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/segmentation"
	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/traintest"
)

// benchBatch is a random batch: ImageNet-normalised-like pixels and labels with 10% ignored.
func benchBatch(n, size int, seed uint64) tasks.Batch {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n*3*size*size)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	y := make([]int64, n*size*size)
	for i := range y {
		y[i] = int64(rng.IntN(segmentation.Classes))
		if rng.Float64() < 0.1 {
			y[i] = segmentation.Ignore
		}
	}
	return tasks.Batch{
		Inputs:  map[string]tensor.Tensor{segmentation.InputName: tensor.F32s(x, n, 3, size, size)},
		Targets: map[string]tensor.Tensor{segmentation.LabelsName: tensor.I64s(y, n, size, size)},
		Size:    n,
	}
}

// BenchmarkSegFormerTrainStep times one optimisation step of SegFormer-B0 (forward, upsampled
// cross-entropy, backward, AdamW; BatchNorm in training mode, dropout and drop-path masks) on
// the default backend at batch FOB_SEG_BATCH (default 4) and FOB_SEG_SIZE×FOB_SEG_SIZE
// pixels (default 128); scripts/bench-segmentation.sh puts it next to PyTorch.
func BenchmarkSegFormerTrainStep(b *testing.B) {
	n, size := envInt(b, "FOB_SEG_BATCH", 4), envInt(b, "FOB_SEG_SIZE", 128)
	task := segmentation.Task{Size: size}
	proto, err := task.BuildModel(taskConfig(b, size), 1)
	if err != nil {
		b.Fatal(err)
	}
	st, _, lrs, _ := traintest.Stepper(b, task, proto, 1, config.Map{"name": "adamw_baseline",
		"learning_rate": 1e-3, "weight_decay": 0.01, "max_steps": 1000, "max_epochs": 1})
	batches := []tasks.Batch{benchBatch(n, size, 1), benchBatch(n, size, 2)}
	if _, err := st.Step(batches[0], 1, lrs); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := st.Step(batches[i%2], i+2, lrs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/step")
	b.ReportMetric(float64(n), "batch")
	b.ReportMetric(float64(size), "pixels")
}

func envInt(tb testing.TB, key string, def int) int {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		tb.Fatal(fmt.Sprintf("%s=%q: want a positive integer", key, v))
	}
	return n
}
