package executors

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// BenchmarkMulLarge times one elementwise product of two ResNet-18 layer-1 activations
// ([128, 64, 32, 32], 32 MiB each) and reports GB/s moved (two reads, one write).
//
//	go test -run '^$' -bench MulLarge ./runtime/executors
func BenchmarkMulLarge(b *testing.B) {
	be := newBackendB(b)
	r := rand.New(rand.NewPCG(1, 2))
	dims := []int{128, 64, 32, 32}
	x, y := randomTensor(r, dims, false), randomTensor(r, dims, false)
	exec := graph.MustNewExec(be, graph.Mul)
	exec.MustExec1(x, y).FinalizeAll()
	for b.Loop() {
		exec.MustExec1(x, y).FinalizeAll()
	}
	b.ReportMetric(12*float64(128*64*32*32)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

// BenchmarkBatchNormKernels times the four fused BatchNorm kernels on a ResNet-18 layer-1
// activation ([128, 64, 32, 32], 32 MiB) and reports GB/s of activation-sized reads and writes
// (statistics 1, normalise 2, gradient sums 2, input gradient 3).
//
//	go test -run '^$' -bench BatchNormKernels ./runtime/executors
func BenchmarkBatchNormKernels(b *testing.B) {
	xs := shapes.Make(dtypes.Float32, 128, 64, 32, 32)
	r := rand.New(rand.NewPCG(1, 2))
	full := func() []float32 {
		v := make([]float32, xs.Size())
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return v
	}
	x, dy, y := full(), full(), full()
	c := xs.Dimensions[1]
	perChannel := func(v float32) []float32 {
		s := make([]float32, c)
		for i := range s {
			s[i] = v
		}
		return s
	}
	mean, variance, scale, offset, sums := perChannel(0), perChannel(1), perChannel(1), perChannel(0), make([]float32, 2*c)
	for _, k := range []struct {
		name   string
		kind   bnKind
		in     []any
		out    []float32
		passes int
	}{
		{"stats", bnStats, []any{x}, make([]float32, 2*c), 1},
		{"normalize", bnNormalize, []any{x, mean, variance, scale, offset}, y, 2},
		{"grad-sums", bnGradSums, []any{x, mean, variance, dy}, make([]float32, 2*c), 2},
		{"grad-operand", bnGradOperand, []any{x, mean, variance, scale, dy, sums}, y, 3},
	} {
		b.Run(k.name, func(b *testing.B) {
			p := &bnParams{kind: k.kind, eps: 1e-5, axis: 1}
			for b.Loop() {
				runBatchNorm[float32](p, xs, k.in, k.out)
			}
			b.ReportMetric(float64(k.passes*4*xs.Size())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}
