package executors

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

func newBackend(t *testing.T) backends.Backend { return newBackendB(t) }

func newBackendB(t testing.TB) backends.Backend {
	t.Helper()
	if err := Install(); err != nil {
		t.Fatal(err)
	}
	b, err := simplego.New("")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// randomTensor fills a float32 tensor with values in [-2, 2), some exact zeros of both signs and,
// when nan is set, a few NaNs.
func randomTensor(r *rand.Rand, dims []int, nan bool) *tensors.Tensor {
	size := 1
	for _, d := range dims {
		size *= d
	}
	v := make([]float32, size)
	for i := range v {
		switch r.IntN(20) {
		case 0:
			v[i] = 0
		case 1:
			v[i] = float32(math.Copysign(0, -1))
		case 2:
			if nan {
				v[i] = float32(math.NaN())
				continue
			}
			fallthrough
		default:
			v[i] = r.Float32()*4 - 2
		}
	}
	return tensors.FromFlatDataAndDimensions(v, dims...)
}

// run executes fn on the backend twice, with this package's executors and with simplego's, and
// returns both results and the number of nodes the fast paths took.
func runBoth[F graph.ExecGraphFn](t *testing.T, b backends.Backend, fn F, args ...any) (fast, stock []float32, hits int64) {
	t.Helper()
	exec := graph.MustNewExec(b, fn)
	defer SetEnabled(true)
	SetEnabled(true)
	before := fastCalls.Load()
	fast = tensors.MustCopyFlatData[float32](exec.MustExec1(args...))
	hits = fastCalls.Load() - before
	SetEnabled(false)
	stock = tensors.MustCopyFlatData[float32](exec.MustExec1(args...))
	return fast, stock, hits
}

func sameBits(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
			t.Fatalf("%s: [%d] = %v, simplego %v", name, i, got[i], want[i])
		}
	}
}

func TestBinaryMatchesSimplego(t *testing.T) {
	b := newBackend(t)
	r := rand.New(rand.NewPCG(1, 2))
	ops := map[string]func(x, y *graph.Node) *graph.Node{
		"Add": graph.Add, "Sub": graph.Sub, "Mul": graph.Mul, "Div": graph.Div, "Max": graph.Max, "Min": graph.Min,
	}
	shapes := []struct {
		name     string
		lhs, rhs []int
	}{
		{"same", []int{3, 5, 7}, []int{3, 5, 7}},
		{"channel", []int{4, 6, 5, 5}, []int{1, 6, 1, 1}},
		{"channel-lhs", []int{1, 6, 1, 1}, []int{4, 6, 5, 5}},
		{"size-1", []int{4, 6}, []int{1, 1}},
		{"scalar", []int{4, 6, 3}, nil},
		{"scalar-lhs", nil, []int{4, 6, 3}},
		{"both-broadcast", []int{4, 1, 3}, []int{1, 5, 1}},
		{"last-axis", []int{7, 9}, []int{1, 9}},
		{"first-axis", []int{7, 9}, []int{7, 1}},
		{"large-channel", []int{16, 64, 9, 9}, []int{1, 64, 1, 1}},
		{"large-same", []int{70001}, []int{70001}},
		{"large-rows", []int{300, 257}, []int{300, 1}},
	}
	for _, s := range shapes {
		x, y := randomTensor(r, s.lhs, true), randomTensor(r, s.rhs, true)
		for name, op := range ops {
			fast, stock, hits := runBoth(t, b, op, x, y)
			if hits == 0 {
				t.Errorf("%s %s: the fast path did not run", name, s.name)
			}
			sameBits(t, name+" "+s.name, fast, stock)
		}
	}
}

