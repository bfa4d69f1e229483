package onnx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
)

// validChain is X[batch,4] -> Relu -> a -> Neg -> b -> Abs -> Y[batch,4], with a weight W[4,4]
// for the cases that need an initializer (Y2 = X W).
func validChain(t *testing.T) *onnxpb.ModelProto {
	t.Helper()
	b := NewBuilder("chain")
	b.Input("X", "float32", "batch", 4)
	b.Initializer("W", tensor.F32s(make([]float32, 16), 4, 4))
	b.Node("Relu", []string{"X"}, []string{"a"})
	b.Node("Neg", []string{"a"}, []string{"b"})
	b.Node("Abs", []string{"b"}, []string{"Y"})
	b.Node("MatMul", []string{"X", "W"}, []string{"Y2"})
	b.Output("Y", "float32", "batch", 4)
	b.Output("Y2", "float32", "batch", 4)
	return mustModel(t, b)
}

func nodeNamed(m *onnxpb.ModelProto, name string) *onnxpb.NodeProto {
	for _, n := range m.Graph.Node {
		if n.GetName() == name {
			return n
		}
	}
	panic("no node " + name)
}

func tensorType(et onnxpb.TensorProto_DataType, dims ...int64) *onnxpb.TypeProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(et)), Shape: shape}}}
}

