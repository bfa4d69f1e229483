package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	gonnx "github.com/gomlx/onnx-gomlx/onnx"
)

func newTestBackend(t testing.TB) backends.Backend {
	t.Helper()
	b, err := NewBackend("go")
	if err != nil {
		t.Fatalf("NewBackend(go): %v", err)
	}
	t.Cleanup(b.Finalize)
	return b
}

// withStockVJPs runs fn with GoMLX's own Dot/DotGeneral gradients (graphs are built inside fn).
func withStockVJPs(fn func()) {
	InstallFixes()
	fixed := map[graph.NodeType]graph.VJP{}
	for t, v := range stockVJPs {
		fixed[t] = graph.VJPRegistration[t]
		graph.VJPRegistration[t] = v
	}
	defer func() {
		for t, v := range fixed {
			graph.VJPRegistration[t] = v
		}
	}()
	fn()
}

// gradCase is an ONNX graph with float inputs; the checked loss is sum(Y * R) for a fixed random R.
type gradCase struct {
	name   string
	nodes  []onnxNode
	inputs map[string][]int64
	order  []string // input order
	out    []int64  // output shape
}

func (c gradCase) model(t testing.TB, dtype int32) *gonnx.Model {
	var ins []onnxValue
	for _, n := range c.order {
		ins = append(ins, onnxValue{name: n, dtype: dtype, dims: c.inputs[n]})
	}
	return parseONNX(t, c.nodes, nil, ins, []onnxValue{{name: "Y", dtype: dtype, dims: c.out}})
}

func size(dims []int64) int {
	n := 1
	for _, d := range dims {
		n *= int(d)
	}
	return n
}

func ints(dims []int64) []int {
	out := make([]int, len(dims))
	for i, d := range dims {
		out[i] = int(d)
	}
	return out
}

