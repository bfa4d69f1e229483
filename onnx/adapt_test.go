package onnx

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
	"google.golang.org/protobuf/proto"
)

// namedModel builds ins → Sum → Relu per output; with capture, one more node carries a
// subgraph that reads the first input from the enclosing scope.
func namedModel(t *testing.T, ins, outs []string, extra string) *onnxpb.ModelProto {
	t.Helper()
	b := NewBuilder("named")
	for _, in := range ins {
		b.Input(in, "float32", "batch", 4)
	}
	s := b.Tmp("s")
	b.Node("Sum", ins, []string{s})
	if extra != "" { // an intermediate tensor named extra
		b.Node("Relu", []string{s}, []string{extra})
		s = extra
	}
	for _, out := range outs {
		b.Output(out, "float32", "batch", 4)
		b.Node("Relu", []string{s}, []string{out})
	}
	b.Initializer("w", tensor.F32s([]float32{1, 2, 3, 4}, 4))
	return mustModel(t, b)
}

func TestAdaptNames(t *testing.T) {
	want := Signature{
		Inputs:  []TensorSpec{spec("image", "float32", "batch", 4)},
		Outputs: []TensorSpec{spec("logits", "float32", "batch", 4)},
	}
	cases := []struct {
		name      string
		ins, outs []string
		extra     string
		renames   string // fmt of the []Rename returned
		err       string // "" = no error
	}{
		{"already named", []string{"image"}, []string{"logits"}, "", "[]", ""},
		{"torch default names", []string{"input"}, []string{"output"}, "",
			"[{input input image} {output output logits}]", ""},
		{"only the input", []string{"x.1"}, []string{"logits"}, "", "[{input x.1 image}]", ""},
		{"ambiguous inputs", []string{"a", "b"}, []string{"logits"}, "", "",
			`the task expects one input, image float32[batch,4], but the model has 2 inputs ("a", "b") and none is named "image"`},
		{"ambiguous outputs", []string{"image"}, []string{"p", "q"}, "", "",
			`export the model with output_names=["logits"]`},
		{"name taken", []string{"input"}, []string{"logits"}, "image", "",
			`the graph already uses "image" for another tensor`},
		{"two inputs, one right", []string{"image", "mask"}, []string{"logits"}, "", "[]", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := namedModel(t, c.ins, c.outs, c.extra)
			before := proto.Clone(m)
			got, err := want.AdaptNames(m)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				if !proto.Equal(before, m) {
					t.Error("the model changed although adapting failed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := fmt.Sprint(got); s != c.renames && !(c.renames == "[]" && len(got) == 0) {
				t.Errorf("renames %s, want %s", s, c.renames)
			}
			if err := Validate(m); err != nil {
				t.Fatalf("renamed model is invalid: %v", err)
			}
			sig, err := SignatureOf(m)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.ins) == 1 {
				if err := want.Check(sig); err != nil {
					t.Errorf("renamed model does not fit: %v", err)
				}
			}
		})
	}
}

// TestAdaptNamesSubgraph: a subgraph that reads the input from the enclosing scope follows the
// rename.
func TestAdaptNamesSubgraph(t *testing.T) {
	m := namedModel(t, []string{"input"}, []string{"logits"}, "")
	body := &onnxpb.GraphProto{Name: proto.String("body"), Node: []*onnxpb.NodeProto{
		{OpType: proto.String("Relu"), Input: []string{"input"}, Output: []string{"r"}}}}
	m.Graph.Node = append(m.Graph.Node, &onnxpb.NodeProto{OpType: proto.String("If"), Input: []string{"c"},
		Output: []string{"unused"}, Attribute: []*onnxpb.AttributeProto{
			{Name: proto.String("then_branch"), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: body}}})
	want := Signature{Inputs: []TensorSpec{spec("image", "float32", "batch", 4)}, Outputs: []TensorSpec{spec("logits", "float32", "batch", 4)}}
	if _, err := want.AdaptNames(m); err != nil {
		t.Fatal(err)
	}
	if got := body.Node[0].Input[0]; got != "image" {
		t.Errorf("subgraph still reads %q", got)
	}
	if got := m.Graph.Node[0].Input[0]; got != "image" {
		t.Errorf("first node reads %q", got)
	}
}
