package runtime_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/fob-go/fob/runtime"
	"github.com/fob-go/fob/runtime/gemm"
	"github.com/fob-go/fob/tasks/data"
)

// convCase is one convolution: shapes in ONNX layout (x [N, C, spatial...], w [M, C/groups,
// kernel...]), pads as ONNX's [begin..., end...].
type convCase struct {
	name   string
	x, w   []int
	stride []int
	pads   []int
	dil    []int
	groups int
}

// convCases cover what CNNs use (ResNet's 3x3 and 1x1 and 7x7/2 stem, SegFormer's depthwise
// 3x3 and strided patch embeddings) and the corners: asymmetric pads, dilation, groups, 1-D/3-D.
var convCases = []convCase{
	{"3x3 s1 p1", []int{2, 3, 6, 6}, []int{4, 3, 3, 3}, []int{1, 1}, []int{1, 1, 1, 1}, []int{1, 1}, 1},
	{"3x3 s2 p1", []int{2, 4, 7, 7}, []int{5, 4, 3, 3}, []int{2, 2}, []int{1, 1, 1, 1}, []int{1, 1}, 1},
	{"1x1 s2 (downsample)", []int{2, 4, 6, 6}, []int{6, 4, 1, 1}, []int{2, 2}, []int{0, 0, 0, 0}, []int{1, 1}, 1},
	{"1x1 s1", []int{3, 5, 4, 4}, []int{2, 5, 1, 1}, []int{1, 1}, []int{0, 0, 0, 0}, []int{1, 1}, 1},
	{"7x7 s2 p3 (stem)", []int{2, 3, 12, 12}, []int{4, 3, 7, 7}, []int{2, 2}, []int{3, 3, 3, 3}, []int{1, 1}, 1},
	{"3x3 dilation 2", []int{2, 3, 9, 9}, []int{4, 3, 3, 3}, []int{1, 1}, []int{2, 2, 2, 2}, []int{2, 2}, 1},
	{"asymmetric pads, rect kernel, mixed strides", []int{2, 3, 7, 8}, []int{4, 3, 2, 3}, []int{2, 1}, []int{0, 1, 2, 0}, []int{1, 1}, 1},
	{"groups 2", []int{2, 4, 5, 5}, []int{6, 2, 3, 3}, []int{1, 1}, []int{1, 1, 1, 1}, []int{1, 1}, 2},
	{"depthwise 3x3", []int{2, 6, 5, 5}, []int{6, 1, 3, 3}, []int{1, 1}, []int{1, 1, 1, 1}, []int{1, 1}, 6},
	{"depthwise x2 s2", []int{2, 3, 6, 6}, []int{6, 1, 3, 3}, []int{2, 2}, []int{1, 1, 1, 1}, []int{1, 1}, 3},
	{"patch embed 7x7 s4 p3", []int{1, 3, 16, 16}, []int{8, 3, 7, 7}, []int{4, 4}, []int{3, 3, 3, 3}, []int{1, 1}, 1},
	{"kernel covers input", []int{2, 3, 3, 3}, []int{4, 3, 3, 3}, []int{1, 1}, []int{0, 0, 0, 0}, []int{1, 1}, 1},
	{"contraction over several chunks", []int{2, 260, 5, 4}, []int{40, 260, 3, 3}, []int{1, 1}, []int{1, 1, 1, 1}, []int{1, 1}, 1},
	{"3x3 s1 p1, output rows of 16", []int{2, 3, 5, 16}, []int{4, 3, 3, 3}, []int{1, 1}, []int{1, 1, 1, 1}, []int{1, 1}, 1},
	{"3x3 s1 p1, rows of 32, partial contraction block", []int{1, 5, 3, 32}, []int{6, 5, 3, 3}, []int{1, 1}, []int{1, 1, 1, 1}, []int{1, 1}, 1},
	{"one row of 16: half block past the end", []int{1, 3, 1, 18}, []int{4, 3, 1, 3}, []int{1, 1}, []int{0, 0, 0, 0}, []int{1, 1}, 1},
	{"dilation 2, asymmetric pads, rows of 16", []int{2, 3, 6, 18}, []int{5, 3, 3, 2}, []int{1, 1}, []int{2, 0, 1, 0}, []int{1, 2}, 1},
	{"groups 2, rows of 16", []int{2, 4, 4, 16}, []int{6, 2, 3, 3}, []int{1, 1}, []int{1, 1, 1, 1}, []int{1, 1}, 2},
	{"direct kernels: 3x3 s1 p1, 16 channels, rows of 16", []int{2, 16, 9, 16}, []int{16, 16, 3, 3}, []int{1, 1}, []int{1, 1, 1, 1}, []int{1, 1}, 1},
	{"direct kernels: 5x3, asymmetric pads, 17 channels, rows of 20", []int{2, 17, 10, 20}, []int{24, 17, 5, 3}, []int{1, 1}, []int{2, 0, 1, 2}, []int{1, 1}, 1},
	{"direct kernel gradient: 3x3 s2 p1, 16 channels", []int{2, 16, 12, 16}, []int{16, 16, 3, 3}, []int{2, 2}, []int{1, 1, 1, 1}, []int{1, 1}, 1},
	{"direct kernel gradient: 1x1 s2 (downsample), 16 channels", []int{2, 16, 8, 8}, []int{8, 16, 1, 1}, []int{2, 2}, []int{0, 0, 0, 0}, []int{1, 1}, 1},
	{"1-D", []int{2, 3, 10}, []int{4, 3, 3}, []int{2}, []int{1, 2}, []int{1}, 1},
	{"3-D", []int{1, 2, 4, 5, 4}, []int{3, 2, 2, 3, 2}, []int{1, 2, 1}, []int{1, 0, 1, 0, 1, 1}, []int{1, 1, 1}, 1},
}

