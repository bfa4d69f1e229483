package onnx

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
)

const (
	// Opset is the default-domain opset version of models built with Builder.
	Opset = 17
	// IRVersion is the ONNX IR version of models built with Builder (IR 8 is what opset 17
	// needs and what onnxruntime 1.30 and Debian's onnx 1.12 both accept).
	IRVersion = 8
	// Producer is the producer_name written into built models.
	Producer = "fob"
)

// Builder assembles an ONNX graph node by node. Mistakes in the calls (unknown dtype, a bad
// dim) are remembered and reported by Model, so building code stays linear.
type Builder struct {
	name     string
	inputs   []*onnxpb.ValueInfoProto
	outputs  []*onnxpb.ValueInfoProto
	inits    []*onnxpb.TensorProto
	nodes    []*onnxpb.NodeProto
	meta     []*onnxpb.StringStringEntryProto
	used     map[string]bool // names handed out by Tmp or declared so far
	tmpCount map[string]int
	opCount  map[string]int
	errs     []error
}

// NewBuilder starts an empty graph named graphName (opset 17, IR version 8, producer "fob").
func NewBuilder(graphName string) *Builder {
	return &Builder{name: graphName, used: map[string]bool{}, tmpCount: map[string]int{}, opCount: map[string]int{}}
}

// Input declares a graph input. dtype is "float32" or "int64"; each dim is an int (fixed size)
// or a string (a symbolic dim such as "batch").
func (b *Builder) Input(name, dtype string, dims ...any) {
	vi, err := valueInfo(name, dtype, dims)
	if err != nil {
		b.errs = append(b.errs, fmt.Errorf("input %q: %w", name, err))
		return
	}
	b.used[name] = true
	b.inputs = append(b.inputs, vi)
}

// Output declares a graph output; dtype and dims as for Input.
func (b *Builder) Output(name, dtype string, dims ...any) {
	vi, err := valueInfo(name, dtype, dims)
	if err != nil {
		b.errs = append(b.errs, fmt.Errorf("output %q: %w", name, err))
		return
	}
	b.outputs = append(b.outputs, vi)
}

// Initializer adds a weight (or any constant tensor) to the graph.
func (b *Builder) Initializer(name string, t tensor.Tensor) {
	if err := t.Validate(); err != nil {
		b.errs = append(b.errs, fmt.Errorf("initializer %q: %w", name, err))
		return
	}
	tp := &onnxpb.TensorProto{Name: proto.String(name)}
	SetTensor(tp, t)
	b.used[name] = true
	b.inits = append(b.inits, tp)
}

// Node appends a node computing outputs from inputs ("" marks an omitted optional input).
// Nodes are named <op>_<k> so that validation errors can point at them.
func (b *Builder) Node(op string, inputs, outputs []string, attrs ...*onnxpb.AttributeProto) {
	k := b.opCount[op]
	b.opCount[op]++
	n := &onnxpb.NodeProto{
		Name:      proto.String(fmt.Sprintf("%s_%d", op, k)),
		OpType:    proto.String(op),
		Input:     append([]string(nil), inputs...),
		Output:    append([]string(nil), outputs...),
		Attribute: attrs,
	}
	for _, o := range outputs {
		b.used[o] = true
	}
	b.nodes = append(b.nodes, n)
}

// Tmp returns a fresh intermediate name "<prefix>_<k>" not used by anything declared so far.
func (b *Builder) Tmp(prefix string) string {
	for {
		k := b.tmpCount[prefix]
		b.tmpCount[prefix]++
		name := fmt.Sprintf("%s_%d", prefix, k)
		if !b.used[name] {
			b.used[name] = true
			return name
		}
	}
}

// SetMetadata sets a metadata_props entry of the model (replacing an earlier value).
func (b *Builder) SetMetadata(key, value string) {
	for _, e := range b.meta {
		if e.GetKey() == key {
			e.Value = proto.String(value)
			return
		}
	}
	b.meta = append(b.meta, &onnxpb.StringStringEntryProto{Key: proto.String(key), Value: proto.String(value)})
}

