package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/fob-go/fob/runtime/gemm"
)

func TestPadMatchesHandComputedValues(t *testing.T) {
	b := newTestBackend(t)
	cases := []struct {
		name string
		in   any
		fill any
		pad  []backends.PadAxis
		want string
	}{
		{"edges", []int32{1, 2, 3}, int32(0), []backends.PadAxis{{Start: 1, End: 2}}, "[0 1 2 3 0 0]"},
		{"interior", []int32{1, 2, 3}, int32(0), []backends.PadAxis{{Interior: 2}}, "[1 0 0 2 0 0 3]"},
		{"negative edges", []int32{1, 2, 3}, int32(0), []backends.PadAxis{{Start: -1, End: 1}}, "[2 3 0]"},
		{"interior then negative edges", []int32{1, 2, 3}, int32(0), []backends.PadAxis{{Start: -1, End: -2, Interior: 1}}, "[0 2]"},
		{"2-D, fill 9", [][]float32{{1, 2}, {3, 4}}, float32(9), []backends.PadAxis{{Start: 1}, {End: 1, Interior: 1}},
			"[[9 9 9 9] [1 9 2 9] [3 9 4 9]]"},
		{"missing axis configs mean none", [][]float64{{1, 2}, {3, 4}}, float64(0), []backends.PadAxis{{End: 1}}, "[[1 2] [3 4] [0 0]]"},
		{"size-1 axis interior is a no-op", [][]int64{{5}}, int64(7), []backends.PadAxis{{Interior: 3}, {Start: 1, Interior: 3}}, "[[7 5]]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := graph.NewExec(b, func(x, fill *graph.Node) *graph.Node { return graph.Pad(x, fill, c.pad...) })
			if err != nil {
				t.Fatal(err)
			}
			var out *tensors.Tensor
			if err := exceptionsToError(func() { out = e.MustExec(c.in, c.fill)[0] }); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(out.Value()); got != c.want {
				t.Fatalf("Pad(%v, %v) = %s, want %s", c.in, c.pad, got, c.want)
			}
		})
	}
}

func TestReverseMatchesHandComputedValues(t *testing.T) {
	b := newTestBackend(t)
	cases := []struct {
		name string
		in   any
		axes []int
		want string
	}{
		{"1-D", []float32{1, 2, 3, 4}, []int{0}, "[4 3 2 1]"},
		{"rows", [][]int32{{1, 2, 3}, {4, 5, 6}}, []int{1}, "[[3 2 1] [6 5 4]]"},
		{"both axes", [][]int32{{1, 2, 3}, {4, 5, 6}}, []int{0, 1}, "[[6 5 4] [3 2 1]]"},
		{"middle of 3-D", [][][]float64{{{1, 2}, {3, 4}, {5, 6}}}, []int{1}, "[[[5 6] [3 4] [1 2]]]"},
		{"size-1 axis", [][]int64{{1, 2}}, []int{0}, "[[1 2]]"},
		{"bool", []bool{true, false, false}, []int{0}, "[false false true]"},
		{"last two of 4-D (kernel flip)", [][][][]float32{{{{1, 2, 3}, {4, 5, 6}}}, {{{7, 8, 9}, {10, 11, 12}}}}, []int{2, 3},
			"[[[[6 5 4] [3 2 1]]] [[[12 11 10] [9 8 7]]]]"},
		{"first and last of 3-D", [][][]int32{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}}, []int{0, 2}, "[[[6 5] [8 7]] [[2 1] [4 3]]]"},
		{"two axes around a size-1 one", [][][][]int32{{{{1, 2}}, {{3, 4}}}}, []int{1, 3}, "[[[[4 3]] [[2 1]]]]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := graph.NewExec(b, func(x *graph.Node) *graph.Node { return graph.Reverse(x, c.axes...) })
			if err != nil {
				t.Fatal(err)
			}
			var out *tensors.Tensor
			if err := exceptionsToError(func() { out = e.MustExec(c.in)[0] }); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(out.Value()); got != c.want {
				t.Fatalf("Reverse(%v, %v) = %s, want %s", c.in, c.axes, got, c.want)
			}
		})
	}
}