func (c convCase) axes() backends.ConvolveAxesConfig {
	sp := make([]int, len(c.x)-2)
	for i := range sp {
		sp[i] = i + 2
	}
	return backends.ConvolveAxesConfig{InputBatch: 0, InputChannels: 1, InputSpatial: sp,
		KernelOutputChannels: 0, KernelInputChannels: 1, KernelSpatial: sp,
		OutputBatch: 0, OutputChannels: 1, OutputSpatial: sp}
}

func (c convCase) paddings() [][2]int {
	k := len(c.x) - 2
	p := make([][2]int, k)
	for i := range p {
		p[i] = [2]int{c.pads[i], c.pads[i+k]}
	}
	return p
}

// stockLoop is the backend spec whose float32 convolutions run simplego's own loop (with
// gemm.SetConvEnabled(false), see withStockLoop).
const stockLoop = "go:" + runtime.NativeConvOption

// withStockLoop runs fn with simplego's convolution loop instead of fob's block kernel.
func withStockLoop(fn func()) {
	gemm.SetConvEnabled(false)
	defer gemm.SetConvEnabled(true)
	fn()
}

// convGrads runs y = conv(x, w) and the gradients of sum(y * r) on backend spec.
func convGrads(t *testing.T, spec string, c convCase, x, w, r *tensors.Tensor) (y, dx, dw []float32) {
	t.Helper()
	if spec == stockLoop {
		withStockLoop(func() { y, dx, dw = convGrads(t, "go:"+runtime.NativeConvOption+",", c, x, w, r) })
		return
	}
	x, w, r = fresh(x), fresh(w), fresh(r) // a tensor cannot move between backends
	b, err := runtime.NewBackend(spec)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	e, err := graph.NewExec(b, func(x, w, r *graph.Node) []*graph.Node {
		y := graph.ConvGeneral(x, w, c.axes(), c.stride, c.paddings(), nil, c.dil, c.groups, 1)
		g := graph.Gradient(graph.ReduceAllSum(graph.Mul(y, r)), x, w)
		return []*graph.Node{y, g[0], g[1]}
	})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := e.Exec(x, w, r)
	if err != nil {
		t.Fatalf("%s: %v", spec, err)
	}
	return tensors.MustCopyFlatData[float32](outs[0]), tensors.MustCopyFlatData[float32](outs[1]), tensors.MustCopyFlatData[float32](outs[2])
}

func fresh(t *tensors.Tensor) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(tensors.MustCopyFlatData[float32](t), t.Shape().Dimensions...)
}

// closeTo compares within tol of the larger of 1 and want's root mean square: float32 sums
// of thousands of products differ by rounding on that scale, whatever the element's own size.
func closeTo(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	ss := 0.0
	for _, v := range want {
		ss += float64(v) * float64(v)
	}
	scale := max(1, math.Sqrt(ss/float64(max(1, len(want)))))
	worst := 0.0
	for i := range want {
		d := math.Abs(float64(got[i]-want[i])) / scale
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		worst = max(worst, d)
	}
	if worst > tol {
		t.Errorf("%s: max difference %.3g × rms > %.3g", what, worst, tol)
	}
}

func randTensor(rng *rand.Rand, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(v, dims...)
}

