package onnx

import (
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
)

// This file is a small static shape inference: enough to declare the shape of the dropout mask
// inputs ForImport adds (rank exact, fixed dims and named symbolic dims where they follow simply
// from the graph). Ops it does not know leave their outputs unknown.

// dim is one inferred dimension: v >= 0 is a fixed size; v < 0 is symbolic with name p ("" when
// nothing is known about it).
type dim struct {
	v int64
	p string
}

// shape is an inferred shape; nil means even the rank is unknown.
type shape []dim

func fixed(v int64) dim { return dim{v: v} }
func unknownDim() dim   { return dim{v: -1} }

func (d dim) isFixed() bool { return d.v >= 0 }

// known reports whether rank is known.
func (s shape) known() bool { return s != nil }

type shapeInference struct {
	shapes map[string]shape
	// values are the contents of int64 tensors that hold dims (Shape's output and the pieces
	// exporters cut from it and glue back: Gather, Slice, Unsqueeze, Concat), so that
	// ConstantOfShape and Expand fed by them get a shape too. scalars marks the rank-0 ones.
	values  map[string]shape
	scalars map[string]bool
	consts  map[string]tensor.Tensor
	opset   int64
}

func shapeOfValueInfo(vi *onnxpb.ValueInfoProto) shape {
	tt := vi.GetType().GetTensorType()
	if tt == nil || tt.GetShape() == nil {
		return nil
	}
	s := shape{}
	for _, d := range tt.GetShape().GetDim() {
		switch v := d.GetValue().(type) {
		case *onnxpb.TensorShapeProto_Dimension_DimValue:
			s = append(s, fixed(v.DimValue))
		case *onnxpb.TensorShapeProto_Dimension_DimParam:
			s = append(s, dim{v: -1, p: v.DimParam})
		default:
			s = append(s, unknownDim())
		}
	}
	return s
}

// inferShapes runs the inference over g; declared shapes (inputs, value_info, outputs) win over
// inferred ones.
func inferShapes(g *onnxpb.GraphProto, consts map[string]tensor.Tensor, opset int64) *shapeInference {
	si := &shapeInference{shapes: map[string]shape{}, values: map[string]shape{}, scalars: map[string]bool{}, consts: consts, opset: opset}
	for _, t := range g.GetInitializer() {
		s := shape{}
		for _, d := range t.GetDims() {
			s = append(s, fixed(d))
		}
		si.shapes[t.GetName()] = s
	}
	for _, list := range [][]*onnxpb.ValueInfoProto{g.GetInput(), g.GetValueInfo(), g.GetOutput()} {
		for _, vi := range list {
			if s := shapeOfValueInfo(vi); s.known() {
				si.shapes[vi.GetName()] = s
			}
		}
	}
	for _, n := range g.GetNode() {
		si.value(n)
		outs := si.node(n)
		for i, o := range n.GetOutput() {
			if o == "" || i >= len(outs) || !outs[i].known() {
				continue
			}
			if _, declared := si.shapes[o]; !declared {
				si.shapes[o] = outs[i]
			}
		}
	}
	return si
}

func (si *shapeInference) in(n *onnxpb.NodeProto, i int) shape {
	if i >= len(n.GetInput()) || n.GetInput()[i] == "" {
		return nil
	}
	return si.shapes[n.GetInput()[i]]
}

// constInts returns the constant int64 values of node input i, if it is a known constant.
func (si *shapeInference) constInts(n *onnxpb.NodeProto, i int) ([]int64, bool) {
	if i >= len(n.GetInput()) {
		return nil, false
	}
	t, ok := si.consts[n.GetInput()[i]]
	if !ok || t.I64 == nil {
		return nil, false
	}
	return t.I64, true
}

