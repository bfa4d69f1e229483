package gemm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

// kernels lists the block kernels this CPU runs, by name.
func kernels() map[string]func(out, lhs, rhsT []float32) {
	k := map[string]func(out, lhs, rhsT []float32){"go": block32Go}
	if hasKernel {
		k["avx2"] = func(out, lhs, rhsT []float32) { block32AVX2(&out[0], &lhs[0], &rhsT[0]) }
	}
	if useAVX512 {
		k["avx512"] = func(out, lhs, rhsT []float32) { block32AVX512(&out[0], &lhs[0], &rhsT[0]) }
	}
	return k
}

// TestBlock32: each assembly kernel computes what the portable reference does.
func TestBlock32(t *testing.T) {
	if !Available() {
		t.Skip(ErrUnavailable)
	}
	r := rand.New(rand.NewPCG(1, 2))
	lhs, rhsT, out := randSlice(r, BlockSize), randSlice(r, BlockSize), randSlice(r, BlockSize)
	want := append([]float32{}, out...)
	block32Go(want, lhs, rhsT)
	for name, kernel := range kernels() {
		got := append([]float32{}, out...)
		kernel(got, lhs, rhsT)
		for i := range got {
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-5 {
				t.Fatalf("%s: element %d: %v, want %v", name, i, got[i], want[i])
			}
		}
	}
}