func TestReductionsMatchFloat64(t *testing.T) {
	b := newBackend(t)
	r := rand.New(rand.NewPCG(3, 4))
	cases := []struct {
		dims []int
		axes []int
	}{
		{[]int{8, 16, 6, 6}, []int{0, 2, 3}}, // BatchNorm statistics
		{[]int{64, 32, 16, 16}, []int{0, 2, 3}},
		{[]int{5, 7}, []int{0}},
		{[]int{5, 7}, []int{1}},
		{[]int{5, 7}, []int{0, 1}},
		{[]int{3, 1, 4, 5}, []int{1, 3}},
		{[]int{3, 4, 5, 6}, []int{1, 2}},
		{[]int{300000}, []int{0}},
		{[]int{2, 40000}, []int{0}},
	}
	for _, c := range cases {
		x := randomTensor(r, c.dims, false)
		flat := tensors.MustCopyFlatData[float32](x)
		for _, kind := range []string{"sum", "max"} {
			fn := func(v *graph.Node) *graph.Node { return graph.ReduceSum(v, c.axes...) }
			if kind == "max" {
				fn = func(v *graph.Node) *graph.Node { return graph.ReduceMax(v, c.axes...) }
			}
			fast, stock, hits := runBoth(t, b, fn, x)
			if hits == 0 {
				t.Errorf("%s %v over %v: the fast path did not run", kind, c.dims, c.axes)
			}
			want := reduceRef(flat, c.dims, c.axes, kind == "max")
			for i := range want {
				tol := 1e-6 * (1 + math.Abs(want[i]))
				if kind == "max" {
					tol = 0
				}
				if d := math.Abs(float64(fast[i]) - want[i]); d > tol {
					t.Fatalf("%s %v over %v: [%d] = %v, want %v (simplego %v)", kind, c.dims, c.axes, i, fast[i], want[i], stock[i])
				}
			}
		}
	}
}

// reduceRef reduces in float64 with a plain index walk.
func reduceRef(x []float32, dims, axes []int, isMax bool) []float64 {
	red := make([]bool, len(dims))
	for _, a := range axes {
		red[a] = true
	}
	outSize := 1
	for a, d := range dims {
		if !red[a] {
			outSize *= d
		}
	}
	out := make([]float64, outSize)
	if isMax {
		for i := range out {
			out[i] = math.Inf(-1)
		}
	}
	idx := make([]int, len(dims))
	for _, v := range x {
		o := 0
		for a, d := range dims {
			if !red[a] {
				o = o*d + idx[a]
			}
		}
		if isMax {
			out[o] = math.Max(out[o], float64(v))
		} else {
			out[o] += float64(v)
		}
		for a := len(dims) - 1; a >= 0; a-- {
			idx[a]++
			if idx[a] < dims[a] {
				break
			}
			idx[a] = 0
		}
	}
	return out
}

func TestBroadcastAndConvertMatchSimplego(t *testing.T) {
	b := newBackend(t)
	r := rand.New(rand.NewPCG(5, 6))
	cases := []struct {
		dims, to, expanded []int
	}{
		{[]int{1, 6, 1, 1}, []int{4, 6, 5, 5}, nil},
		{[]int{6}, []int{4, 6, 5}, []int{0, 2}},
		{[]int{4, 5}, []int{4, 3, 5}, []int{1}},
		{[]int{1, 64, 1, 1}, []int{32, 64, 8, 8}, nil},
		{[]int{7, 1}, []int{7, 300}, nil},
	}
	for _, c := range cases {
		x := randomTensor(r, c.dims, false)
		fast, stock, hits := runBoth(t, b, func(v *graph.Node) *graph.Node {
			if c.expanded == nil {
				return graph.BroadcastToDims(v, c.to...)
			}
			return graph.ExpandAndBroadcast(v, c.to, c.expanded)
		}, x)
		if hits == 0 {
			t.Errorf("BroadcastInDim %v → %v: the fast path did not run", c.dims, c.to)
		}
		sameBits(t, "BroadcastInDim", fast, stock)
	}
	for _, dims := range [][]int{{3, 7}, {64, 1000}} {
		x := randomTensor(r, dims, false)
		fast, stock, hits := runBoth(t, b, func(v *graph.Node) *graph.Node {
			return graph.ConvertDType(graph.GreaterOrEqual(v, graph.ScalarZero(v.Graph(), v.DType())), v.DType())
		}, x)
		if hits == 0 {
			t.Errorf("ConvertDType %v: the fast path did not run", dims)
		}
		sameBits(t, "ConvertDType", fast, stock)
	}
}