// lossExec returns an executable computing [loss, d loss / d input_i ...] for the model.
func lossExec(t testing.TB, b backends.Backend, m *gonnx.Model, c gradCase, withGrad bool) *graph.Exec {
	t.Helper()
	e, err := graph.NewExec(b, func(args []*graph.Node) []*graph.Node {
		in := map[string]*graph.Node{}
		for i, n := range c.order {
			in[n] = args[i]
		}
		y := callONNX(m, args[0].Graph(), in)
		loss := graph.ReduceAllSum(graph.Mul(y, args[len(args)-1]))
		if !withGrad {
			return []*graph.Node{loss}
		}
		return append([]*graph.Node{loss}, graph.Gradient(loss, args[:len(c.order)]...)...)
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func randF64(r *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = r.Float64()*2 - 1
	}
	return v
}

func toF32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func execF64(t testing.TB, e *graph.Exec, args []any) []float64 {
	t.Helper()
	var outs []*tensors.Tensor
	err := exceptionsToError(func() { outs = e.MustExec(args...) })
	if err != nil {
		t.Fatal(err)
	}
	var flat []float64
	for _, o := range outs {
		switch o.DType() {
		case dtypes.Float64:
			flat = append(flat, tensors.MustCopyFlatData[float64](o)...)
		case dtypes.Float32:
			for _, x := range tensors.MustCopyFlatData[float32](o) {
				flat = append(flat, float64(x))
			}
		}
	}
	return flat
}

func exceptionsToError(fn func()) (err error) {
	defer recoverTo(&err, "executing")
	fn()
	return nil
}

// The Dot/DotGeneral nodes onnx-gomlx emits for MatMul (graph.MatMul: Dot for ranks <= 2,
// DotGeneral above, Einsum-built DotGeneral with batch axes) and Gemm (Einsum with transposes).
var matmulCases = []gradCase{
	{name: "MatMul 2Dx2D (Dot)", nodes: []onnxNode{{op: "MatMul", in: []string{"A", "B"}, out: []string{"Y"}}},
		inputs: map[string][]int64{"A": {3, 4}, "B": {4, 5}}, order: []string{"A", "B"}, out: []int64{3, 5}},
	{name: "MatMul 2Dx1D (Dot)", nodes: []onnxNode{{op: "MatMul", in: []string{"A", "B"}, out: []string{"Y"}}},
		inputs: map[string][]int64{"A": {3, 4}, "B": {4}}, order: []string{"A", "B"}, out: []int64{3}},
	{name: "MatMul 3Dx2D (DotGeneral)", nodes: []onnxNode{{op: "MatMul", in: []string{"A", "B"}, out: []string{"Y"}}},
		inputs: map[string][]int64{"A": {2, 3, 4}, "B": {4, 5}}, order: []string{"A", "B"}, out: []int64{2, 3, 5}},
	{name: "MatMul 3Dx3D batched (Einsum)", nodes: []onnxNode{{op: "MatMul", in: []string{"A", "B"}, out: []string{"Y"}}},
		inputs: map[string][]int64{"A": {2, 3, 4}, "B": {2, 4, 5}}, order: []string{"A", "B"}, out: []int64{2, 3, 5}},
	{name: "MatMul 4Dx4D attention-like (Einsum)", nodes: []onnxNode{{op: "MatMul", in: []string{"A", "B"}, out: []string{"Y"}}},
		inputs: map[string][]int64{"A": {2, 2, 3, 4}, "B": {2, 2, 4, 3}}, order: []string{"A", "B"}, out: []int64{2, 2, 3, 3}},
	{name: "Gemm with bias", nodes: []onnxNode{{op: "Gemm", in: []string{"A", "B", "C"}, out: []string{"Y"}}},
		inputs: map[string][]int64{"A": {3, 4}, "B": {4, 5}, "C": {5}}, order: []string{"A", "B", "C"}, out: []int64{3, 5}},
	{name: "Gemm transB (Linear layer)", nodes: []onnxNode{{op: "Gemm", in: []string{"A", "B", "C"}, out: []string{"Y"}, attrs: []onnxAttr{attrInt("transB", 1)}}},
		inputs: map[string][]int64{"A": {3, 4}, "B": {5, 4}, "C": {5}}, order: []string{"A", "B", "C"}, out: []int64{3, 5}},
	{name: "Gemm transA transB alpha", nodes: []onnxNode{{op: "Gemm", in: []string{"A", "B"}, out: []string{"Y"}, attrs: []onnxAttr{attrInt("transA", 1), attrInt("transB", 1), attrFloat("alpha", 0.5)}}},
		inputs: map[string][]int64{"A": {4, 3}, "B": {5, 4}}, order: []string{"A", "B"}, out: []int64{3, 5}},
	{name: "Identity after MatMul", nodes: []onnxNode{
		{op: "MatMul", in: []string{"A", "B"}, out: []string{"T"}},
		{op: "Identity", in: []string{"T"}, out: []string{"Y"}}},
		inputs: map[string][]int64{"A": {3, 4}, "B": {4, 2}}, order: []string{"A", "B"}, out: []int64{3, 2}},
}

// centralDiff returns d loss / d x for every element of every input by central differences.
func centralDiff(t testing.TB, e *graph.Exec, c gradCase, vals map[string][]float64, r []float64, h float64) []float64 {
	args := func() []any {
		var a []any
		for _, n := range c.order {
			a = append(a, tensors.FromFlatDataAndDimensions(vals[n], ints(c.inputs[n])...))
		}
		return append(a, tensors.FromFlatDataAndDimensions(r, ints(c.out)...))
	}
	var grads []float64
	for _, n := range c.order {
		for i := range vals[n] {
			x := vals[n][i]
			vals[n][i] = x + h
			plus := execF64(t, e, args())[0]
			vals[n][i] = x - h
			minus := execF64(t, e, args())[0]
			vals[n][i] = x
			grads = append(grads, (plus-minus)/(2*h))
		}
	}
	return grads
}

// guardFastPath fails the test if a gradient falls back to GoMLX's stock one.
func guardFastPath(t *testing.T) {
	InstallFixes()
	saved := map[graph.NodeType]graph.VJP{}
	for typ, v := range stockVJPs {
		saved[typ] = v
		stockVJPs[typ] = func(node *graph.Node, vs []*graph.Node, s shapes.Shape) []*graph.Node {
			t.Errorf("gradient of %s fell back to GoMLX's stock gradient", node)
			return v(node, vs, s)
		}
	}
	t.Cleanup(func() {
		for typ, v := range saved {
			stockVJPs[typ] = v
		}
	})
}

func TestMatMulGemmGradientsMatchFiniteDifferences(t *testing.T) {
	b := newTestBackend(t)
	guardFastPath(t)
	for ci, c := range matmulCases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(ci), 7))
			vals := map[string][]float64{}
			for _, n := range c.order {
				vals[n] = randF64(rng, size(c.inputs[n]))
			}
			r := randF64(rng, size(c.out))
			m64 := c.model(t, onnxDouble)
			fd := centralDiff(t, lossExec(t, b, m64, c, false), c, vals, r, 1e-6)

			for _, tc := range []struct {
				dtype int32
				tol   float64
			}{{onnxDouble, 1e-8}, {onnxFloat, 2e-5}} {
				m := c.model(t, tc.dtype)
				var args []any
				for _, n := range c.order {
					if tc.dtype == onnxDouble {
						args = append(args, tensors.FromFlatDataAndDimensions(vals[n], ints(c.inputs[n])...))
					} else {
						args = append(args, tensors.FromFlatDataAndDimensions(toF32(vals[n]), ints(c.inputs[n])...))
					}
				}
				if tc.dtype == onnxDouble {
					args = append(args, tensors.FromFlatDataAndDimensions(r, ints(c.out)...))
				} else {
					args = append(args, tensors.FromFlatDataAndDimensions(toF32(r), ints(c.out)...))
				}
				got := execF64(t, lossExec(t, b, m, c, true), args)[1:]
				if len(got) != len(fd) {
					t.Fatalf("dtype %d: %d gradient values, want %d", tc.dtype, len(got), len(fd))
				}
				for i := range fd {
					if d := math.Abs(got[i] - fd[i]); d > tc.tol*(1+math.Abs(fd[i])) {
						t.Fatalf("dtype %d: gradient element %d = %.10g, finite differences %.10g (|diff| %.3g)", tc.dtype, i, got[i], fd[i], d)
					}
				}
			}
		})
	}
}