// TestConvMatchesNative compares fob's convolution paths, the kernels of runtime/gemm (default:
// direct kernels where they apply, the block product elsewhere; each gathering path; the block
// product alone) and the rewrite into one DotGeneral (conv=compose), with simplego's own loop: forward and both
// gradients, which are further convolutions (reversed kernels, input dilation for strided
// convolutions, batch and channel axes swapped, windows as large as the image for the kernel
// gradient).
func TestConvMatchesNative(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range convCases {
		t.Run(c.name, func(t *testing.T) {
			x, w := randTensor(rng, c.x...), randTensor(rng, c.w...)
			probe := graphShape(t, c, x, w)
			r := randTensor(rng, probe...)
			ny, ndx, ndw := convGrads(t, stockLoop, c, x, w, r)
			for _, spec := range []string{"go", "go (no masked gather)", "go (block product)", "go:" + runtime.ComposeConvOption} {
				var y, dx, dw []float32
				switch spec {
				case "go (no masked gather)": // the copy path that CPUs without AVX-512 take
					gemm.SetMaskedGather(false)
					y, dx, dw = convGrads(t, "go", c, x, w, r)
					gemm.SetMaskedGather(true)
				case "go (block product)": // what the direct kernels replace on AVX-512 CPUs
					gemm.SetDirect(false)
					y, dx, dw = convGrads(t, "go", c, x, w, r)
					gemm.SetDirect(true)
				default:
					y, dx, dw = convGrads(t, spec, c, x, w, r)
				}
				closeTo(t, spec+" y", y, ny, 1e-5)
				closeTo(t, spec+" dx", dx, ndx, 1e-5)
				closeTo(t, spec+" dw", dw, ndw, 1e-5)
			}
		})
	}
}

// graphShape returns the output dims of case c.
func graphShape(t *testing.T, c convCase, x, w *tensors.Tensor) []int {
	t.Helper()
	b, err := runtime.NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	var dims []int
	e, err := graph.NewExec(b, func(x, w *graph.Node) *graph.Node {
		y := graph.ConvGeneral(x, w, c.axes(), c.stride, c.paddings(), nil, c.dil, c.groups, 1)
		dims = y.Shape().Dimensions
		return y
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Exec(fresh(x), fresh(w)); err != nil {
		t.Fatal(err)
	}
	return dims
}

// TestConvLayouts runs the forms only GoMLX itself builds: channels-last input and output,
// a kernel in [spatial..., in, out] order, input dilation and negative padding.
func TestConvLayouts(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	axes := backends.ConvolveAxesConfig{InputBatch: 0, InputChannels: 3, InputSpatial: []int{1, 2},
		KernelOutputChannels: 3, KernelInputChannels: 2, KernelSpatial: []int{0, 1},
		OutputBatch: 0, OutputChannels: 3, OutputSpatial: []int{1, 2}}
	cases := []struct {
		name                 string
		strides, inDil, kDil []int
		pads                 [][2]int
		groups               int
	}{
		{"channels last", []int{1, 1}, []int{1, 1}, []int{1, 1}, [][2]int{{1, 1}, {1, 1}}, 1},
		{"input dilation", []int{1, 1}, []int{2, 3}, []int{1, 1}, [][2]int{{2, 1}, {1, 2}}, 1},
		{"negative padding", []int{1, 2}, []int{1, 1}, []int{1, 1}, [][2]int{{-1, 1}, {0, -1}}, 1},
		{"input dilation, kernel dilation, groups", []int{1, 1}, []int{2, 1}, []int{1, 2}, [][2]int{{1, 1}, {2, 2}}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x, w := randTensor(rng, 2, 6, 7, 4), randTensor(rng, 3, 3, 4/c.groups, 6)
			run := func(spec string) []float32 {
				b, err := runtime.NewBackend(spec)
				if err != nil {
					t.Fatal(err)
				}
				defer b.Finalize()
				e, err := graph.NewExec(b, func(x, w *graph.Node) *graph.Node {
					return graph.ConvGeneral(x, w, axes, c.strides, c.pads, c.inDil, c.kDil, c.groups, 1)
				})
				if err != nil {
					t.Fatal(err)
				}
				out, err := e.Exec(fresh(x), fresh(w))
				if err != nil {
					t.Fatalf("%s: %v", spec, err)
				}
				return tensors.MustCopyFlatData[float32](out[0])
			}
			var want []float32
			withStockLoop(func() { want = run(stockLoop) })
			closeTo(t, "block kernel", run("go"), want, 1e-5)
			closeTo(t, "compose", run("go:"+runtime.ComposeConvOption), want, 1e-5)
		})
	}
}

// TestConvMatchesPyTorch checks forward and both gradients against torch.nn.functional.conv*d
// (testdata/conv_torch.py writes inputs and results; skipped without python3-torch).
func TestConvMatchesPyTorch(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		t.Skip("needs /usr/bin/python3 with python3-torch (scripts/install-deps.sh)")
	}
	dir := t.TempDir()
	var cfg []map[string]any
	for _, c := range convCases {
		cfg = append(cfg, map[string]any{"x": c.x, "w": c.w, "stride": c.stride, "pads": c.pads, "dil": c.dil, "groups": c.groups})
	}
	js, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "cfg.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("/usr/bin/python3", "testdata/conv_torch.py", dir, filepath.Join(dir, "cfg.json")).CombinedOutput(); err != nil {
		t.Fatalf("testdata/conv_torch.py: %v\n%s", err, out)
	}
	load := func(name string, i int) *tensors.Tensor {
		shape, d, err := data.ReadNPY(filepath.Join(dir, fmt.Sprintf("%s_%d.npy", name, i)))
		if err != nil {
			t.Fatal(err)
		}
		return tensors.FromFlatDataAndDimensions(d.([]float32), shape...)
	}
	for i, c := range convCases {
		t.Run(c.name, func(t *testing.T) {
			for _, spec := range []string{"go", "go:" + runtime.ComposeConvOption} {
				y, dx, dw := convGrads(t, spec, c, load("x", i), load("w", i), load("r", i))
				closeTo(t, spec+" y", y, tensors.MustCopyFlatData[float32](load("y", i)), 1e-5)
				closeTo(t, spec+" dx", dx, tensors.MustCopyFlatData[float32](load("dx", i)), 1e-5)
				closeTo(t, spec+" dw", dw, tensors.MustCopyFlatData[float32](load("dw", i)), 1e-5)
			}
		})
	}
}

