package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/fob-go/fob/runtime"
)

// TestBatchNormTrainingFallback checks that batchNormTraining gives the same output and batch
// statistics on a backend without BatchNormForTraining (stock simplego: composed from
// reductions) as on fob's pure-Go backend (fused kernels).
func TestBatchNormTrainingFallback(t *testing.T) {
	fused, err := runtime.NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	defer fused.Finalize()
	if !fused.Capabilities().Operations[backends.OpTypeBatchNormForTraining] {
		t.Skip("no fused batch norm (FOB_GEMM=off)")
	}
	stock, err := simplego.New("")
	if err != nil {
		t.Fatal(err)
	}
	defer stock.Finalize()
	if stock.Capabilities().Operations[backends.OpTypeBatchNormForTraining] {
		t.Fatal("stock simplego now has BatchNormForTraining: this test no longer reaches the fallback")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	values := func(n int, shift float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(shift + 2*rng.NormFloat64())
		}
		return v
	}
	x := tensors.FromFlatDataAndDimensions(values(3*4*5*6, 1.5), 3, 4, 5, 6)
	scale := tensors.FromFlatDataAndDimensions(values(4, 1), 4)
	offset := tensors.FromFlatDataAndDimensions(values(4, 0), 4)
	run := func(b backends.Backend) [][]float32 {
		e, err := graph.NewExec(b, func(x, scale, offset *graph.Node) []*graph.Node {
			y, m, v := batchNormTraining(x, scale, offset, 1e-5)
			return []*graph.Node{y, m, v}
		})
		if err != nil {
			t.Fatal(err)
		}
		clone := func(t *tensors.Tensor) *tensors.Tensor { // a tensor belongs to one backend
			return tensors.FromFlatDataAndDimensions(tensors.MustCopyFlatData[float32](t), t.Shape().Dimensions...)
		}
		outs, err := e.Exec(clone(x), clone(scale), clone(offset))
		if err != nil {
			t.Fatal(err)
		}
		var vals [][]float32
		for _, o := range outs {
			vals = append(vals, tensors.MustCopyFlatData[float32](o))
		}
		return vals
	}
	got, want := run(stock), run(fused)
	for i, name := range []string{"y", "batch mean", "batch variance"} {
		for j := range want[i] {
			if d := math.Abs(float64(got[i][j] - want[i][j])); d > 1e-4*(1+math.Abs(float64(want[i][j]))) {
				t.Fatalf("%s[%d]: composed %v, fused %v", name, j, got[i][j], want[i][j])
			}
		}
	}
}
