package onnx

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
)

// resizeModel is Z = Resize(X) * Wt with Resize given by sizes (or scales when scales != nil).
func resizeModel(t *testing.T, xs, ys []int, scales []float32, attrs ...any) *Builder {
	t.Helper()
	b := NewBuilder("resize")
	b.Input("X", "float32", xs[0], xs[1], xs[2], xs[3])
	b.Input("Wt", "float32", ys[0], ys[1], ys[2], ys[3])
	var a []*onnxpb.AttributeProto
	for _, v := range attrs {
		a = append(a, v.(*onnxpb.AttributeProto))
	}
	if scales != nil {
		b.Node("Constant", nil, []string{"scales"}, AttrTensor("value", tensor.F32s(scales, len(scales))))
		b.Node("Resize", []string{"X", "", "scales"}, []string{"Y"}, a...)
	} else {
		sizes := []int64{int64(ys[0]), int64(ys[1]), int64(ys[2]), int64(ys[3])}
		b.Node("Constant", nil, []string{"sizes"}, AttrTensor("value", tensor.I64s(sizes, 4)))
		b.Node("Resize", []string{"X", "", "", "sizes"}, []string{"Y"}, a...)
	}
	b.Node("Mul", []string{"Y", "Wt"}, []string{"Z"})
	b.Output("Z", "float32", ys[0], ys[1], ys[2], ys[3])
	return b
}