func TestPadReverseErrors(t *testing.T) {
	b := newTestBackend(t)
	cases := []struct {
		name string
		fn   func(x *graph.Node) *graph.Node
		want string
	}{
		{"pad removes too much", func(x *graph.Node) *graph.Node {
			return graph.Pad(x, graph.ScalarZero(x.Graph(), x.DType()), backends.PadAxis{Start: -2, End: -2})
		}, "removes more than"},
		{"reverse axis twice", func(x *graph.Node) *graph.Node { return graph.Reverse(x, 0, 0) }, "listed twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := graph.NewExec(b, c.fn)
			if err != nil {
				t.Fatal(err)
			}
			err = exceptionsToError(func() { e.MustExec([]float32{1, 2, 3}) })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// sliceCases are ONNX Slice/Split graphs whose gradient is a Pad: the CLS-token slice of an
// FT-Transformer, a strided slice (interior padding) and a Split.
var sliceCases = []struct {
	name   string
	nodes  []onnxNode
	consts []onnxConst
	in     []int64
	out    []int64
	// picked maps each output element to the input element it came from.
	picked func(i int) int
}{
	{
		name:   "CLS token X[:, 0, :]",
		nodes:  []onnxNode{{op: "Slice", in: []string{"X", "s", "e", "a"}, out: []string{"Y"}}},
		consts: []onnxConst{{name: "s", dims: []int64{1}, dtype: onnxInt64, i64: []int64{0}}, {name: "e", dims: []int64{1}, dtype: onnxInt64, i64: []int64{1}}, {name: "a", dims: []int64{1}, dtype: onnxInt64, i64: []int64{1}}},
		in:     []int64{2, 3, 4}, out: []int64{2, 1, 4},
		picked: func(i int) int { return (i/4)*12 + i%4 },
	},
	{
		name:   "strided X[:, 1::2]",
		nodes:  []onnxNode{{op: "Slice", in: []string{"X", "s", "e", "a", "st"}, out: []string{"Y"}}},
		consts: []onnxConst{{name: "s", dims: []int64{1}, dtype: onnxInt64, i64: []int64{1}}, {name: "e", dims: []int64{1}, dtype: onnxInt64, i64: []int64{6}}, {name: "a", dims: []int64{1}, dtype: onnxInt64, i64: []int64{1}}, {name: "st", dims: []int64{1}, dtype: onnxInt64, i64: []int64{2}}},
		in:     []int64{2, 6}, out: []int64{2, 3},
		picked: func(i int) int { return (i/3)*6 + 1 + 2*(i%3) },
	},
	{
		name:   "Split second part",
		nodes:  []onnxNode{{op: "Split", in: []string{"X", "sp"}, out: []string{"Z", "Y"}, attrs: []onnxAttr{attrInt("axis", 1)}}},
		consts: []onnxConst{{name: "sp", dims: []int64{2}, dtype: onnxInt64, i64: []int64{1, 3}}},
		in:     []int64{2, 4}, out: []int64{2, 3},
		picked: func(i int) int { return (i/3)*4 + 1 + i%3 },
	},
}

// TestSliceGradientUsesPad checks d sum(Slice(X) * R) / dX = R scattered back to the sliced
// positions, zero elsewhere, on fob's Go backend; stock simplego cannot build it (no Pad).
func TestSliceGradientUsesPad(t *testing.T) {
	b := newTestBackend(t)
	stock, err := simplego.New("ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	defer stock.Finalize()
	for _, c := range sliceCases {
		t.Run(c.name, func(t *testing.T) {
			m := parseONNX(t, c.nodes, c.consts, []onnxValue{{name: "X", dtype: onnxFloat, dims: c.in}}, []onnxValue{{name: "Y", dtype: onnxFloat, dims: c.out}})
			rng := rand.New(rand.NewPCG(3, 4))
			x := toF32(randF64(rng, size(c.in)))
			r := toF32(randF64(rng, size(c.out)))
			want := make([]float64, size(c.in))
			for i, v := range r {
				want[c.picked(i)] += float64(v)
			}
			gradFn := func(x, r *graph.Node) *graph.Node {
				y := callONNX(m, x.Graph(), map[string]*graph.Node{"X": x})
				return graph.Gradient(graph.ReduceAllSum(graph.Mul(y, r)), x)[0]
			}
			args := []any{tensors.FromFlatDataAndDimensions(x, ints(c.in)...), tensors.FromFlatDataAndDimensions(r, ints(c.out)...)}

			e, err := graph.NewExec(b, gradFn)
			if err != nil {
				t.Fatal(err)
			}
			got := execF64(t, e, args)
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-6 {
					t.Fatalf("gradient %v, want %v", got, want)
				}
			}

			se, err := graph.NewExec(stock, gradFn)
			if err != nil {
				t.Fatal(err)
			}
			err = exceptionsToError(func() {
				se.MustExec(tensors.FromFlatDataAndDimensions(x, ints(c.in)...), tensors.FromFlatDataAndDimensions(r, ints(c.out)...))
			})
			if err == nil || !strings.Contains(err.Error(), "Pad") {
				t.Errorf("stock simplego: error %v, want Pad not implemented (else this wrapper may be unnecessary)", err)
			}
		})
	}
}

// TestReverseInsideConvGradient checks a gradient that needs Reverse: the input gradient of a
// 1-D convolution, which GoMLX builds from a kernel flip (and a ConvGeneral with empty strides),
// against central finite differences. Stock simplego cannot run it.
func TestReverseInsideConvGradient(t *testing.T) {
	b := newTestBackend(t)
	stock, err := simplego.New("ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	defer stock.Finalize()
	rng := rand.New(rand.NewPCG(5, 6))
	x := randF64(rng, 1*7*2) // [batch, length, channels]
	k := randF64(rng, 3*2*3) // [taps, in channels, out channels]
	r := randF64(rng, 1*5*3)
	conv := func(x, k *graph.Node) *graph.Node {
		return graph.Convolve(x, k).Strides(1).Dilations(1).NoPadding().Done()
	}
	lossFn := func(x, k, r *graph.Node) *graph.Node { return graph.ReduceAllSum(graph.Mul(conv(x, k), r)) }
	ge, err := graph.NewExec(b, func(x, k, r *graph.Node) []*graph.Node {
		return graph.Gradient(lossFn(x, k, r), x, k)
	})
	if err != nil {
		t.Fatal(err)
	}
	le, err := graph.NewExec(b, lossFn)
	if err != nil {
		t.Fatal(err)
	}
	args := func() []any {
		return []any{tensors.FromFlatDataAndDimensions(x, 1, 7, 2), tensors.FromFlatDataAndDimensions(k, 3, 2, 3), tensors.FromFlatDataAndDimensions(r, 1, 5, 3)}
	}
	got := execF64(t, ge, args())
	se, err := graph.NewExec(stock, func(x, k, r *graph.Node) []*graph.Node { return graph.Gradient(lossFn(x, k, r), x, k) })
	if err != nil {
		t.Fatal(err)
	}
	if err := exceptionsToError(func() { se.MustExec(args()...) }); err == nil || !strings.Contains(err.Error(), "Reverse") {
		t.Errorf("stock simplego: error %v, want Reverse not implemented", err)
	}
	var fd []float64
	for _, v := range [][]float64{x, k} {
		for i := range v {
			x0 := v[i]
			v[i] = x0 + 1e-6
			plus := execF64(t, le, args())[0]
			v[i] = x0 - 1e-6
			minus := execF64(t, le, args())[0]
			v[i] = x0
			fd = append(fd, (plus-minus)/2e-6)
		}
	}
	for i := range fd {
		if math.Abs(got[i]-fd[i]) > 1e-7*(1+math.Abs(fd[i])) {
			t.Fatalf("conv gradient element %d = %.10g, finite differences %.10g", i, got[i], fd[i])
		}
	}
}

// TestGoBackendUsesGEMM: on a CPU with AVX2 and FMA, the go backend runs float32 products on
// runtime/gemm's kernel (its hook into simplego took), and says so in its description.
func TestGoBackendUsesGEMM(t *testing.T) {
	if !gemm.Available() {
		t.Skip(gemm.ErrUnavailable)
	}
	b := newTestBackend(t)
	if !gemm.Active() {
		t.Fatal("the go backend did not install the AVX2/FMA kernel")
	}
	if d := b.Description(); !strings.Contains(d, "AVX2/FMA") {
		t.Errorf("description %q does not name the kernel", d)
	}
}
