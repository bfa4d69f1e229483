package onnx

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
)

// scatterCase is a ScatterElements(data, indices, updates) model, Y = its output times a
// constant weight W (so that gradients differ per element), with inputs to feed.
type scatterCase struct {
	name     string
	opset    int64
	axis     int64
	red      string // "" leaves the attribute out
	data     []int
	idx      [][]int64 // per update element, flattened row-major: idx[0] is the flat list
	upd      []int
	rows     bool // indices built as Expand(Unsqueeze(rowIdx), Shape(updates))
	rowScat  bool // the lowering must be a row scatter (no CumSum)
	negative bool // some indices negative
}

func (c scatterCase) build(t *testing.T, r *rand.Rand) (*onnxpb.ModelProto, map[string]tensor.Tensor, tensor.Tensor) {
	t.Helper()
	b := NewBuilder("scatter")
	dataDims := []any{"n"}
	for _, d := range c.data[1:] {
		dataDims = append(dataDims, d)
	}
	b.Input("data", "float32", dataDims...)
	updDims := []any{"e"}
	for _, d := range c.upd[1:] {
		updDims = append(updDims, d)
	}
	b.Input("updates", "float32", updDims...)
	axis := c.axis
	if axis < 0 {
		axis += int64(len(c.data))
	}
	size := c.data[axis]
	nUpd := 1
	for _, d := range c.upd {
		nUpd *= d
	}
	var inputs = map[string]tensor.Tensor{"data": randF32(r, 1, c.data...), "updates": randF32(r, 1, c.upd...)}
	var idx tensor.Tensor
	if c.rows {
		b.Input("rows", "int64", "e")
		v := make([]int64, c.upd[0])
		for i := range v {
			v[i] = int64(r.IntN(size))
			if c.negative && i%3 == 0 {
				v[i] -= int64(size)
			}
		}
		inputs["rows"] = tensor.I64s(v, len(v))
		b.Node("Unsqueeze", []string{"rows", "unsq_axes"}, []string{"col"})
		var axes []int64 // a column [e, 1, ..., 1] of data's rank
		for d := 1; d < len(c.data); d++ {
			axes = append(axes, int64(d))
		}
		b.Initializer("unsq_axes", tensor.I64s(axes, len(axes)))
		b.Node("Shape", []string{"updates"}, []string{"ushape"})
		b.Node("Expand", []string{"col", "ushape"}, []string{"indices"})
		full := make([]int64, nUpd)
		for i := range full {
			full[i] = v[i/(nUpd/c.upd[0])]
		}
		idx = tensor.I64s(full, c.upd...)
	} else {
		b.Input("indices", "int64", updDims...)
		v := make([]int64, nUpd)
		for i := range v {
			v[i] = int64(r.IntN(size))
			if c.negative && i%3 == 0 {
				v[i] -= int64(size)
			}
		}
		if c.red == "none" || c.red == "" {
			// Without a reduction duplicates are undefined: a permutation along the axis.
			v = uniqueAlong(r, c.upd, int(axis), size)
		}
		idx = tensor.I64s(v, c.upd...)
		inputs["indices"] = idx
	}
	attrs := []*onnxpb.AttributeProto{AttrInt("axis", c.axis)}
	if c.red != "" {
		attrs = append(attrs, AttrString("reduction", c.red))
	}
	b.Node("ScatterElements", []string{"data", "indices", "updates"}, []string{"s"}, attrs...)
	w := randF32(r, 1, c.data...)
	b.Initializer("W", w)
	b.Node("Mul", []string{"s", "W"}, []string{"Y"})
	b.Output("Y", "float32", dataDims...)
	m := mustModel(t, b)
	setOpset(m, c.opset)
	return m, inputs, expectedUpdatesGrad(c, idx, w, int(axis))
}

// uniqueAlong returns indices for shape upd that are distinct along axis (a prefix of a random
// permutation of 0..size-1 per line).
func uniqueAlong(r *rand.Rand, upd []int, axis, size int) []int64 {
	n := 1
	for _, d := range upd {
		n *= d
	}
	inner := 1
	for _, d := range upd[axis+1:] {
		inner *= d
	}
	v := make([]int64, n)
	for outer := 0; outer < n/(inner*upd[axis]); outer++ {
		for in := 0; in < inner; in++ {
			perm := r.Perm(size)
			for k := 0; k < upd[axis]; k++ {
				v[(outer*upd[axis]+k)*inner+in] = int64(perm[k])
			}
		}
	}
	return v
}

