package runtime_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"

	"github.com/fob-go/fob/runtime"
	"github.com/fob-go/fob/runtime/gemm"
)

// BenchmarkConvLayers times a 3×3 stride-1 convolution of each ResNet-18 CIFAR stage, and the
// stride-2 one that starts stage 2, at batch 128 with both gradients (what one training step does per layer) on the default backend and
// reports GFLOP/s over the three products, with the direct kernel where it applies (forward and
// input gradient of the stride-1 layers) and, side by side, with the block product alone.
//
//	go test -run '^$' -bench ConvLayers -benchtime 5x ./runtime
func BenchmarkConvLayers(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, l := range []struct{ channels, size, stride int }{{64, 32, 1}, {128, 16, 1}, {256, 8, 1}, {512, 4, 1}, {64, 32, 2}} {
		out, outSize := l.channels*l.stride, l.size/l.stride // stride 2: layer 2's first convolution
		c := convCase{"", []int{128, l.channels, l.size, l.size}, []int{out, l.channels, 3, 3},
			[]int{l.stride, l.stride}, []int{1, 1, 1, 1}, []int{1, 1}, 1}
		x, w, r := randTensor(rng, c.x...), randTensor(rng, c.w...), randTensor(rng, 128, out, outSize, outSize)
		flops := 3 * 2 * float64(128*l.channels*out*9*outSize*outSize)
		name := fmt.Sprintf("%dx%dx%d", l.channels, l.size, l.size)
		if l.stride > 1 {
			name += fmt.Sprintf("/stride%d", l.stride)
		}
		for _, direct := range []bool{true, false} {
			sub := name
			if !direct {
				sub += "/block" // the block product for all three (SetDirect(false))
			}
			b.Run(sub, func(b *testing.B) {
				gemm.SetDirect(direct)
				defer gemm.SetDirect(true)
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

// BenchmarkKernelFlip times the spatial reversal of ResNet-18's layer-4 kernel ([512, 512, 3, 3],
// 9 MiB) that every convolution input gradient starts with, and reports GB/s moved (a read and
// a write).
//
//	go test -run '^$' -bench KernelFlip ./runtime
func BenchmarkKernelFlip(b *testing.B) {
	be, err := runtime.NewBackend("go")
	if err != nil {
		b.Fatal(err)
	}
	defer be.Finalize()
	w := randTensor(rand.New(rand.NewPCG(1, 2)), 512, 512, 3, 3)
	e, err := graph.NewExec(be, func(w *graph.Node) *graph.Node { return graph.Reverse(w, 2, 3) })
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		out, err := e.Exec(w)
		if err != nil {
			b.Fatal(err)
		}
		out[0].FinalizeAll()
	}
	b.ReportMetric(8*float64(512*512*9)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}