// TestResizeMatchesTorch checks the lowered Resize against PyTorch's F.interpolate (bilinear
// with and without align_corners, up and down, non-integer ratios; legacy nearest): forward in
// onnxruntime (the unlowered node) and GoMLX (the lowering), and the input gradient in GoMLX
// against PyTorch's autograd.
func TestResizeMatchesTorch(t *testing.T) {
	if out, err := exec.Command("/usr/bin/python3", "-c", "import torch").CombinedOutput(); err != nil {
		t.Fatalf("the PyTorch reference needs /usr/bin/python3 with torch (apt-get install python3-torch): %v\n%s", err, out)
	}
	path := filepath.Join(t.TempDir(), "ref.json")
	if out, err := exec.Command("/usr/bin/python3", "testdata/resize_torch_ref.py", path).CombinedOutput(); err != nil {
		t.Fatalf("resize_torch_ref.py: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name         string    `json:"name"`
		Mode         string    `json:"mode"`
		AlignCorners bool      `json:"align_corners"`
		XShape       []int     `json:"x_shape"`
		YShape       []int     `json:"y_shape"`
		X            []float32 `json:"x"`
		W            []float32 `json:"w"`
		Y            []float32 `json:"y"`
		Grad         []float32 `json:"grad"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			var attrs []any
			switch {
			case c.Mode == "nearest":
				// PyTorch's legacy nearest: src = floor(dst * in/out).
				attrs = append(attrs, AttrString("mode", "nearest"), AttrString("coordinate_transformation_mode", "asymmetric"),
					AttrString("nearest_mode", "floor"))
			case c.AlignCorners:
				attrs = append(attrs, AttrString("mode", "linear"), AttrString("coordinate_transformation_mode", "align_corners"))
			default:
				attrs = append(attrs, AttrString("mode", "linear"), AttrString("coordinate_transformation_mode", "pytorch_half_pixel"))
			}
			m := mustModel(t, resizeModel(t, c.XShape, c.YShape, nil, attrs...))
			in := map[string]tensor.Tensor{"X": tensor.F32s(c.X, c.XShape...), "Wt": tensor.F32s(c.W, c.YShape...)}
			want := make([]float32, len(c.Y))
			for i := range want {
				want[i] = c.Y[i] * c.W[i]
			}
			wantZ := tensor.F32s(want, c.YShape...)
			assertClose(t, "onnxruntime vs PyTorch", runORT(t, m, in)["Z"], wantZ, 1e-5)
			low, _, err := ForImport(m, ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range low.Graph.Node {
				if n.GetOpType() == "Resize" {
					t.Fatal("Resize survived lowering")
				}
			}
			res, err := evalGoMLX(t, low, in, []string{"Z", "X"})
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, "GoMLX vs PyTorch", res["Z"], wantZ, 1e-5)
			assertClose(t, "GoMLX gradient vs PyTorch", res["grad"], tensor.F32s(c.Grad, c.XShape...), 1e-5)
		})
	}
}

// TestResizeScalesInput: with a scales input (2x up, as SegFormer's decode head writes it) the
// lowering matches onnxruntime, and the shape inference gives the output shape.
func TestResizeScalesInput(t *testing.T) {
	xs, ys := []int{1, 2, 4, 3}, []int{1, 2, 8, 6}
	m := mustModel(t, resizeModel(t, xs, ys, []float32{1, 1, 2, 2}, AttrString("mode", "linear")))
	w := make([]float32, 2*8*6)
	for i := range w {
		w[i] = 1
	}
	x := make([]float32, 24)
	for i := range x {
		x[i] = float32(i*i%7) - 3
	}
	in := map[string]tensor.Tensor{"X": tensor.F32s(x, xs...), "Wt": tensor.F32s(w, ys...)}
	want := runORT(t, m, in)["Z"]
	low, _, err := ForImport(m, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "GoMLX vs onnxruntime", runGoMLX(t, low, in)["Z"], want, 1e-6)
	si := inferShapes(m.Graph, graphConsts(m.Graph), Opset)
	if got := fmt.Sprint(si.shapes["Y"]); got != fmt.Sprint(shape{fixed(1), fixed(2), fixed(8), fixed(6)}) {
		t.Errorf("inferred Resize shape %s, want [1 2 8 6]", got)
	}
}

// TestResizeErrors: unsupported modes and missing constants are clear errors naming the node.
func TestResizeErrors(t *testing.T) {
	xs, ys := []int{1, 1, 4, 4}, []int{1, 1, 8, 8}
	for _, c := range []struct {
		name  string
		attrs []any
		want  string
	}{
		{"cubic", []any{AttrString("mode", "cubic")}, `mode "cubic" is not supported for training`},
		{"tf", []any{AttrString("mode", "linear"), AttrString("coordinate_transformation_mode", "tf_crop_and_resize")}, "tf_crop_and_resize"},
		{"nearest_mode", []any{AttrString("mode", "nearest"), AttrString("nearest_mode", "middle")}, `nearest_mode "middle"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := mustModel(t, resizeModel(t, xs, ys, nil, c.attrs...))
			_, _, err := ForImport(m, ImportOptions{})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "Resize") {
				t.Fatalf("error %v, want one naming Resize and containing %q", err, c.want)
			}
		})
	}
	// No constant sizes: the sizes come from a graph input.
	b := NewBuilder("dyn")
	b.Input("X", "float32", 1, 1, 4, 4)
	b.Input("S", "int64", 4)
	b.Node("Resize", []string{"X", "", "", "S"}, []string{"Y"}, AttrString("mode", "linear"))
	b.Output("Y", "float32", 1, 1, 8, 8)
	if _, _, err := ForImport(mustModel(t, b), ImportOptions{}); err == nil || !strings.Contains(err.Error(), "constant scales or sizes") {
		t.Fatalf("error %v, want one asking for constant scales or sizes", err)
	}
}

// TestResizeMatrixRows: every row of an interpolation matrix sums to 1 (linear weights are a
// partition of unity; nearest picks one source).
func TestResizeMatrixRows(t *testing.T) {
	for _, a := range []ResizeAxis{
		{In: 7, Out: 3, Mode: ResizeLinear, Coord: "half_pixel"},
		{In: 3, Out: 11, Mode: ResizeLinear, Coord: "align_corners"},
		{In: 5, Out: 1, Mode: ResizeLinear, Coord: "pytorch_half_pixel"},
		{In: 4, Out: 9, Mode: ResizeNearest, Coord: "half_pixel", Nearest: "round_prefer_ceil"},
	} {
		m, err := ResizeMatrix(a)
		if err != nil {
			t.Fatal(err)
		}
		for o := 0; o < a.Out; o++ {
			var s float32
			for _, v := range m[o*a.In : (o+1)*a.In] {
				s += v
			}
			if d := s - 1; d > 1e-6 || d < -1e-6 {
				t.Errorf("%+v: row %d sums to %g", a, o, s)
			}
		}
	}
	if _, err := ResizeMatrix(ResizeAxis{In: 0, Out: 3, Mode: ResizeLinear}); err == nil {
		t.Error("In=0 accepted")
	}
}