// node returns the inferred output shapes of n (nil entries for unknown).
func (si *shapeInference) node(n *onnxpb.NodeProto) []shape {
	x := si.in(n, 0)
	one := func(s shape) []shape { return []shape{s} }
	switch n.GetOpType() {
	case "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Neg", "Abs", "Sqrt", "Erf", "Identity", "Cast",
		"Softmax", "LogSoftmax", "LeakyRelu", "Elu", "Gelu", "Softplus", "Reciprocal", "Clip", "Sign",
		"Ceil", "Floor", "Not", "Sin", "Cos", "Dropout", "LayerNormalization", "BatchNormalization",
		"Selu", "Celu", "HardSigmoid", "HardSwish", "Mish", "Round", "CumSum", "Trilu":
		return one(x)
	case "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Where", "Equal", "Less", "LessOrEqual",
		"Greater", "GreaterOrEqual", "And", "Or", "Xor", "Sum", "Mean":
		out := x
		for i := 1; i < len(n.GetInput()); i++ {
			out = broadcast(out, si.in(n, i))
		}
		return one(out)
	case "MatMul":
		return one(matmulShape(x, si.in(n, 1)))
	case "Gemm":
		a, b := x, si.in(n, 1)
		if len(a) != 2 || len(b) != 2 {
			return one(shape{unknownDim(), unknownDim()})
		}
		m, k := a[0], b[1]
		if attrInt(n, "transA", 0) != 0 {
			m = a[1]
		}
		if attrInt(n, "transB", 0) != 0 {
			k = b[0]
		}
		return one(shape{m, k})
	case "Flatten":
		if !x.known() {
			return one(shape{unknownDim(), unknownDim()})
		}
		axis := normAxis(attrInt(n, "axis", 1), len(x))
		return one(shape{product(x[:axis]), product(x[axis:])})
	case "Transpose":
		if !x.known() {
			return nil
		}
		perm := attrInts(n, "perm", nil)
		if perm != nil && len(perm) != len(x) {
			return nil
		}
		out := make(shape, len(x))
		for i := range x {
			switch {
			case perm == nil:
				out[i] = x[len(x)-1-i]
			case perm[i] >= 0 && perm[i] < int64(len(x)):
				out[i] = x[perm[i]]
			default:
				return nil // a malformed perm: no shape
			}
		}
		return one(out)
	case "Reshape":
		return one(si.reshape(n, x))
	case "Conv", "MaxPool", "AveragePool":
		return one(poolShape(n, x, si.in(n, 1)))
	case "GlobalAveragePool", "GlobalMaxPool":
		if !x.known() || len(x) < 2 {
			return nil
		}
		out := shape{x[0], x[1]}
		for range x[2:] {
			out = append(out, fixed(1))
		}
		return one(out)
	case "Concat":
		if !x.known() {
			return nil
		}
		axis, ok := axisOf(attrInt(n, "axis", 0), len(x))
		if !ok {
			return nil
		}
		out := append(shape{}, x...)
		total := int64(0)
		for i := range n.GetInput() {
			s := si.in(n, i)
			if len(s) != len(x) || !s[axis].isFixed() {
				total = -1
				break
			}
			total += s[axis].v
		}
		if total >= 0 {
			out[axis] = fixed(total)
		} else {
			out[axis] = unknownDim()
		}
		return one(out)
	case "Gather":
		idx := si.in(n, 1)
		if !x.known() || !idx.known() {
			return nil
		}
		axis, ok := axisOf(attrInt(n, "axis", 0), len(x))
		if !ok {
			return nil
		}
		out := append(shape{}, x[:axis]...)
		out = append(out, idx...)
		return one(append(out, x[axis+1:]...))
	case "Unsqueeze":
		axes, ok := si.axes(n)
		if !x.known() || !ok {
			return nil
		}
		r := len(x) + len(axes)
		ins := map[int]bool{}
		for _, a := range axes {
			ins[normAxis(a, r)] = true
		}
		out, j := shape{}, 0
		for i := 0; i < r; i++ {
			if ins[i] {
				out = append(out, fixed(1))
			} else if j < len(x) {
				out = append(out, x[j])
				j++
			}
		}
		return one(out)
	case "Squeeze":
		axes, ok := si.axes(n)
		if !x.known() || !ok {
			return nil
		}
		drop := map[int]bool{}
		for _, a := range axes {
			drop[normAxis(a, len(x))] = true
		}
		out := shape{}
		for i, d := range x {
			if !drop[i] && !(len(axes) == 0 && d.isFixed() && d.v == 1) {
				out = append(out, d)
			}
		}
		return one(out)
	case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd":
		axes, ok := si.axes(n)
		if !x.known() || !ok {
			return nil
		}
		keep := attrInt(n, "keepdims", 1) != 0
		if len(axes) == 0 && attrInt(n, "noop_with_empty_axes", 0) != 0 {
			return one(x)
		}
		red := map[int]bool{}
		for _, a := range axes {
			red[normAxis(a, len(x))] = true
		}
		out := shape{}
		for i, d := range x {
			switch {
			case !red[i] && len(axes) > 0:
				out = append(out, d)
			case keep:
				out = append(out, fixed(1))
			}
		}
		return one(out)
	case "Shape":
		if !x.known() {
			return one(shape{unknownDim()})
		}
		if v, ok := si.values[n.GetOutput()[0]]; ok {
			return one(shape{fixed(int64(len(v)))})
		}
		return one(shape{unknownDim()})
	case "ConstantOfShape":
		return one(si.shapeValue(n, 0))
	case "Expand":
		return one(broadcast(x, si.shapeValue(n, 1)))
	case "ScatterND", "ScatterElements":
		return one(x)
	case "Resize":
		return one(si.resizeShape(n, x))
	case "Constant":
		if t, ok := si.consts[n.GetOutput()[0]]; ok {
			s := shape{}
			for _, d := range t.Shape {
				s = append(s, fixed(int64(d)))
			}
			return one(s)
		}
	}
	return nil
}

