package train_test

import (
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"testing"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/traintest"
)

// BenchmarkResNet18TrainStep times one optimisation step of FOB's CIFAR ResNet-18 (torchvision
// resnet18 with a 3x3 stride-1 stem, no max-pool, 100 classes) at batch 128 on 32x32 images:
// forward with BatchNorm in train mode, cross-entropy, backward, AdamW, running-statistics
// update. scripts/bench-tasks.sh puts it next to PyTorch (row resnet18).
//
//	go test -run '^$' -bench ResNet18TrainStep -benchtime 3x ./train/
//
// FOB_CPU_PROFILE=file writes a CPU profile of the timed steps.
func BenchmarkResNet18TrainStep(b *testing.B) {
	const batch, classes, size = 128, 100, 32
	m := models.ResNet18(classes)
	m.StemKernel, m.StemStride, m.StemPadding, m.MaxPool = 3, 1, 1, false
	m.ImageSize, m.Input, m.Output = size, "x", "logits"
	p, err := m.Build("resnet18", 1)
	if err != nil {
		b.Fatal(err)
	}
	sig, err := onnx.SignatureOf(p)
	if err != nil {
		b.Fatal(err)
	}
	st, _, lrs, _ := traintest.Stepper(b, ceTask{sig: sig, classes: classes}, p, 1, config.Map{"name": "adamw_baseline",
		"learning_rate": 1e-3, "weight_decay": 5e-4, "max_steps": 1000, "max_epochs": 1})
	r := rand.New(rand.NewPCG(1, 7))
	x := make([]float32, batch*3*size*size)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	y := make([]int64, batch)
	for i := range y {
		y[i] = r.Int64N(classes)
	}
	bt := tasks.Batch{Inputs: map[string]tensor.Tensor{"x": tensor.F32s(x, batch, 3, size, size)},
		Targets: map[string]tensor.Tensor{"y": tensor.I64s(y, batch)}, Size: batch}
	if _, err := st.Step(bt, 1, lrs); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	if path := os.Getenv("FOB_CPU_PROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := st.Step(bt, i+2, lrs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/step")
}
