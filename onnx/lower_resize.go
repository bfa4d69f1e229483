package onnx

import (
	"errors"
	"fmt"
	"math"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
)

// Resize modes ResizeMatrix understands (ONNX Resize attribute values).
const (
	ResizeLinear  = "linear"
	ResizeNearest = "nearest"
)

// ResizeAxis describes how one axis of ONNX Resize maps output positions to input positions.
type ResizeAxis struct {
	// In and Out are the axis sizes before and after.
	In, Out int
	// Scale is Out/In unless the node gave an explicit scale (ONNX's "scales" input), which the
	// coordinate transformation then uses as given.
	Scale float64
	// Mode is ResizeLinear or ResizeNearest.
	Mode string
	// Coord is coordinate_transformation_mode: half_pixel, pytorch_half_pixel, align_corners or
	// asymmetric.
	Coord string
	// Nearest is nearest_mode: round_prefer_floor, round_prefer_ceil, floor or ceil.
	Nearest string
}

// ResizeMatrix returns the [Out, In] row-major interpolation matrix of one axis: output
// position o is the sum over i of M[o][i]·x[i]. Resize is linear in its input, so a resize of
// several axes is one such product per axis; as a constant matrix product it has a gradient on
// every backend. The weights follow onnxruntime and PyTorch (F.interpolate, upsample_bilinear2d
// and nearest): source coordinates below 0 clamp to 0, the right neighbour clamps to In-1.
func ResizeMatrix(a ResizeAxis) ([]float32, error) {
	if a.In < 1 || a.Out < 1 {
		return nil, fmt.Errorf("onnx: resize from %d to %d elements: sizes must be at least 1", a.In, a.Out)
	}
	scale := a.Scale
	if scale <= 0 {
		scale = float64(a.Out) / float64(a.In)
	}
	m := make([]float32, a.Out*a.In)
	last := float64(a.In - 1)
	for o := 0; o < a.Out; o++ {
		var x float64
		switch a.Coord {
		case "half_pixel", "":
			x = (float64(o)+0.5)/scale - 0.5
		case "pytorch_half_pixel":
			if a.Out > 1 {
				x = (float64(o)+0.5)/scale - 0.5
			}
		case "align_corners":
			// ONNX divides by In·scale - 1, the unrounded output length (Out - 1 with sizes).
			if d := float64(a.In)*scale - 1; a.Out > 1 && d > 0 {
				x = float64(o) * last / d
			}
		case "asymmetric":
			x = float64(o) / scale
		default:
			return nil, fmt.Errorf("onnx: Resize coordinate_transformation_mode %q is not supported (use half_pixel, pytorch_half_pixel, align_corners or asymmetric)", a.Coord)
		}
		row := m[o*a.In : (o+1)*a.In]
		switch a.Mode {
		case ResizeLinear:
			x = math.Min(math.Max(x, 0), last)
			x0 := math.Floor(x)
			i0 := int(x0)
			i1 := min(i0+1, a.In-1)
			w := x - x0
			row[i0] += float32(1 - w)
			row[i1] += float32(w)
		case ResizeNearest:
			var r float64
			switch a.Nearest {
			case "round_prefer_floor", "":
				if x == math.Floor(x)+0.5 {
					r = math.Floor(x)
				} else {
					r = math.Round(x)
				}
			case "round_prefer_ceil":
				r = math.Floor(x + 0.5)
			case "floor":
				r = math.Floor(x)
			case "ceil":
				r = math.Ceil(x)
			default:
				return nil, fmt.Errorf("onnx: Resize nearest_mode %q is not an ONNX mode (round_prefer_floor, round_prefer_ceil, floor, ceil)", a.Nearest)
			}
			row[int(math.Min(math.Max(r, 0), last))] = 1
		default:
			return nil, fmt.Errorf("onnx: Resize mode %q is not supported (use linear or nearest)", a.Mode)
		}
	}
	return m, nil
}

// errResizeMode marks Resize modes the lowering does not implement (an unsupported op, not a
// malformed node).
var errResizeMode = errors.New("not supported for training")

