package executors

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
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