// TestDotGradientIsADotGeneral checks the fix's point: the gradient graph of a [B,in]x[in,out]
// product holds no [B,in,out] temporary, while GoMLX's stock gradient does.
func TestDotGradientIsADotGeneral(t *testing.T) {
	b := newTestBackend(t)
	const batch, in, out = 8, 16, 12
	largest := func() (maxSize int, kinds map[graph.NodeType]int) {
		g := graph.NewGraph(b, "grad")
		x := graph.Parameter(g, "x", shapes.Make(dtypes.Float32, batch, in))
		w := graph.Parameter(g, "w", shapes.Make(dtypes.Float32, in, out))
		for _, y := range []*graph.Node{graph.MatMul(x, w), graph.Einsum("ij,jk->ik", x, w)} {
			graph.Gradient(graph.ReduceAllSum(y), x, w)
		}
		kinds = map[graph.NodeType]int{}
		for _, n := range g.Nodes() {
			maxSize = max(maxSize, n.Shape().Size())
			kinds[n.Type()]++
		}
		return maxSize, kinds
	}
	fixedMax, kinds := largest()
	var stockMax int
	withStockVJPs(func() { stockMax, _ = largest() })
	if fixedMax >= batch*in*out {
		t.Errorf("fixed gradient graph has a node of %d elements, want < %d (no [B,in,out] temporary)", fixedMax, batch*in*out)
	}
	if stockMax < batch*in*out {
		t.Errorf("stock gradient's largest node has %d elements; expected the [B,in,out]=%d temporary this fix removes (GoMLX changed?)", stockMax, batch*in*out)
	}
	// Two forward products plus two gradient products each.
	if got := kinds[graph.NodeTypeDotGeneral] + kinds[graph.NodeTypeDot]; got != 6 {
		t.Errorf("%d Dot/DotGeneral nodes in forward+gradient, want 6 (%v)", got, kinds)
	}
}

func TestIdentityGradient(t *testing.T) {
	b := newTestBackend(t)
	c := matmulCases[len(matmulCases)-1]
	m := c.model(t, onnxFloat)
	// Without the fix GoMLX has no gradient for Identity.
	saved := graph.VJPRegistration[graph.NodeTypeIdentity]
	delete(graph.VJPRegistration, graph.NodeTypeIdentity)
	stockErr := exceptionsToError(func() {
		g := graph.NewGraph(b, "identity")
		a := graph.Parameter(g, "A", shapes.Make(dtypes.Float32, 3, 4))
		bb := graph.Parameter(g, "B", shapes.Make(dtypes.Float32, 4, 2))
		y := callONNX(m, g, map[string]*graph.Node{"A": a, "B": bb})
		graph.Gradient(graph.ReduceAllSum(y), a, bb)
	})
	graph.VJPRegistration[graph.NodeTypeIdentity] = saved
	if stockErr == nil || !strings.Contains(stockErr.Error(), "no gradient is defined") {
		t.Fatalf("without the fix, Identity's gradient should fail with \"no gradient is defined\", got %v", stockErr)
	}
	// With it, d sum(Identity(X)) / dX = 1 and StopGradient (also an Identity) still stops.
	e, err := graph.NewExec(b, func(x *graph.Node) []*graph.Node {
		return graph.Gradient(graph.ReduceAllSum(graph.Add(graph.Identity(x), graph.MulScalar(graph.StopGradient(x), 3))), x)
	})
	if err != nil {
		t.Fatal(err)
	}
	got := execF64(t, e, []any{[]float32{1, 2, 3}})
	for i, v := range got {
		if v != 1 {
			t.Fatalf("gradient[%d] = %g, want 1 (Identity passes, StopGradient blocks)", i, v)
		}
	}
}

func TestDotGeneralAxesReadable(t *testing.T) {
	b := newTestBackend(t)
	g := graph.NewGraph(b, "axes")
	x := graph.Parameter(g, "x", shapes.Make(dtypes.Float32, 2, 3, 4))
	y := graph.Parameter(g, "y", shapes.Make(dtypes.Float32, 2, 4, 5))
	n := graph.DotGeneral(x, []int{2}, []int{0}, y, []int{1}, []int{0})
	axes, err := dotGeneralAxes(n)
	if err != nil {
		t.Fatalf("reading DotGeneral's axes (needed for the fast gradient): %v", err)
	}
	if want := "[[2] [0] [1] [0]]"; fmt.Sprint(axes) != want {
		t.Fatalf("axes %v, want %s", axes, want)
	}
}
