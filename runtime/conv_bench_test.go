package runtime_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"

	"github.com/fob-go/fob/runtime"
)

// BenchmarkConvLayers times a 3×3 stride-1 convolution of each ResNet-18 CIFAR stage at batch
// 128 with both gradients (what one training step does per layer) on the default backend and
// reports GFLOP/s over the three products.
//
//	go test -run '^$' -bench ConvLayers -benchtime 5x ./runtime
func BenchmarkConvLayers(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, l := range []struct{ channels, size int }{{64, 32}, {128, 16}, {256, 8}, {512, 4}} {
		c := convCase{"", []int{128, l.channels, l.size, l.size}, []int{l.channels, l.channels, 3, 3},
			[]int{1, 1}, []int{1, 1, 1, 1}, []int{1, 1}, 1}
		x, w, r := randTensor(rng, c.x...), randTensor(rng, c.w...), randTensor(rng, c.x...)
		flops := 3 * 2 * float64(128*l.channels*l.channels*9*l.size*l.size)
		{
			b.Run(fmt.Sprintf("%dx%dx%d", l.channels, l.size, l.size), func(b *testing.B) {
				be, err := runtime.NewBackend("go")
				if err != nil {
					b.Fatal(err)
				}
				defer be.Finalize()
				e, err := graph.NewExec(be, func(x, w, r *graph.Node) []*graph.Node {
					y := graph.ConvGeneral(x, w, c.axes(), c.stride, c.paddings(), nil, c.dil, 1, 1)
					return graph.Gradient(graph.ReduceAllSum(graph.Mul(y, r)), x, w)
				})
				if err != nil {
					b.Fatal(err)
				}
				args := []any{fresh(x), fresh(w), fresh(r)}
				if _, err := e.Exec(args...); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for b.Loop() {
					outs, err := e.Exec(args...)
					if err != nil {
						b.Fatal(err)
					}
					for _, o := range outs {
						o.FinalizeAll()
					}
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
