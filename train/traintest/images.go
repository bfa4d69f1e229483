package traintest

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/ort"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train"
	gctx "github.com/gomlx/gomlx/pkg/ml/context"
)

// ImageBatch is a batch of standard-normal images float32[len(labels), 3, size, size] under
// the input name image, with the labels (int64) under label, drawn from seed.
func ImageBatch(image, label string, size int, labels []int64, seed uint64) tasks.Batch {
	n := len(labels)
	r := rand.New(rand.NewPCG(seed, 2))
	img := make([]float32, n*3*size*size)
	for i := range img {
		img[i] = float32(r.NormFloat64())
	}
	return tasks.Batch{
		Inputs:  map[string]tensor.Tensor{image: tensor.F32s(img, n, 3, size, size)},
		Targets: map[string]tensor.Tensor{label: tensor.I64s(append([]int64(nil), labels...), n)},
		Size:    n,
	}
}

// TrainAndExport runs steps train steps of st on the fixed batch b, fails the test unless the
// loss falls, exports the model and fails it unless onnxruntime's output named output on b
// matches GoMLX's inference output within 1e-4. It returns the losses, that difference and the
// exported model.
func TrainAndExport(tb testing.TB, st *train.Stepper, model *train.Model, gc *gctx.Context, b tasks.Batch, lrs []float64, steps int, output string) ([]float64, float64, *onnxpb.ModelProto) {
	tb.Helper()
	if err := ort.Init(); err != nil {
		tb.Skipf("onnxruntime unavailable: %v", err)
	}
	var losses []float64
	for step := 1; step <= steps; step++ {
		res, err := st.Step(b, step, lrs)
		if err != nil {
			tb.Fatal(err)
		}
		losses = append(losses, res.Loss)
	}
	if !(losses[len(losses)-1] < losses[0]) {
		tb.Errorf("training loss %v did not fall on a fixed batch", losses)
	}
	goOut, err := st.Forward(b)
	if err != nil {
		tb.Fatal(err)
	}
	exported, err := model.Export(gc, nil)
	if err != nil {
		tb.Fatal(err)
	}
	ortOut := RunORT(tb, exported, b.Inputs)
	d := MaxAbsDiff(goOut[output].F32, ortOut[output].F32)
	if d > 1e-4 {
		tb.Errorf("after training, GoMLX and onnxruntime %s differ by %g (want <= 1e-4)", output, d)
	}
	return losses, d, exported
}

// MaxAbsDiff is max |a[i] - b[i]|, +Inf when the lengths differ.
func MaxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}