// resizeAxes reads a Resize node's attributes and constant scales/sizes against the input shape
// x and returns one ResizeAxis per axis of x. Axes whose size is not fixed must keep their size.
func resizeAxes(n *onnxpb.NodeProto, x shape, consts map[string]tensor.Tensor) ([]ResizeAxis, error) {
	mode := attrString(n, "mode", ResizeNearest)
	coord := attrString(n, "coordinate_transformation_mode", "half_pixel")
	nearest := attrString(n, "nearest_mode", "round_prefer_floor")
	switch {
	case mode != ResizeLinear && mode != ResizeNearest:
		return nil, fmt.Errorf("mode %q is %w (linear and nearest are)", mode, errResizeMode)
	case coord == "tf_crop_and_resize" || coord == "tf_half_pixel_for_nn":
		return nil, fmt.Errorf("coordinate_transformation_mode %q is %w", coord, errResizeMode)
	case findAttr(n, "axes") != nil:
		return nil, fmt.Errorf("the axes attribute (opset 18) is not supported; give scales or sizes for every axis")
	case attrString(n, "keep_aspect_ratio_policy", "stretch") != "stretch":
		return nil, fmt.Errorf("keep_aspect_ratio_policy other than stretch is not supported")
	}
	if !x.known() {
		return nil, fmt.Errorf("cannot infer the shape of its input %q; add a value_info entry for it", n.GetInput()[0])
	}
	in := func(i int) (tensor.Tensor, bool) {
		if i >= len(n.GetInput()) || n.GetInput()[i] == "" {
			return tensor.Tensor{}, false
		}
		t, ok := consts[n.GetInput()[i]]
		return t, ok
	}
	axes := make([]ResizeAxis, len(x))
	name := func(i int) string { return n.GetInput()[i] }
	if sizes, ok := in(3); ok {
		if len(sizes.I64) != len(x) {
			return nil, fmt.Errorf("sizes %q has %d values for an input of rank %d", name(3), len(sizes.I64), len(x))
		}
		for i, d := range x {
			axes[i] = ResizeAxis{In: int(d.v), Out: int(sizes.I64[i])}
		}
	} else if scales, ok := in(2); ok && len(scales.F32) > 0 {
		if len(scales.F32) != len(x) {
			return nil, fmt.Errorf("scales %q has %d values for an input of rank %d", name(2), len(scales.F32), len(x))
		}
		for i, d := range x {
			s := float64(scales.F32[i])
			if s <= 0 {
				return nil, fmt.Errorf("scales %q: scale %g of axis %d must be positive", name(2), s, i)
			}
			out := -1
			if d.isFixed() {
				out = int(math.Floor(float64(d.v) * s))
			}
			axes[i] = ResizeAxis{In: int(d.v), Out: out, Scale: s}
			if s == 1 {
				axes[i].Out = int(d.v)
			}
		}
	} else {
		return nil, fmt.Errorf("needs constant scales or sizes (inputs 3 or 4), as Constant nodes or initializers")
	}
	for i := range axes {
		a := &axes[i]
		a.Mode, a.Coord, a.Nearest = mode, coord, nearest
		if a.In < 0 && a.Out != a.In && (a.Scale != 1 || a.Out >= 0) {
			return nil, fmt.Errorf("axis %d of input %q has no fixed size but is resized; declare its size in value_info", i, n.GetInput()[0])
		}
		if a.Out < 1 && a.In >= 0 {
			return nil, fmt.Errorf("axis %d would have %d elements", i, a.Out)
		}
		if attrInt(n, "antialias", 0) != 0 && a.Out < a.In {
			return nil, fmt.Errorf("antialias=1 when downsampling is not supported")
		}
	}
	return axes, nil
}

// resize lowers Resize (linear or nearest, the usual coordinate modes) to one constant
// interpolation matrix product per resized axis (ResizeMatrix), the axis moved last by a
// Transpose and back, so forward and gradient are plain MatMuls.
func (l *lowerer) resize(n *onnxpb.NodeProto) {
	x, y := n.GetInput()[0], n.GetOutput()[0]
	axes, err := resizeAxes(n, l.shapes.shapes[x], l.consts)
	if errors.Is(err, errResizeMode) {
		l.notSupported(n, ": "+err.Error())
		return
	}
	if err != nil {
		l.fail(n, "%v", err)
		return
	}
	cur := x
	rank := len(axes)
	for i, a := range axes {
		if a.In == a.Out && (a.Scale <= 0 || a.Scale == 1) {
			continue // identity: every coordinate mode maps o to o when size and scale are unchanged
		}
		m, err := ResizeMatrix(a)
		if err != nil {
			l.fail(n, "axis %d: %v", i, err)
			return
		}
		mt := make([]float32, len(m)) // [In, Out]
		for o := 0; o < a.Out; o++ {
			for k := 0; k < a.In; k++ {
				mt[k*a.Out+o] = m[o*a.In+k]
			}
		}
		w := l.emit("Constant", nil, AttrTensor("value", tensor.F32s(mt, a.In, a.Out)))
		if i == rank-1 {
			cur = l.emit("MatMul", []string{cur, w})
			continue
		}
		perm := make([]int64, rank)
		for j := range perm {
			perm[j] = int64(j)
		}
		perm[i], perm[rank-1] = perm[rank-1], perm[i]
		t := l.emit("Transpose", []string{cur}, AttrInts("perm", perm))
		cur = l.emit("Transpose", []string{l.emit("MatMul", []string{t, w})}, AttrInts("perm", perm))
	}
	if cur == x {
		l.alias[y] = x
		return
	}
	l.nodes[len(l.nodes)-1].Output[0] = y
}

// resizeShape is Resize's output shape for the static shape inference.
func (si *shapeInference) resizeShape(n *onnxpb.NodeProto, x shape) shape {
	axes, err := resizeAxes(n, x, si.consts)
	if err != nil {
		return nil
	}
	out := make(shape, len(axes))
	for i, a := range axes {
		if a.Out >= 0 && (a.In >= 0 || a.Out != a.In) {
			out[i] = fixed(int64(a.Out))
		} else {
			out[i] = x[i]
		}
	}
	return out
}

func init() {
	loweredOps = append(loweredOps, "Resize")
	minInputs["Resize"] = 1
}
