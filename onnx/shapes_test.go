package onnx

import (
	"testing"

	"github.com/fob-go/fob/runtime/tensor"
)

// TestShapeValues: the inference follows dims through the shape arithmetic exporters write
// (torch's zeros(n), expand(-1, C)), so that ConstantOfShape, Expand and the scatters that
// consume them get shapes.
func TestShapeValues(t *testing.T) {
	b := NewBuilder("shapes")
	b.Input("X", "float32", "N", 3, 5)
	b.Input("Y", "float32", "N", 4)
	b.Input("idx", "int64", "E")
	b.Initializer("zero", tensor.I64s([]int64{0}))
	b.Initializer("one", tensor.I64s([]int64{1}, 1))
	b.Initializer("three", tensor.I64s([]int64{3}, 1))
	b.Initializer("seven", tensor.I64s([]int64{7}, 1))
	b.Initializer("len3", tensor.I64s([]int64{3}, 1))
	// zeros(N, 7): Shape -> Gather (scalar) -> Unsqueeze -> Concat with a constant.
	b.Node("Shape", []string{"X"}, []string{"sx"})
	b.Node("Gather", []string{"sx", "zero"}, []string{"n"}, AttrInt("axis", 0))
	b.Node("Unsqueeze", []string{"n", "one0"}, []string{"n1"})
	b.Initializer("one0", tensor.I64s([]int64{0}, 1))
	b.Node("Concat", []string{"n1", "seven"}, []string{"n7"}, AttrInt("axis", 0))
	b.Node("ConstantOfShape", []string{"n7"}, []string{"zeros"})
	// Slice of a shape, Cast kept.
	b.Node("Slice", []string{"sx", "one", "three"}, []string{"tail"})
	b.Node("Cast", []string{"tail"}, []string{"tail64"}, AttrInt("to", 7))
	b.Node("ConstantOfShape", []string{"tail64"}, []string{"z35"})
	// A column expanded to another tensor's shape, then scattered into zeros like Y.
	b.Node("Unsqueeze", []string{"idx", "one"}, []string{"col"})
	b.Node("Shape", []string{"Y"}, []string{"sy"})
	b.Node("Expand", []string{"col", "sy"}, []string{"cols"})
	b.Node("ConstantOfShape", []string{"sy"}, []string{"zy"})
	b.Node("ScatterElements", []string{"zy", "cols", "Y"}, []string{"sc"}, AttrString("reduction", "add"))
	// A shape computed from values the inference cannot follow: only its length is known.
	b.Node("ConstantOfShape", []string{"len3"}, []string{"opaque"})
	b.Node("Expand", []string{"col", "opaque"}, []string{"wide"})
	for _, o := range []string{"zeros", "z35", "cols", "sc", "wide"} {
		b.Output(o, "float32")
	}
	m := mustModel(t, b)
	for _, o := range m.Graph.Output {
		o.Type.GetTensorType().Shape = nil
	}
	si := newLowerer(m, ImportOptions{}).shapes
	want := map[string]string{
		"sx": "[3]", "n7": "[2]", "zeros": "[N,7]", "z35": "[3,5]", "col": "[E,1]", "cols": "[?,4]",
		"zy": "[N,4]", "sc": "[N,4]", "opaque": "[3]", "wide": "[?,?,?]",
	}
	for name, w := range want {
		if got := si.shapes[name].String(); got != w {
			t.Errorf("%s: shape %s, want %s", name, got, w)
		}
	}
}
