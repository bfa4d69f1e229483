package runtime_test

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/fob-go/fob/runtime"
)

// TestFusedBatchNormMatchesComposed compares the pure-Go backend's fused training-mode batch
// normalisation (GoMLX's BatchNormForTraining and, through its VJP, BatchNormGradient) with the
// same computation composed from reductions and elementwise ops in float64: normalised output,
// batch mean and biased variance, and the gradients of Σ y·r with respect to the operand, scale
// and offset, over NCHW activations, a [N, C] one, a feature axis that is not 1 and float64.
func TestFusedBatchNormMatchesComposed(t *testing.T) {
	be, err := runtime.NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	defer be.Finalize()
	if !be.Capabilities().Operations[backends.OpTypeBatchNormForTraining] {
		t.Skip("the fused batch norm needs runtime/executors (FOB_GEMM=off)")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	const eps = 1e-5
	for _, c := range []struct {
		name  string
		dims  []int
		axis  int
		dtype dtypes.DType
	}{
		{"NCHW", []int{4, 6, 5, 7}, 1, dtypes.Float32},
		{"ResNet layer 4", []int{16, 64, 4, 4}, 1, dtypes.Float32},
		{"[N, C]", []int{33, 5}, 1, dtypes.Float32},
		{"channels last", []int{3, 4, 5, 6}, 3, dtypes.Float32},
		{"float64", []int{4, 6, 5, 7}, 1, dtypes.Float64},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch := c.dims[c.axis]
			x, r := randTensor(rng, c.dims...), randTensor(rng, c.dims...)
			scale, offset := randTensor(rng, ch), randTensor(rng, ch)
			// Shift and stretch the operand: statistics away from 0 and 1.
			xv := tensors.MustCopyFlatData[float32](x)
			for i := range xv {
				xv[i] = 3 + 2*xv[i]
			}
			x = tensors.FromFlatDataAndDimensions(xv, c.dims...)
			run := func(fused bool) [][]float32 {
				e, err := graph.NewExec(be, func(x, scale, offset, r *graph.Node) []*graph.Node {
					x, scale, offset = graph.ConvertDType(x, c.dtype), graph.ConvertDType(scale, c.dtype), graph.ConvertDType(offset, c.dtype)
					var y, mean, variance *graph.Node
					if fused {
						y, mean, variance = graph.InternalBatchNormForTraining(x, scale, offset, eps, c.axis)
					} else {
						y, mean, variance = composedBatchNorm(x, scale, offset, eps, c.axis)
					}
					loss := graph.ReduceAllSum(graph.Mul(y, graph.ConvertDType(r, y.DType())))
					grads := graph.Gradient(loss, x, scale, offset)
					outs := []*graph.Node{y, mean, variance}
					outs = append(outs, grads...)
					for i, o := range outs {
						outs[i] = graph.ConvertDType(o, dtypes.Float32)
					}
					return outs
				})
				if err != nil {
					t.Fatal(err)
				}
				outs, err := e.Exec(fresh(x), fresh(scale), fresh(offset), fresh(r))
				if err != nil {
					t.Fatal(err)
				}
				vals := make([][]float32, len(outs))
				for i, o := range outs {
					vals[i] = tensors.MustCopyFlatData[float32](o)
				}
				return vals
			}
			got, want := run(true), run(false)
			for i, name := range []string{"y", "batch mean", "batch variance", "dx", "dscale", "doffset"} {
				closeTo(t, name, got[i], want[i], 1e-4)
			}
		})
	}
}

// composedBatchNorm is batch normalisation from reductions and elementwise ops in float64.
func composedBatchNorm(x, scale, offset *graph.Node, eps float64, axis int) (y, mean, variance *graph.Node) {
	x64 := graph.ConvertDType(x, dtypes.Float64)
	var axes []int
	for a := range x.Rank() {
		if a != axis {
			axes = append(axes, a)
		}
	}
	perChannel := make([]int, x.Rank())
	for a := range perChannel {
		perChannel[a] = 1
	}
	perChannel[axis] = x.Shape().Dimensions[axis]
	m := graph.ReduceAndKeep(x64, graph.ReduceMean, axes...)
	d := graph.Sub(x64, m)
	v := graph.ReduceAndKeep(graph.Mul(d, d), graph.ReduceMean, axes...)
	s := graph.Reshape(graph.ConvertDType(scale, dtypes.Float64), perChannel...)
	o := graph.Reshape(graph.ConvertDType(offset, dtypes.Float64), perChannel...)
	y = graph.Add(graph.Mul(graph.Div(d, graph.Sqrt(graph.AddScalar(v, eps))), s), o)
	ch := x.Shape().Dimensions[axis]
	return graph.ConvertDType(y, x.DType()), graph.ConvertDType(graph.Reshape(m, ch), x.DType()),
		graph.ConvertDType(graph.Reshape(v, ch), x.DType())
}