// BenchmarkBlock32 reports each kernel's speed on one 32×32×32 block product held in cache.
//
//	go test -run '^$' -bench Block32 ./runtime/gemm
func BenchmarkBlock32(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	lhs, rhsT, out := randSlice(r, BlockSize), randSlice(r, BlockSize), randSlice(r, BlockSize)
	for name, kernel := range kernels() {
		b.Run(name, func(b *testing.B) {
			for range b.N {
				kernel(out, lhs, rhsT)
			}
			b.ReportMetric(2*BlockSize*Dim*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func TestTransposeBlocks(t *testing.T) {
	src := make([]float32, 2*BlockSize)
	for i := range src {
		src[i] = float32(i)
	}
	dst := make([]float32, len(src))
	transposeBlocks(dst, src)
	for b := 0; b < 2; b++ {
		for r := 0; r < Dim; r++ {
			for c := 0; c < Dim; c++ {
				if dst[b*BlockSize+c*Dim+r] != src[b*BlockSize+r*Dim+c] {
					t.Fatalf("block %d (%d,%d) not transposed", b, r, c)
				}
			}
		}
	}
}

// kernelBackend installs the kernel (skipping tb on CPUs without it) and returns the go backend;
// the kernel is switched back on when tb ends.
func kernelBackend(tb testing.TB) backends.Backend {
	tb.Helper()
	if err := Install(); err != nil {
		tb.Skip(err)
	}
	tb.Cleanup(func() { SetEnabled(true) })
	backend, err := backends.NewWithConfig("go")
	if err != nil {
		tb.Fatal(err)
	}
	return backend
}

// batchedProduct compiles lhs [batch, m, k] · rhs [batch, k, n] as a GoMLX DotGeneral.
func batchedProduct(backend backends.Backend) *graph.Exec {
	return graph.MustNewExec(backend, func(a, b *graph.Node) *graph.Node {
		return graph.DotGeneral(a, []int{2}, []int{0}, b, []int{1}, []int{0})
	})
}

func product(exec *graph.Exec, lhs, rhs *tensors.Tensor) []float32 {
	return tensors.MustCopyFlatData[float32](exec.MustExec(lhs, rhs)[0])
}

// TestDotGeneral: products large enough for simplego's blocked path, with sizes that are not
// multiples of the block, agree with a float64 reference with the kernel and with simplego's own.
func TestDotGeneral(t *testing.T) {
	backend := kernelBackend(t)
	exec := batchedProduct(backend)
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ batch, m, k, n int }{{1, 300, 200, 150}, {2, 130, 45, 257}, {3, 64, 1433, 70}} {
		a, b := randSlice(r, c.batch*c.m*c.k), randSlice(r, c.batch*c.k*c.n)
		want := make([]float64, c.batch*c.m*c.n)
		for bi := 0; bi < c.batch; bi++ {
			for i := 0; i < c.m; i++ {
				for j := 0; j < c.n; j++ {
					var s float64
					for k := 0; k < c.k; k++ {
						s += float64(a[(bi*c.m+i)*c.k+k]) * float64(b[(bi*c.k+k)*c.n+j])
					}
					want[(bi*c.m+i)*c.n+j] = s
				}
			}
		}
		lhs := tensors.FromFlatDataAndDimensions(a, c.batch, c.m, c.k)
		rhs := tensors.FromFlatDataAndDimensions(b, c.batch, c.k, c.n)
		for _, on := range []bool{true, false} {
			SetEnabled(on)
			got := product(exec, lhs, rhs)
			var worst float64
			for i := range got {
				worst = math.Max(worst, math.Abs(float64(got[i])-want[i]))
			}
			if tol := 1e-6 * float64(c.k); worst > tol {
				t.Errorf("%+v kernel=%v: max error %g, want <= %g", c, on, worst, tol)
			}
		}
	}
}

// BenchmarkDotGeneral compares the kernel with simplego's own on a product the size of a tabular
// FT-Transformer feed-forward layer (2304 tokens × 192 → 512):
//
//	go test -run '^$' -bench DotGeneral ./runtime/gemm/
func BenchmarkDotGeneral(b *testing.B) {
	backend := kernelBackend(b)
	r := rand.New(rand.NewPCG(5, 6))
	lhs := tensors.FromFlatDataAndDimensions(randSlice(r, 2304*192), 1, 2304, 192)
	rhs := tensors.FromFlatDataAndDimensions(randSlice(r, 192*512), 1, 192, 512)
	exec := batchedProduct(backend)
	for _, on := range []bool{false, true} {
		name := map[bool]string{false: "simplego", true: "avx2"}[on]
		b.Run(name, func(b *testing.B) {
			SetEnabled(on)
			product(exec, lhs, rhs)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				product(exec, lhs, rhs)
			}
			b.ReportMetric(2*2304*192*512*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestDotGeneralLayouts (products with over 16 blocks of output, simplego's blocked path): operands in every axis order simplego's DotGeneral accepts (batch and
// contracting axes anywhere, several contracting axes) give, in float32 with the kernel and the
// fast block copies, what the same product gives in float64 (which fob leaves to simplego).
func TestDotGeneralLayouts(t *testing.T) {
	backend := kernelBackend(t)
	r := rand.New(rand.NewPCG(7, 8))
	cases := []struct {
		name                   string
		lhsDims, rhsDims       []int
		lhsK, lhsB, rhsK, rhsB []int
	}{
		{"transposed lhs [k,m], rhs [n,k]", []int{150, 170}, []int{140, 150}, []int{0}, nil, []int{1}, nil},
		{"batch in the middle", []int{150, 2, 70}, []int{2, 70, 160}, []int{2}, []int{1}, []int{1}, []int{0}},
		{"two contracting axes, swapped", []int{150, 6, 20}, []int{20, 6, 130}, []int{1, 2}, nil, []int{1, 0}, nil},
		{"batch last", []int{3, 140, 90}, []int{90, 150, 3}, []int{2}, []int{0}, []int{0}, []int{2}},
	}
	size := func(d []int) int {
		n := 1
		for _, v := range d {
			n *= v
		}
		return n
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := randSlice(r, size(c.lhsDims)), randSlice(r, size(c.rhsDims))
			a64, b64 := make([]float64, len(a)), make([]float64, len(b))
			for i, v := range a {
				a64[i] = float64(v)
			}
			for i, v := range b {
				b64[i] = float64(v)
			}
			fn := func(x, y *graph.Node) *graph.Node { return graph.DotGeneral(x, c.lhsK, c.lhsB, y, c.rhsK, c.rhsB) }
			got := graph.MustExecOnce(backend, fn, tensors.FromFlatDataAndDimensions(a, c.lhsDims...), tensors.FromFlatDataAndDimensions(b, c.rhsDims...))
			want := graph.MustExecOnce(backend, fn, tensors.FromFlatDataAndDimensions(a64, c.lhsDims...), tensors.FromFlatDataAndDimensions(b64, c.rhsDims...))
			g, w := tensors.MustCopyFlatData[float32](got), tensors.MustCopyFlatData[float64](want)
			var worst float64
			for i := range g {
				worst = math.Max(worst, math.Abs(float64(g[i])-w[i]))
			}
			if worst > 1e-4 {
				t.Errorf("max |float32 - float64| = %g", worst)
			}
		})
	}
}
