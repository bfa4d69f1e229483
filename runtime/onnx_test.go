package runtime

// A minimal ONNX protobuf writer for tests: the project's own ONNX types live in another package
// that is built concurrently, and onnx-gomlx keeps its generated types internal. Field numbers are
// those of onnx.proto (IR version 8).

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	gonnx "github.com/gomlx/onnx-gomlx/onnx"
	"google.golang.org/protobuf/encoding/protowire"
)

// ONNX TensorProto data types.
const (
	onnxFloat  = 1
	onnxInt64  = 7
	onnxDouble = 11
)

type onnxAttr struct {
	name string
	f    *float32
	i    *int64
	ints []int64
}

func attrInt(name string, v int64) onnxAttr     { return onnxAttr{name: name, i: &v} }
func attrFloat(name string, v float32) onnxAttr { return onnxAttr{name: name, f: &v} }

type onnxNode struct {
	op      string
	in, out []string
	attrs   []onnxAttr
}

// onnxConst is a tensor: an initializer, or the value of a Constant node.
type onnxConst struct {
	name  string
	dims  []int64
	dtype int32
	f32   []float32
	i64   []int64
}

// onnxValue is a graph input or output; a negative dim is the symbolic batch dimension.
type onnxValue struct {
	name  string
	dtype int32
	dims  []int64
}

func appendMsg(b []byte, field protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

func appendStr(b []byte, field protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendVarint(b []byte, field protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, field, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func (t onnxConst) encode() []byte {
	var b []byte
	for _, d := range t.dims {
		b = appendVarint(b, 1, uint64(d))
	}
	b = appendVarint(b, 2, uint64(t.dtype))
	b = appendStr(b, 8, t.name)
	var raw []byte
	for _, v := range t.f32 {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	for _, v := range t.i64 {
		raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
	}
	b = appendMsg(b, 9, raw)
	return b
}

func (a onnxAttr) encode() []byte {
	b := appendStr(nil, 1, a.name)
	switch {
	case a.f != nil:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(*a.f))
		b = appendVarint(b, 20, 1) // FLOAT
	case a.i != nil:
		b = appendVarint(b, 3, uint64(*a.i))
		b = appendVarint(b, 20, 2) // INT
	default:
		for _, v := range a.ints {
			b = appendVarint(b, 8, uint64(v))
		}
		b = appendVarint(b, 20, 7) // INTS
	}
	return b
}

func (v onnxValue) encode() []byte {
	var shape []byte
	for _, d := range v.dims {
		if d < 0 { // symbolic (batch) dimension
			shape = appendMsg(shape, 1, appendStr(nil, 2, "batch"))
			continue
		}
		shape = appendMsg(shape, 1, appendVarint(nil, 1, uint64(d)))
	}
	tensorType := appendVarint(nil, 1, uint64(v.dtype))
	tensorType = appendMsg(tensorType, 2, shape)
	typ := appendMsg(nil, 1, tensorType)
	b := appendStr(nil, 1, v.name)
	return appendMsg(b, 2, typ)
}

// onnxModel encodes a model with opset 17; constants become Constant nodes.
func onnxModel(nodes []onnxNode, consts []onnxConst, inputs, outputs []onnxValue) []byte {
	var g []byte
	for _, c := range consts {
		n := appendStr(nil, 2, c.name)
		n = appendStr(n, 4, "Constant")
		attr := appendStr(nil, 1, "value")
		attr = appendMsg(attr, 5, c.encode())
		attr = appendVarint(attr, 20, 4) // TENSOR
		g = appendMsg(g, 1, appendMsg(n, 5, attr))
	}
	for i, nd := range nodes {
		var n []byte
		for _, s := range nd.in {
			n = appendStr(n, 1, s)
		}
		for _, s := range nd.out {
			n = appendStr(n, 2, s)
		}
		n = appendStr(n, 3, nd.op+string(rune('a'+i)))
		n = appendStr(n, 4, nd.op)
		for _, a := range nd.attrs {
			n = appendMsg(n, 5, a.encode())
		}
		g = appendMsg(g, 1, n)
	}
	g = appendStr(g, 2, "test")
	for _, v := range inputs {
		g = appendMsg(g, 11, v.encode())
	}
	for _, v := range outputs {
		g = appendMsg(g, 12, v.encode())
	}
	m := appendVarint(nil, 1, 8)
	m = appendMsg(m, 8, appendVarint(nil, 2, 17))
	return appendMsg(m, 7, g)
}

// parseONNX parses an encoded model with onnx-gomlx.
func parseONNX(t testing.TB, nodes []onnxNode, consts []onnxConst, inputs, outputs []onnxValue) *gonnx.Model {
	t.Helper()
	m, err := gonnx.Parse(onnxModel(nodes, consts, inputs, outputs))
	if err != nil {
		t.Fatalf("onnx-gomlx could not parse the test model: %v", err)
	}
	return m
}

// callONNX builds the model's graph on the given input nodes and returns its first output.
func callONNX(m *gonnx.Model, g *graph.Graph, inputs map[string]*graph.Node) *graph.Node {
	names, _ := m.Outputs()
	return m.CallGraph(context.New(), g, inputs, names[0])[0]
}