// Model validates the graph and returns it as a new ModelProto. Each node input must be a graph
// input, an initializer or an output of an earlier node; each graph output must be produced; no
// name may be defined twice. Errors name the offending node.
func (b *Builder) Model() (*onnxpb.ModelProto, error) {
	errs := append([]error(nil), b.errs...)
	defined := map[string]string{} // name -> what defined it
	define := func(name, what string) {
		if name == "" {
			errs = append(errs, fmt.Errorf("%s has an empty name", what))
			return
		}
		if prev, ok := defined[name]; ok {
			errs = append(errs, fmt.Errorf("%q is defined twice: by %s and by %s", name, prev, what))
			return
		}
		defined[name] = what
	}
	for _, vi := range b.inputs {
		define(vi.GetName(), "graph input")
	}
	for _, t := range b.inits {
		define(t.GetName(), "initializer")
	}
	nodeNames := map[string]bool{}
	for _, n := range b.nodes {
		what := fmt.Sprintf("node %q (%s)", n.GetName(), n.GetOpType())
		if n.GetOpType() == "" {
			errs = append(errs, fmt.Errorf("node %q has no op type", n.GetName()))
		}
		if nodeNames[n.GetName()] {
			errs = append(errs, fmt.Errorf("node name %q is used twice", n.GetName()))
		}
		nodeNames[n.GetName()] = true
		for i, in := range n.GetInput() {
			if in == "" {
				continue
			}
			if _, ok := defined[in]; !ok {
				errs = append(errs, fmt.Errorf("%s: input %d %q is not a graph input, initializer or output of an earlier node", what, i, in))
			}
		}
		if len(n.GetOutput()) == 0 {
			errs = append(errs, fmt.Errorf("%s has no outputs", what))
		}
		for _, o := range n.GetOutput() {
			if o != "" { // "" omits an optional output (LSTM's Y, Dropout's mask)
				define(o, what)
			}
		}
	}
	outNames := map[string]bool{}
	for _, vi := range b.outputs {
		if outNames[vi.GetName()] {
			errs = append(errs, fmt.Errorf("graph output %q is declared twice", vi.GetName()))
		}
		outNames[vi.GetName()] = true
		if _, ok := defined[vi.GetName()]; !ok {
			errs = append(errs, fmt.Errorf("graph output %q is not produced by any node", vi.GetName()))
		}
	}
	if len(b.outputs) == 0 {
		errs = append(errs, errors.New("the graph has no outputs"))
	}
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return nil, fmt.Errorf("onnx: graph %q is invalid: %s", b.name, strings.Join(msgs, "; "))
	}
	g := &onnxpb.GraphProto{Name: proto.String(b.name)}
	for _, vi := range b.inputs {
		g.Input = append(g.Input, proto.Clone(vi).(*onnxpb.ValueInfoProto))
	}
	for _, vi := range b.outputs {
		g.Output = append(g.Output, proto.Clone(vi).(*onnxpb.ValueInfoProto))
	}
	for _, t := range b.inits {
		g.Initializer = append(g.Initializer, proto.Clone(t).(*onnxpb.TensorProto))
	}
	for _, n := range b.nodes {
		g.Node = append(g.Node, proto.Clone(n).(*onnxpb.NodeProto))
	}
	m := &onnxpb.ModelProto{
		IrVersion:    proto.Int64(IRVersion),
		ProducerName: proto.String(Producer),
		OpsetImport:  []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(Opset)}},
		Graph:        g,
	}
	for _, e := range b.meta {
		m.MetadataProps = append(m.MetadataProps, proto.Clone(e).(*onnxpb.StringStringEntryProto))
	}
	return m, nil
}

// valueInfo builds a tensor ValueInfoProto from a dtype name and int / string dims.
func valueInfo(name, dtype string, dims []any) (*onnxpb.ValueInfoProto, error) {
	et, err := elemType(dtype)
	if err != nil {
		return nil, err
	}
	shape := &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{}}
	for i, d := range dims {
		dim := &onnxpb.TensorShapeProto_Dimension{}
		switch v := d.(type) {
		case int:
			if v < 0 {
				return nil, fmt.Errorf("dim %d is %d; use a string such as \"batch\" for a symbolic dim", i, v)
			}
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(v)}
		case int64:
			if v < 0 {
				return nil, fmt.Errorf("dim %d is %d; use a string such as \"batch\" for a symbolic dim", i, v)
			}
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: v}
		case string:
			if v == "" {
				return nil, fmt.Errorf("dim %d is an empty symbolic name", i)
			}
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: v}
		default:
			return nil, fmt.Errorf("dim %d is %T (%v); want an int or a symbolic name string", i, d, d)
		}
		shape.Dim = append(shape.Dim, dim)
	}
	return &onnxpb.ValueInfoProto{
		Name: proto.String(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(et), Shape: shape,
		}}},
	}, nil
}

func elemType(dtype string) (int32, error) {
	switch dtype {
	case "float32":
		return int32(onnxpb.TensorProto_FLOAT), nil
	case "int64":
		return int32(onnxpb.TensorProto_INT64), nil
	}
	return 0, fmt.Errorf("dtype %q is not supported; use \"float32\" or \"int64\"", dtype)
}

// dtypeName is the inverse of elemType for any ONNX element type.
func dtypeName(et int32) string {
	switch onnxpb.TensorProto_DataType(et) {
	case onnxpb.TensorProto_FLOAT:
		return "float32"
	case onnxpb.TensorProto_INT64:
		return "int64"
	case onnxpb.TensorProto_DOUBLE:
		return "float64"
	case onnxpb.TensorProto_INT32:
		return "int32"
	}
	return strings.ToLower(onnxpb.TensorProto_DataType(et).String())
}

// AttrInt makes an INT attribute.
func AttrInt(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

// AttrFloat makes a FLOAT attribute.
func AttrFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

// AttrInts makes an INTS attribute.
func AttrInts(name string, v []int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: append([]int64{}, v...)}
}

// AttrFloats makes a FLOATS attribute.
func AttrFloats(name string, v []float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOATS.Enum(), Floats: append([]float32{}, v...)}
}

// AttrString makes a STRING attribute.
func AttrString(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

// AttrTensor makes a TENSOR attribute (e.g. the value of a Constant node).
func AttrTensor(name string, t tensor.Tensor) *onnxpb.AttributeProto {
	tp := &onnxpb.TensorProto{}
	SetTensor(tp, t)
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: tp}
}

// Metadata returns the model's metadata_props as a map.
func Metadata(m *onnxpb.ModelProto) map[string]string {
	out := map[string]string{}
	for _, e := range m.GetMetadataProps() {
		out[e.GetKey()] = e.GetValue()
	}
	return out
}

// SetMetadata sets (or replaces) one metadata_props entry of m.
func SetMetadata(m *onnxpb.ModelProto, key, value string) {
	for _, e := range m.MetadataProps {
		if e.GetKey() == key {
			e.Value = proto.String(value)
			return
		}
	}
	m.MetadataProps = append(m.MetadataProps, &onnxpb.StringStringEntryProto{Key: proto.String(key), Value: proto.String(value)})
}