// TestGatherTakeMatchesSimplego: slices taken along one axis, as Reverse (fob's kernel flips)
// and embedding lookups build them, with out-of-range indices clamped as simplego does.
func TestGatherTakeMatchesSimplego(t *testing.T) {
	b := newBackend(t)
	r := rand.New(rand.NewPCG(7, 8))
	cases := []struct {
		name    string
		dims    []int
		axis    int
		indices []int32
		idxDims []int
	}{
		{"reverse axis 2", []int{6, 5, 3, 3}, 2, []int32{2, 1, 0}, []int{3, 1}},
		{"reverse axis 3", []int{64, 64, 3, 3}, 3, []int32{2, 1, 0}, []int{3, 1}},
		{"reverse 3x3 taps flattened (chunks split blocks of 9)", []int{64, 65, 9}, 2, []int32{8, 7, 6, 5, 4, 3, 2, 1, 0}, []int{9, 1}},
		{"embedding", []int{50, 8}, 0, []int32{3, 0, 49, 7, 7, 12}, []int{2, 3, 1}},
		{"clamped", []int{10, 4}, 0, []int32{-3, 12, 9}, []int{3, 1}},
		{"large", []int{200, 300}, 0, []int32{5, 199, 0, 100}, []int{4, 1}},
	}
	for _, c := range cases {
		x := randomTensor(r, c.dims, false)
		idx := tensors.FromFlatDataAndDimensions(c.indices, c.idxDims...)
		sizes := append([]int{}, c.dims...)
		sizes[c.axis] = 1
		var offset []int
		batch := len(c.idxDims) - 1
		for i := range len(c.dims) - 1 {
			if i < c.axis {
				offset = append(offset, i)
			} else {
				offset = append(offset, i+batch)
			}
		}
		fast, stock, hits := runBoth(t, b, func(v, i *graph.Node) *graph.Node {
			return graph.BackendGather(v, i, len(c.idxDims)-1, offset, []int{c.axis}, []int{c.axis}, sizes, false)
		}, x, idx)
		if hits == 0 {
			t.Errorf("%s: the fast path did not run", c.name)
		}
		sameBits(t, c.name, fast, stock)
	}
}

func TestConcatenateMatchesSimplego(t *testing.T) {
	b := newBackend(t)
	r := rand.New(rand.NewPCG(9, 10))
	cases := []struct {
		a, c []int
		axis int
	}{
		{[]int{4, 3, 1}, []int{4, 3, 1}, 2},   // phases interleaved along a trailing axis
		{[]int{2, 3, 5}, []int{2, 4, 5}, 1},   // different sizes along the axis
		{[]int{3, 7}, []int{2, 7}, 0},         // leading axis
		{[]int{64, 8, 1}, []int{64, 8, 1}, 2}, // large enough to run in parallel chunks
		{[]int{300, 200, 1}, []int{300, 200, 1}, 2},
	}
	for _, c := range cases {
		x, y := randomTensor(r, c.a, true), randomTensor(r, c.c, true)
		fast, stock, hits := runBoth(t, b, func(u, v *graph.Node) *graph.Node {
			return graph.Concatenate([]*graph.Node{u, v, u}, c.axis)
		}, x, y)
		if hits == 0 {
			t.Errorf("Concatenate %v, %v on axis %d: the fast path did not run", c.a, c.c, c.axis)
		}
		sameBits(t, "Concatenate", fast, stock)
	}
}

func TestCompareMatchesSimplego(t *testing.T) {
	b := newBackend(t)
	r := rand.New(rand.NewPCG(11, 12))
	ops := map[string]func(x, y *graph.Node) *graph.Node{
		"GreaterOrEqual": graph.GreaterOrEqual, "GreaterThan": graph.GreaterThan,
		"LessOrEqual": graph.LessOrEqual, "LessThan": graph.LessThan,
	}
	for _, dims := range [][]int{{3, 5}, {64, 40, 30}} {
		x, y := randomTensor(r, dims, true), randomTensor(r, dims, true)
		for name, op := range ops {
			fast, stock, hits := runBoth(t, b, func(u, v *graph.Node) *graph.Node {
				return graph.ConvertDType(op(u, v), u.DType())
			}, x, y)
			if hits < 2 { // the comparison and the conversion
				t.Errorf("%s %v: the fast path did not run", name, dims)
			}
			sameBits(t, name, fast, stock)
			for side, f := range map[string]func(u, v *graph.Node) *graph.Node{
				"scalar right": func(u, v *graph.Node) *graph.Node { return op(u, graph.ReduceAllMax(v)) },
				"scalar left":  func(u, v *graph.Node) *graph.Node { return op(graph.ReduceAllMax(v), u) },
				"scalar zero":  func(u, _ *graph.Node) *graph.Node { return op(u, graph.ScalarZero(u.Graph(), u.DType())) },
			} {
				fast, stock, hits := runBoth(t, b, func(u, v *graph.Node) *graph.Node {
					return graph.ConvertDType(f(u, v), u.DType())
				}, x, y)
				if hits < 2 {
					t.Errorf("%s %v, %s: the fast path did not run", name, dims, side)
				}
				sameBits(t, name+" "+side, fast, stock)
			}
		}
	}
}