// TestConvOverwritesPooledOutput: fob's kernels get convolution outputs straight from
// simplego's buffer pool, not zeroed (runtime/executors' ConvGeneral), so they must write every
// element. The pool is filled with NaN buffers of each output's shape first; the results (the
// forward convolution and both gradients, each another convolution) must still match
// simplego's loop, on the direct kernels, the block product and the depthwise path.
func TestConvOverwritesPooledOutput(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	cases := []convCase{
		{"direct, rows of 16", []int{2, 16, 6, 16}, []int{16, 16, 3, 3}, []int{1, 1}, []int{1, 1, 1, 1}, []int{1, 1}, 1},
		{"direct mosaic, 4x4", []int{9, 16, 4, 4}, []int{8, 16, 3, 3}, []int{1, 1}, []int{1, 1, 1, 1}, []int{1, 1}, 1},
		{"block product, stride 2", []int{2, 5, 7, 7}, []int{6, 5, 3, 3}, []int{2, 2}, []int{1, 1, 1, 1}, []int{1, 1}, 1},
		{"depthwise", []int{2, 6, 5, 5}, []int{6, 1, 3, 3}, []int{1, 1}, []int{1, 1, 1, 1}, []int{1, 1}, 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x, w := randTensor(rng, c.x...), randTensor(rng, c.w...)
			r := randTensor(rng, graphShape(t, c, x, w)...)
			want := make([][]float32, 3)
			want[0], want[1], want[2] = convGrads(t, stockLoop, c, x, w, r)
			b, err := runtime.NewBackend("go")
			if err != nil {
				t.Fatal(err)
			}
			defer b.Finalize()
			for _, dims := range [][]int{r.Shape().Dimensions, c.x, c.w} { // outputs of y, dx, dw
				poison, err := graph.NewExec(b, func(v *graph.Node) *graph.Node {
					return graph.AddScalar(graph.MulScalar(v, 0), math.NaN())
				})
				if err != nil {
					t.Fatal(err)
				}
				for range 4 {
					out, err := poison.Exec(randTensor(rng, dims...))
					if err != nil {
						t.Fatal(err)
					}
					out[0].FinalizeAll() // back to the pool, full of NaN
				}
			}
			e, err := graph.NewExec(b, func(x, w, r *graph.Node) []*graph.Node {
				y := graph.ConvGeneral(x, w, c.axes(), c.stride, c.paddings(), nil, c.dil, c.groups, 1)
				return append([]*graph.Node{y}, graph.Gradient(graph.ReduceAllSum(graph.Mul(y, r)), x, w)...)
			})
			if err != nil {
				t.Fatal(err)
			}
			outs, err := e.Exec(fresh(x), fresh(w), fresh(r))
			if err != nil {
				t.Fatal(err)
			}
			for i, name := range []string{"y", "dx", "dw"} {
				closeTo(t, name, tensors.MustCopyFlatData[float32](outs[i]), want[i], 1e-5)
			}
		})
	}
}