// shapeValue returns the shape that node input i holds as a value (see values) or a constant;
// when only its length is known, a shape of that many unknown dims; otherwise nil.
func (si *shapeInference) shapeValue(n *onnxpb.NodeProto, i int) shape {
	if i >= len(n.GetInput()) {
		return nil
	}
	if v, ok := si.dims(n.GetInput()[i]); ok {
		return v
	}
	if s := si.in(n, i); len(s) == 1 && s[0].isFixed() && s[0].v <= maxRank {
		out := make(shape, s[0].v)
		for j := range out {
			out[j] = unknownDim()
		}
		return out
	}
	return nil
}

// dims returns the dims held by the int64 tensor name: a tracked value or a constant.
func (si *shapeInference) dims(name string) (shape, bool) {
	if v, ok := si.values[name]; ok {
		return v, true
	}
	if c, ok := si.consts[name]; ok && c.I64 != nil && len(c.Shape) <= 1 {
		s := shape{}
		for _, d := range c.I64 {
			s = append(s, fixed(d))
		}
		return s, true
	}
	return nil, false
}

// value tracks dims through the ops exporters use to compute shapes (see values).
func (si *shapeInference) value(n *onnxpb.NodeProto) {
	if len(n.GetOutput()) == 0 || len(n.GetInput()) == 0 {
		return
	}
	out, in := n.GetOutput()[0], n.GetInput()[0]
	switch n.GetOpType() {
	case "Shape":
		x := si.shapes[in]
		if !x.known() {
			return
		}
		start, end := normAxis(attrInt(n, "start", 0), len(x)), len(x)
		if e := attrInt(n, "end", int64(len(x))); e < int64(len(x)) {
			end = normAxis(e, len(x))
		}
		if start > end {
			start = end
		}
		si.values[out] = append(shape{}, x[start:end]...)
	case "Gather":
		if len(n.GetInput()) < 2 || attrInt(n, "axis", 0) != 0 {
			return
		}
		v, ok := si.dims(in)
		idx, iok := si.consts[n.GetInput()[1]]
		if !ok || !iok || idx.I64 == nil || len(idx.Shape) > 1 {
			return
		}
		var sel shape
		for _, k := range idx.I64 {
			if k < 0 {
				k += int64(len(v))
			}
			if k < 0 || k >= int64(len(v)) {
				return
			}
			sel = append(sel, v[k])
		}
		si.values[out] = sel
		si.scalars[out] = len(idx.Shape) == 0
	case "Unsqueeze":
		if v, ok := si.values[in]; ok && si.scalars[in] {
			si.values[out] = v
		}
	case "Squeeze":
		if v, ok := si.values[in]; ok && len(v) == 1 && !si.scalars[in] {
			si.values[out] = v
			si.scalars[out] = true
		}
	case "Cast", "Identity":
		if v, ok := si.values[in]; ok {
			si.values[out] = v
			si.scalars[out] = si.scalars[in]
		}
	case "Concat":
		var all shape
		for _, name := range n.GetInput() {
			v, ok := si.dims(name)
			if !ok || si.scalars[name] {
				return
			}
			all = append(all, v...)
		}
		si.values[out] = all
	case "Slice":
		v, ok := si.values[in]
		if !ok || si.scalars[in] || len(n.GetInput()) < 3 {
			return
		}
		starts, ok1 := si.constInts(n, 1)
		ends, ok2 := si.constInts(n, 2)
		if !ok1 || !ok2 || len(starts) != 1 || len(ends) != 1 {
			return
		}
		if len(n.GetInput()) > 4 && n.GetInput()[4] != "" {
			if steps, ok := si.constInts(n, 4); !ok || len(steps) != 1 || steps[0] != 1 {
				return
			}
		}
		clamp := func(i int64) int {
			if i < 0 {
				i += int64(len(v))
			}
			return int(max(0, min(i, int64(len(v)))))
		}
		a, b := clamp(starts[0]), clamp(ends[0])
		if a > b {
			a = b
		}
		si.values[out] = append(shape{}, v[a:b]...)
	}
}

