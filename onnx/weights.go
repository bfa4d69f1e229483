package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
)

// TensorOf decodes a float32 or int64 TensorProto (raw_data or the typed fields) into a host
// tensor. External data and other element types are errors naming the tensor.
func TensorOf(tp *onnxpb.TensorProto) (tensor.Tensor, error) {
	if tp == nil {
		return tensor.Tensor{}, fmt.Errorf("onnx: TensorOf(nil)")
	}
	if tp.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		return tensor.Tensor{}, fmt.Errorf("onnx: tensor %q keeps its data in an external file; "+
			"re-save the model with the data embedded (onnx.save(..., save_as_external_data=False))", tp.GetName())
	}
	if tp.GetSegment() != nil {
		return tensor.Tensor{}, fmt.Errorf("onnx: tensor %q is a segment of a larger tensor; not supported", tp.GetName())
	}
	count, err := elemCount(tp.GetDims())
	if err != nil {
		return tensor.Tensor{}, fmt.Errorf("onnx: tensor %q %v", tp.GetName(), err)
	}
	n := int(count)
	shape := make([]int, len(tp.GetDims()))
	for i, d := range tp.GetDims() {
		shape[i] = int(d)
	}
	// Sizes are checked before allocating: a corrupt file may claim huge dims.
	raw := tp.GetRawData()
	switch onnxpb.TensorProto_DataType(tp.GetDataType()) {
	case onnxpb.TensorProto_FLOAT:
		switch {
		case raw != nil:
			if len(raw) != 4*n {
				return tensor.Tensor{}, fmt.Errorf("onnx: tensor %q: raw_data holds %d bytes, shape %v needs %d",
					tp.GetName(), len(raw), shape, 4*n)
			}
			out := make([]float32, n)
			for i := range out {
				out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
			return tensor.Tensor{Shape: shape, F32: out}, nil
		default:
			if len(tp.GetFloatData()) != n {
				return tensor.Tensor{}, fmt.Errorf("onnx: tensor %q: float_data holds %d values, shape %v needs %d",
					tp.GetName(), len(tp.GetFloatData()), shape, n)
			}
			return tensor.Tensor{Shape: shape, F32: append(make([]float32, 0, n), tp.GetFloatData()...)}, nil
		}
	case onnxpb.TensorProto_INT64:
		switch {
		case raw != nil:
			if len(raw) != 8*n {
				return tensor.Tensor{}, fmt.Errorf("onnx: tensor %q: raw_data holds %d bytes, shape %v needs %d",
					tp.GetName(), len(raw), shape, 8*n)
			}
			out := make([]int64, n)
			for i := range out {
				out[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			}
			return tensor.Tensor{Shape: shape, I64: out}, nil
		default:
			if len(tp.GetInt64Data()) != n {
				return tensor.Tensor{}, fmt.Errorf("onnx: tensor %q: int64_data holds %d values, shape %v needs %d",
					tp.GetName(), len(tp.GetInt64Data()), shape, n)
			}
			return tensor.Tensor{Shape: shape, I64: append(make([]int64, 0, n), tp.GetInt64Data()...)}, nil
		}
	}
	return tensor.Tensor{}, fmt.Errorf("onnx: tensor %q has element type %s; only FLOAT (float32) and INT64 are supported",
		tp.GetName(), onnxpb.TensorProto_DataType(tp.GetDataType()))
}

// SetTensor stores t in tp as little-endian raw_data, setting dims and data type and clearing the
// typed data fields and any external-data reference. The name is kept.
func SetTensor(tp *onnxpb.TensorProto, t tensor.Tensor) {
	tp.Dims = make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		tp.Dims[i] = int64(d)
	}
	tp.FloatData, tp.Int32Data, tp.Int64Data, tp.DoubleData, tp.Uint64Data, tp.StringData = nil, nil, nil, nil, nil, nil
	tp.ExternalData, tp.DataLocation, tp.Segment = nil, nil, nil
	if t.I64 != nil {
		tp.DataType = int32ptr(int32(onnxpb.TensorProto_INT64))
		raw := make([]byte, 8*len(t.I64))
		for i, v := range t.I64 {
			binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
		}
		tp.RawData = raw
		return
	}
	tp.DataType = int32ptr(int32(onnxpb.TensorProto_FLOAT))
	raw := make([]byte, 4*len(t.F32))
	for i, v := range t.F32 {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	tp.RawData = raw
}

func int32ptr(v int32) *int32 { return &v }

// Initializers maps initializer names to their TensorProtos (pointers into m: edits stick).
func Initializers(m *onnxpb.ModelProto) map[string]*onnxpb.TensorProto {
	out := map[string]*onnxpb.TensorProto{}
	for _, t := range m.GetGraph().GetInitializer() {
		out[t.GetName()] = t
	}
	return out
}

// WriteBack replaces initializer values by name. Every name must be an initializer of m with the
// same element type and shape; on any error m is left unchanged.
func WriteBack(m *onnxpb.ModelProto, values map[string]tensor.Tensor) error {
	inits := Initializers(m)
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := values[n]
		tp, ok := inits[n]
		if !ok {
			return fmt.Errorf("onnx: write-back: %q is not an initializer of model %q (it has %s)",
				n, m.GetGraph().GetName(), listNames(inits, 8))
		}
		if err := t.Validate(); err != nil {
			return fmt.Errorf("onnx: write-back %q: %w", n, err)
		}
		want := onnxpb.TensorProto_DataType(tp.GetDataType())
		wantType := strings.ToLower(want.String())
		switch want {
		case onnxpb.TensorProto_FLOAT:
			wantType = "float32"
		case onnxpb.TensorProto_INT64:
			wantType = "int64"
		}
		if t.DType() != wantType {
			return fmt.Errorf("onnx: write-back %q: value is %s, the initializer is %s", n, t.DType(), wantType)
		}
		if !sameDims(tp.GetDims(), t.Shape) {
			return fmt.Errorf("onnx: write-back %q: value has shape %v, the initializer has %v", n, t.Shape, tp.GetDims())
		}
	}
	for _, n := range names {
		SetTensor(inits[n], values[n])
	}
	return nil
}

func sameDims(a []int64, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != int64(b[i]) {
			return false
		}
	}
	return true
}

func listNames[V any](m map[string]V, max int) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none"
	}
	if len(names) > max {
		return strings.Join(quoteAll(names[:max]), ", ") + fmt.Sprintf(", ... (%d in all)", len(names))
	}
	return strings.Join(quoteAll(names), ", ")
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}
