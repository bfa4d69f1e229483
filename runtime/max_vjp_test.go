package runtime

import (
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// TestMinMaxGradientMatchesStock: fob's Max/Min gradient equals GoMLX's on inputs with ties
// (both give a tie to the first input), ReLU's Max(x, 0) included (with a full zero tensor and
// with a scalar zero), and a scalar input on either side (its gradient the sum of its share).
func TestMinMaxGradientMatchesStock(t *testing.T) {
	b := newTestBackend(t)
	x := []float32{-1, 0, 2, 3, 3, -2, 0.5, 0}
	y := []float32{0, 0, 1, 3, 4, -2, 0.25, -1}
	v := []float32{1, 2, 3, 4, 5, 6, 7, 8}
	run := func() [][]float32 {
		e, err := graph.NewExec(b, func(x, y, v, s *graph.Node) []*graph.Node {
			loss := graph.Add(graph.ReduceAllSum(graph.Mul(graph.Max(x, y), v)),
				graph.ReduceAllSum(graph.Mul(graph.Min(x, y), graph.Square(v))))
			relu := graph.ReduceAllSum(graph.Mul(graph.Max(x, graph.ZerosLike(x)), v))
			relu0 := graph.ReduceAllSum(graph.Mul(graph.Max(x, graph.ScalarZero(x.Graph(), x.DType())), graph.Square(v)))
			scalar := graph.Add(graph.ReduceAllSum(graph.Mul(graph.Max(x, s), v)),
				graph.ReduceAllSum(graph.Mul(graph.Min(s, y), graph.Square(v))))
			g := graph.Gradient(graph.Add(graph.Add(loss, relu), graph.Add(relu0, scalar)), x, y, s)
			return g
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.Exec(x, y, v, float32(0.5))
		if err != nil {
			t.Fatal(err)
		}
		return [][]float32{tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1]),
			tensors.MustCopyFlatData[float32](out[2])}
	}
	got := run()
	var want [][]float32
	withStockVJPs(func() { want = run() })
	for i := range got {
		for j := range got[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("gradient %d[%d] = %v, GoMLX's %v (all: %v vs %v)", i, j, got[i][j], want[i][j], got, want)
			}
		}
	}
}