// TestValidate: crafted bad models each give an error naming the problem; the untouched model
// and legal variants pass.
func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(m *onnxpb.ModelProto)
		want   string // "" means valid
	}{
		{"valid", func(m *onnxpb.ModelProto) {}, ""},
		{"cycle", func(m *onnxpb.ModelProto) {
			nodeNamed(m, "Relu_0").Input[0] = "b" // Relu reads Neg's output, Neg reads Relu's
		}, `the graph has a cycle: node "Relu_0" (Relu) reads "b" from node "Neg_0" (Neg), which reads "a" from node "Relu_0" (Relu); ONNX graphs must be acyclic`},
		{"self loop", func(m *onnxpb.ModelProto) {
			nodeNamed(m, "Neg_0").Input[0] = "b"
		}, `the graph has a cycle: node "Neg_0" (Neg) reads "b" from node "Neg_0" (Neg)`},
		{"not topologically sorted", func(m *onnxpb.ModelProto) {
			g := m.Graph
			g.Node[0], g.Node[1] = g.Node[1], g.Node[0]
		}, `node "Neg_0" (Neg) reads "a" (input 0), which node "Relu_0" (Relu) defines after it; ONNX requires nodes in topological order`},
		{"cycle behind an unsorted node", func(m *onnxpb.ModelProto) {
			g := m.Graph
			g.Node[2].Input[0] = "Y"  // Abs reads its own output: a cycle...
			g.Node[0].Input[0] = "Y2" // ...and Relu, off the cycle, reads the later MatMul first
		}, `the graph has a cycle: node "Abs_0" (Abs) reads "Y" from node "Abs_0" (Abs)`},
		{"dangling input", func(m *onnxpb.ModelProto) {
			nodeNamed(m, "Abs_0").Input[0] = "nowhere"
		}, `node "Abs_0" (Abs) reads "nowhere" (input 0), which no graph input, initializer or earlier node defines`},
		{"output defined twice", func(m *onnxpb.ModelProto) {
			nodeNamed(m, "Neg_0").Output[0] = "a"
		}, `"a" is defined twice: by node "Relu_0" (Relu) and by node "Neg_0" (Neg)`},
		{"node output shadows input", func(m *onnxpb.ModelProto) {
			nodeNamed(m, "Relu_0").Output[0] = "X"
			nodeNamed(m, "Neg_0").Input[0] = "X"
		}, `"X" is defined twice: by graph input and by node "Relu_0" (Relu)`},
		{"duplicate graph output", func(m *onnxpb.ModelProto) {
			m.Graph.Output = append(m.Graph.Output, proto.Clone(m.Graph.Output[0]).(*onnxpb.ValueInfoProto))
		}, `graph output "Y" is listed twice`},
		{"graph output not produced", func(m *onnxpb.ModelProto) {
			m.Graph.Output[0].Name = proto.String("Z")
		}, `graph output "Z" is not produced by any node, graph input or initializer`},
		{"wrong declared output shape", func(m *onnxpb.ModelProto) {
			m.Graph.Output[1].Type = tensorType(onnxpb.TensorProto_FLOAT, 7, 10)
		}, `graph output "Y2" is declared with shape [7,10] but the graph computes shape [batch,4] (node "MatMul_0" (MatMul) computes it)`},
		{"wrong declared output rank", func(m *onnxpb.ModelProto) {
			m.Graph.Output[0].Type = tensorType(onnxpb.TensorProto_FLOAT, 4)
		}, `graph output "Y" is declared with shape [4] but the graph computes shape [batch,4]`},
		{"output shape undeclared is fine", func(m *onnxpb.ModelProto) {
			m.Graph.Output[0].Type.GetTensorType().Shape = nil
		}, ""},
		{"opset too new", func(m *onnxpb.ModelProto) {
			m.OpsetImport[0].Version = proto.Int64(99)
		}, "opset 99 of the default domain is newer than 26, the newest onnxruntime 1.30 supports; export with opset_version <= 26"},
		{"opset zero", func(m *onnxpb.ModelProto) {
			m.OpsetImport[0].Version = proto.Int64(0)
		}, "opset_import gives domain ai.onnx (default) version 0; versions start at 1"},
		{"opset listed twice", func(m *onnxpb.ModelProto) {
			m.OpsetImport = append(m.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: proto.String("ai.onnx"), Version: proto.Int64(13)})
		}, "opset_import lists domain ai.onnx (default) twice"},
		{"unknown domain", func(m *onnxpb.ModelProto) {
			m.OpsetImport = append(m.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: proto.String("com.example"), Version: proto.Int64(1)})
		}, `opset_import names domain "com.example", whose ops neither fob nor onnxruntime knows`},
		{"domain of a model-local function", func(m *onnxpb.ModelProto) {
			m.OpsetImport = append(m.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: proto.String("local"), Version: proto.Int64(1)})
			m.Functions = append(m.Functions, &onnxpb.FunctionProto{Name: proto.String("f"), Domain: proto.String("local")})
		}, ""},
		{"node domain not imported", func(m *onnxpb.ModelProto) {
			nodeNamed(m, "Abs_0").Domain = proto.String("com.microsoft")
		}, `node "Abs_0" (Abs) uses domain "com.microsoft", which opset_import does not import`},
		{"no op type", func(m *onnxpb.ModelProto) {
			nodeNamed(m, "Abs_0").OpType = nil
		}, `node "Abs_0" has no op_type`},
		{"attribute twice", func(m *onnxpb.ModelProto) {
			n := nodeNamed(m, "Abs_0")
			n.Attribute = append(n.Attribute, AttrInt("k", 1), AttrInt("k", 2))
		}, `node "Abs_0" (Abs) has attribute "k" twice`},
		{"truncated initializer", func(m *onnxpb.ModelProto) {
			w := Initializers(m)["W"]
			w.RawData = w.RawData[:40]
		}, `initializer "W" holds 40 bytes of raw_data, its dims [4 4] of FLOAT need 64 (truncated or corrupt file?)`},
		{"initializer with huge dims", func(m *onnxpb.ModelProto) {
			Initializers(m)["W"].Dims = []int64{1 << 30, 1 << 30}
		}, `initializer "W" has dims [1073741824 1073741824], more than 2^40 elements`},
		{"initializer with negative dim", func(m *onnxpb.ModelProto) {
			Initializers(m)["W"].Dims = []int64{-4, -4}
		}, `initializer "W" has negative dim -4`},
		{"initializer without element type", func(m *onnxpb.ModelProto) {
			Initializers(m)["W"].DataType = nil
		}, `initializer "W" has no element type`},
		{"initializer listed as input, agreeing", func(m *onnxpb.ModelProto) {
			m.Graph.Input = append(m.Graph.Input, &onnxpb.ValueInfoProto{Name: proto.String("W"), Type: tensorType(onnxpb.TensorProto_FLOAT, 4, 4)})
		}, ""},
		{"initializer listed as input, other type", func(m *onnxpb.ModelProto) {
			m.Graph.Input = append(m.Graph.Input, &onnxpb.ValueInfoProto{Name: proto.String("W"), Type: tensorType(onnxpb.TensorProto_INT64, 4, 4)})
		}, `graph input "W" is declared int64 but its initializer holds float32`},
		{"initializer listed as input, other shape", func(m *onnxpb.ModelProto) {
			m.Graph.Input = append(m.Graph.Input, &onnxpb.ValueInfoProto{Name: proto.String("W"), Type: tensorType(onnxpb.TensorProto_FLOAT, 2, 8)})
		}, `graph input "W" is declared with shape [2,8] but its initializer has dims [4 4]`},
		{"value_info disagreeing with initializer", func(m *onnxpb.ModelProto) {
			m.Graph.ValueInfo = append(m.Graph.ValueInfo, &onnxpb.ValueInfoProto{Name: proto.String("W"), Type: tensorType(onnxpb.TensorProto_FLOAT, 4)})
		}, `value_info "W" is declared with shape [4] but its initializer has dims [4 4]`},
		{"graph input without type", func(m *onnxpb.ModelProto) {
			m.Graph.Input[0].Type = nil
		}, `graph input "X" has no type; the exporter must declare it`},
		{"graph output without element type", func(m *onnxpb.ModelProto) {
			m.Graph.Output[0].Type.GetTensorType().ElemType = nil
		}, `graph output "Y" has no element type`},
		{"negative declared dim", func(m *onnxpb.ModelProto) {
			m.Graph.Input[0].Type = tensorType(onnxpb.TensorProto_FLOAT, -1, 4)
		}, `graph input "X" dim 0 is -1; sizes cannot be negative`},
		{"subgraph reading an outer name", func(m *onnxpb.ModelProto) {
			addIf(m, "a")
		}, ""},
		{"subgraph reading an undefined name", func(m *onnxpb.ModelProto) {
			addIf(m, "ghost")
		}, `node "If_0" (If) attribute "then_branch" (subgraph "then"): node "Neg_in_then" (Neg) reads "ghost" (input 0), which no graph input, initializer or earlier node defines`},
		{"several problems listed", func(m *onnxpb.ModelProto) {
			nodeNamed(m, "Abs_0").Input[0] = "nowhere"
			m.Graph.Output = append(m.Graph.Output, proto.Clone(m.Graph.Output[0]).(*onnxpb.ValueInfoProto))
		}, `reads "nowhere" (input 0), which no graph input, initializer or earlier node defines; graph output "Y" is listed twice`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := validChain(t)
			c.mutate(m)
			err := Validate(m)
			if c.want == "" {
				if err != nil {
					t.Fatalf("valid model rejected: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), `onnx: not a valid ONNX model: graph "chain": `) {
				t.Fatalf("error %q does not start with the model and graph", err)
			}
		})
	}
}