// expectedUpdatesGrad is d sum(Y)/d updates for add, max-free cases: the weight W at the
// element each update lands on.
func expectedUpdatesGrad(c scatterCase, idx, w tensor.Tensor, axis int) tensor.Tensor {
	strides := make([]int, len(c.data))
	s := 1
	for i := len(c.data) - 1; i >= 0; i-- {
		strides[i] = s
		s *= c.data[i]
	}
	g := make([]float32, len(idx.I64))
	coord := make([]int, len(c.upd))
	for i := range g {
		rem := i
		for d := len(c.upd) - 1; d >= 0; d-- {
			coord[d] = rem % c.upd[d]
			rem /= c.upd[d]
		}
		off := 0
		for d := range coord {
			v := coord[d]
			if d == axis {
				v = int(idx.I64[i])
				if v < 0 {
					v += c.data[axis]
				}
			}
			off += v * strides[d]
		}
		g[i] = w.F32[off]
	}
	return tensor.F32s(g, c.upd...)
}

// TestScatterElements: the lowering to ScatterND computes what onnxruntime computes, in both
// forms (row scatter and element scatter), and GoMLX's gradient with respect to the updates is
// the weight at each update's target.
func TestScatterElements(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	cases := []scatterCase{
		{name: "rows add (message passing)", opset: 18, red: "add", data: []int{7, 5}, upd: []int{20, 5}, rows: true, rowScat: true},
		{name: "rows add negative", opset: 18, red: "add", data: []int{7, 5}, upd: []int{20, 5}, rows: true, rowScat: true, negative: true},
		{name: "rows none rank 3", opset: 16, red: "none", data: []int{9, 2, 3}, upd: []int{1, 2, 3}, rows: true, rowScat: true},
		{name: "column indices [e,1]", opset: 18, red: "add", data: []int{6, 1}, upd: []int{10, 1}, rowScat: true},
		{name: "axis 1 add negative", opset: 18, axis: 1, red: "add", data: []int{3, 6}, upd: []int{3, 4}, negative: true},
		{name: "axis 0 narrower updates", opset: 18, red: "add", data: []int{5, 4}, upd: []int{8, 2}},
		{name: "axis -1 rank 3 add", opset: 18, axis: -1, red: "add", data: []int{2, 3, 5}, upd: []int{2, 2, 7}},
		{name: "axis 1 rank 3 none", opset: 18, axis: 1, red: "none", data: []int{2, 6, 3}, upd: []int{2, 4, 3}},
		{name: "opset 13 no reduction", opset: 13, axis: 0, data: []int{6, 3}, upd: []int{4, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, inputs, wantGrad := c.build(t, r)
			low := compareLowered(t, m, inputs, 1e-5)
			ops := opsOf(low)
			if ops["ScatterElements"] != 0 || ops["ScatterND"] != 1 {
				t.Fatalf("lowered ops %v", ops)
			}
			if c.rowScat != (ops["CumSum"] == 0) {
				t.Fatalf("row scatter expected %v, lowered ops %v", c.rowScat, ops)
			}
			got, err := evalGoMLX(t, low, inputs, []string{"Y", "updates"})
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, "d sum(Y) / d updates", got["grad"], wantGrad, 1e-6)
		})
	}
}

func TestScatterElementsErrors(t *testing.T) {
	build := func(opset int64, attrs ...*onnxpb.AttributeProto) *onnxpb.ModelProto {
		b := NewBuilder("scatter")
		b.Input("data", "float32", 4, 3)
		b.Input("indices", "int64", 2, 3)
		b.Input("updates", "float32", 2, 3)
		b.Node("ScatterElements", []string{"data", "indices", "updates"}, []string{"Y"}, attrs...)
		b.Output("Y", "float32", 4, 3)
		m := mustModel(t, b)
		setOpset(m, opset)
		return m
	}
	cases := []struct {
		name string
		m    *onnxpb.ModelProto
		want string
	}{
		{"mul", build(18, AttrString("reduction", "mul")), "with reduction=mul"},
		{"unknown reduction", build(18, AttrString("reduction", "sum")), `reduction "sum" is not an ONNX ScatterElements mode`},
		{"axis out of range", build(18, AttrInt("axis", 2)), "axis 2 is out of range for data of rank 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := ForImport(c.m, ImportOptions{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}