// axes reads reduce/squeeze axes from the attribute (old opsets) or the constant second input.
func (si *shapeInference) axes(n *onnxpb.NodeProto) ([]int64, bool) {
	if a := attrInts(n, "axes", nil); a != nil {
		return a, true
	}
	if len(n.GetInput()) > 1 && n.GetInput()[1] != "" {
		return si.constInts(n, 1)
	}
	return nil, true
}

func (si *shapeInference) reshape(n *onnxpb.NodeProto, x shape) shape {
	target, ok := si.constInts(n, 1)
	if !ok {
		return nil
	}
	out := make(shape, len(target))
	inferAt := -1
	for i, t := range target {
		switch {
		case t == 0 && attrInt(n, "allowzero", 0) == 0:
			if i < len(x) {
				out[i] = x[i]
			} else {
				out[i] = unknownDim()
			}
		case t == -1:
			inferAt = i
			out[i] = unknownDim()
		default:
			out[i] = fixed(t)
		}
	}
	if inferAt >= 0 && x.known() {
		// The -1 dim is total(x) / product(other dims): computable when the symbolic dims on
		// both sides cancel (the common case: the batch dim kept with 0 or by name).
		num, numSyms := split(x)
		rest := append(append(shape{}, out[:inferAt]...), out[inferAt+1:]...)
		den, denSyms := split(rest)
		if leftover, ok := cancel(numSyms, denSyms); ok && den > 0 && num%den == 0 {
			switch len(leftover) {
			case 0:
				out[inferAt] = fixed(num / den)
			case 1:
				if num == den {
					out[inferAt] = dim{v: -1, p: leftover[0]}
				}
			}
		}
	}
	return out
}

// split returns the product of the fixed dims and the names of the symbolic ones ("" for an
// unknown one, which makes cancel fail).
func split(s shape) (int64, []string) {
	p := int64(1)
	var syms []string
	for _, d := range s {
		if d.isFixed() {
			p *= d.v
		} else {
			syms = append(syms, d.p)
		}
	}
	return p, syms
}