// addIf adds If(cond) whose branches compute Neg(read) (then) and the outer "a" (else) and
// makes its output a graph output.
func addIf(m *onnxpb.ModelProto, read string) {
	branch := func(name, in string) *onnxpb.GraphProto {
		return &onnxpb.GraphProto{Name: proto.String(name),
			Node:   []*onnxpb.NodeProto{{Name: proto.String("Neg_in_" + name), OpType: proto.String("Neg"), Input: []string{in}, Output: []string{name + "_out"}}},
			Output: []*onnxpb.ValueInfoProto{{Name: proto.String(name + "_out"), Type: tensorType(onnxpb.TensorProto_FLOAT)}}}
	}
	g := m.Graph
	g.Input = append(g.Input, &onnxpb.ValueInfoProto{Name: proto.String("cond"), Type: tensorType(onnxpb.TensorProto_BOOL)})
	g.Node = append(g.Node, &onnxpb.NodeProto{Name: proto.String("If_0"), OpType: proto.String("If"), Input: []string{"cond"}, Output: []string{"r"},
		Attribute: []*onnxpb.AttributeProto{
			{Name: proto.String("then_branch"), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: branch("then", read)},
			{Name: proto.String("else_branch"), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: branch("else", "a")},
		}})
	g.Output = append(g.Output, &onnxpb.ValueInfoProto{Name: proto.String("r"), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(1)}}}})
}

// TestValidateLongChain: a deep graph (and a cycle through all of it) is checked without deep
// recursion.
func TestValidateLongChain(t *testing.T) {
	const n = 50000
	b := NewBuilder("long")
	b.Input("X", "float32", 2)
	prev := "X"
	for i := 0; i < n; i++ {
		next := b.Tmp("h")
		b.Node("Neg", []string{prev}, []string{next})
		prev = next
	}
	b.Output(prev, "float32", 2)
	m := mustModel(t, b)
	if err := Validate(m); err != nil {
		t.Fatal(err)
	}
	m.Graph.Node[0].Input[0] = prev // the first node reads the last: one cycle through all
	err := Validate(m)
	if err == nil || !strings.Contains(err.Error(), "the graph has a cycle") {
		t.Fatalf("error %v, want a cycle", err)
	}
}

// TestLoadValidates: Load rejects malformed files with the file name, and the models fob
// reads from disk (PyTorch's export in testdata) pass.
func TestLoadValidates(t *testing.T) {
	if _, err := Load("testdata/torch_mlp.onnx"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cyclic := validChain(t)
	nodeNamed(cyclic, "Relu_0").Input[0] = "b"
	valid, err := Marshal(validChain(t))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		model *onnxpb.ModelProto
		raw   []byte
		want  string
	}{
		"cyclic.onnx":    {model: cyclic, want: "the graph has a cycle"},
		"truncated.onnx": {raw: valid[:len(valid)-9], want: "not a valid ONNX model"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			raw := c.raw
			if c.model != nil {
				if raw, err = Marshal(c.model); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(path, raw, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path+": not a valid ONNX model") {
				t.Fatalf("Load: %v\nwant the path and %q", err, c.want)
			}
		})
	}
}