// cancel removes each name of den from num; it fails on unknown dims or a den name not in num.
func cancel(num, den []string) ([]string, bool) {
	left := append([]string{}, num...)
	for _, d := range den {
		if d == "" {
			return nil, false
		}
		found := false
		for i, n := range left {
			if n == d {
				left = append(left[:i], left[i+1:]...)
				found = true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	for _, n := range left {
		if n == "" {
			return nil, false
		}
	}
	return left, true
}

func product(s shape) dim {
	p, syms := split(s)
	switch {
	case len(syms) == 0:
		return fixed(p)
	case len(syms) == 1 && p == 1:
		return dim{v: -1, p: syms[0]}
	}
	return unknownDim()
}

func broadcast(a, b shape) shape {
	if !a.known() || !b.known() {
		return nil
	}
	if len(a) < len(b) {
		a, b = b, a
	}
	out := append(shape{}, a...)
	off := len(a) - len(b)
	for i, db := range b {
		da := a[off+i]
		switch {
		case da.isFixed() && da.v == 1:
			out[off+i] = db
		case db.isFixed() && db.v == 1:
			out[off+i] = da
		case da.isFixed():
			out[off+i] = da
		case db.isFixed():
			out[off+i] = db
		case da.p != "" && da.p == db.p:
			out[off+i] = da
		default:
			out[off+i] = unknownDim()
		}
	}
	return out
}

func matmulShape(a, b shape) shape {
	if !a.known() || !b.known() || len(a) == 0 || len(b) == 0 {
		return nil
	}
	switch {
	case len(a) == 1 && len(b) == 1:
		return shape{}
	case len(a) == 1:
		return append(append(shape{}, b[:len(b)-2]...), b[len(b)-1])
	case len(b) == 1:
		return append(shape{}, a[:len(a)-1]...)
	}
	batch := broadcast(a[:len(a)-2], b[:len(b)-2])
	return append(append(shape{}, batch...), a[len(a)-2], b[len(b)-1])
}

// poolShape infers Conv/MaxPool/AveragePool outputs: [N, C or M, spatial...] with spatial sizes
// computed when input size, kernel, strides, pads and dilations are all known.
func poolShape(n *onnxpb.NodeProto, x, w shape) shape {
	if !x.known() || len(x) < 3 {
		return nil
	}
	sp := len(x) - 2
	out := shape{x[0], x[1]}
	if n.GetOpType() == "Conv" {
		if w.known() && len(w) == len(x) {
			out[1] = w[0]
		} else {
			out[1] = unknownDim()
		}
	}
	kernel := attrInts(n, "kernel_shape", nil)
	if kernel == nil && w.known() && len(w) == len(x) {
		for _, d := range w[2:] {
			kernel = append(kernel, d.v)
		}
	}
	strides := attrInts(n, "strides", ones(sp))
	dil := attrInts(n, "dilations", ones(sp))
	pads := attrInts(n, "pads", make([]int64, 2*sp))
	auto := attrString(n, "auto_pad", "NOTSET")
	for i := 0; i < sp; i++ {
		d := x[2+i]
		if !d.isFixed() || len(kernel) != sp || len(strides) != sp || len(dil) != sp || len(pads) != 2*sp ||
			kernel[i] < 0 || (auto != "NOTSET" && auto != "VALID") || attrInt(n, "ceil_mode", 0) != 0 {
			out = append(out, unknownDim())
			continue
		}
		p := pads[i] + pads[i+sp]
		if auto == "VALID" {
			p = 0
		}
		eff := dil[i]*(kernel[i]-1) + 1
		out = append(out, fixed((d.v+p-eff)/strides[i]+1))
	}
	return out
}

func ones(n int) []int64 {
	o := make([]int64, n)
	for i := range o {
		o[i] = 1
	}
	return o
}

// maxRank bounds the ranks inference builds from a tensor's length (a corrupt file may claim
// a shape tensor of 2^40 elements).
const maxRank = 64

// axisOf normalises an axis of a tensor of the given rank (negative counts from the end); ok
// is false when it is out of range.
func axisOf(a int64, rank int) (int, bool) {
	if a < 0 {
		a += int64(rank)
	}
	return int(a), a >= 0 && a < int64(rank)
}

// normAxis normalises an axis like axisOf, clamping out-of-range values to [0, rank].
func normAxis(a int64, rank int) int {
	if a < 0 {
		a += int64(rank)
	}
	if a < 0 {
		return 0
	}
	if int(a) > rank {
		return rank
	}
	return int(a)
}

func findAttr(n *onnxpb.NodeProto, name string) *onnxpb.AttributeProto {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

func attrInt(n *onnxpb.NodeProto, name string, def int64) int64 {
	if a := findAttr(n, name); a != nil {
		return a.GetI()
	}
	return def
}

func attrFloat(n *onnxpb.NodeProto, name string, def float32) float32 {
	if a := findAttr(n, name); a != nil {
		return a.GetF()
	}
	return def
}

func attrInts(n *onnxpb.NodeProto, name string, def []int64) []int64 {
	if a := findAttr(n, name); a != nil {
		return a.GetInts()
	}
	return def
}

func attrString(n *onnxpb.NodeProto, name, def string) string {
	if a := findAttr(n, name); a != nil {
		return string(a.GetS())
	}
	return def
}
