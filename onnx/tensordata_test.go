package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/fob-go/fob/onnx/onnxpb"
)

// This file decodes TensorProtos of any numeric element type into GoMLX tensors and reads GoMLX
// tensors back as numbers, for the conformance tests (runtime/tensor only knows float32/int64).

// gomlxDType maps an ONNX element type to GoMLX's; ok is false for types GoMLX has no dtype for
// (string, float8, int4, ...).
func gomlxDType(et int32) (dtypes.DType, bool) {
	switch onnxpb.TensorProto_DataType(et) {
	case onnxpb.TensorProto_FLOAT:
		return dtypes.Float32, true
	case onnxpb.TensorProto_DOUBLE:
		return dtypes.Float64, true
	case onnxpb.TensorProto_FLOAT16:
		return dtypes.Float16, true
	case onnxpb.TensorProto_BFLOAT16:
		return dtypes.BFloat16, true
	case onnxpb.TensorProto_INT8:
		return dtypes.Int8, true
	case onnxpb.TensorProto_INT16:
		return dtypes.Int16, true
	case onnxpb.TensorProto_INT32:
		return dtypes.Int32, true
	case onnxpb.TensorProto_INT64:
		return dtypes.Int64, true
	case onnxpb.TensorProto_UINT8:
		return dtypes.Uint8, true
	case onnxpb.TensorProto_UINT16:
		return dtypes.Uint16, true
	case onnxpb.TensorProto_UINT32:
		return dtypes.Uint32, true
	case onnxpb.TensorProto_UINT64:
		return dtypes.Uint64, true
	case onnxpb.TensorProto_BOOL:
		return dtypes.Bool, true
	}
	return dtypes.InvalidDType, false
}

// tensorFromProto decodes tp (raw_data or the typed field its element type uses) into a GoMLX
// tensor with the same element type and shape.
func tensorFromProto(tp *onnxpb.TensorProto) (*tensors.Tensor, error) {
	et := onnxpb.TensorProto_DataType(tp.GetDataType())
	dt, ok := gomlxDType(tp.GetDataType())
	if !ok {
		return nil, fmt.Errorf("element type %s has no GoMLX dtype", et)
	}
	if tp.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		return nil, fmt.Errorf("tensor %q keeps its data in an external file", tp.GetName())
	}
	dims := make([]int, len(tp.GetDims()))
	n := 1
	for i, d := range tp.GetDims() {
		if d < 0 {
			return nil, fmt.Errorf("tensor %q has negative dim %d", tp.GetName(), d)
		}
		dims[i] = int(d)
		n *= int(d)
	}
	size := dt.Size()
	raw := tp.GetRawData()
	if raw == nil {
		raw = make([]byte, n*size)
		var count int
		put := func(i int, bits uint64) {
			switch size {
			case 1:
				raw[i] = byte(bits)
			case 2:
				binary.LittleEndian.PutUint16(raw[2*i:], uint16(bits))
			case 4:
				binary.LittleEndian.PutUint32(raw[4*i:], uint32(bits))
			case 8:
				binary.LittleEndian.PutUint64(raw[8*i:], bits)
			}
		}
		switch et {
		case onnxpb.TensorProto_FLOAT:
			count = len(tp.GetFloatData())
			for i, v := range tp.GetFloatData()[:min(n, count)] {
				put(i, uint64(math.Float32bits(v)))
			}
		case onnxpb.TensorProto_DOUBLE:
			count = len(tp.GetDoubleData())
			for i, v := range tp.GetDoubleData()[:min(n, count)] {
				put(i, math.Float64bits(v))
			}
		case onnxpb.TensorProto_INT64:
			count = len(tp.GetInt64Data())
			for i, v := range tp.GetInt64Data()[:min(n, count)] {
				put(i, uint64(v))
			}
		case onnxpb.TensorProto_UINT32, onnxpb.TensorProto_UINT64:
			count = len(tp.GetUint64Data())
			for i, v := range tp.GetUint64Data()[:min(n, count)] {
				put(i, v)
			}
		default: // int32_data holds every narrower type, 16-bit floats as their bits
			count = len(tp.GetInt32Data())
			for i, v := range tp.GetInt32Data()[:min(n, count)] {
				put(i, uint64(uint32(v)))
			}
		}
		if count != n {
			return nil, fmt.Errorf("tensor %q holds %d values, shape %v needs %d", tp.GetName(), count, dims, n)
		}
	}
	if len(raw) != n*size {
		return nil, fmt.Errorf("tensor %q: raw_data holds %d bytes, shape %v of %s needs %d", tp.GetName(), len(raw), dims, et, n*size)
	}
	t := tensors.FromShape(shapes.Make(dt, dims...))
	if n == 0 {
		return t, nil // GoMLX cannot take the bytes of an empty tensor
	}
	err := t.MutableBytes(func(data []byte) { copy(data, raw) })
	return t, err
}

// numbers is a tensor read back on the host: every element as float64, and for integer and bool
// types also exactly as int64.
type numbers struct {
	dtype dtypes.DType
	shape []int
	f     []float64
	i     []int64 // nil for float types
}

func (v numbers) String() string { return fmt.Sprintf("%s%v", v.dtype, v.shape) }

// numbersOf reads a GoMLX tensor as numbers.
func numbersOf(t *tensors.Tensor) (numbers, error) {
	dt := t.DType()
	v := numbers{dtype: dt, shape: slices.Clone(t.Shape().Dimensions)}
	n := t.Shape().Size()
	v.f = make([]float64, n)
	isInt := !dt.IsFloat()
	if isInt {
		v.i = make([]int64, n)
	}
	if n == 0 {
		return v, nil
	}
	var bad error
	err := t.ConstBytes(func(raw []byte) {
		size := dt.Size()
		if len(raw) < n*size {
			bad = fmt.Errorf("tensor %s holds %d bytes, want %d", t.Shape(), len(raw), n*size)
			return
		}
		for k := 0; k < n; k++ {
			b := raw[k*size:]
			var f float64
			var i int64
			switch dt {
			case dtypes.Float32:
				f = float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
			case dtypes.Float64:
				f = math.Float64frombits(binary.LittleEndian.Uint64(b))
			case dtypes.Float16:
				f = float64(halfToFloat32(binary.LittleEndian.Uint16(b)))
			case dtypes.BFloat16:
				f = float64(math.Float32frombits(uint32(binary.LittleEndian.Uint16(b)) << 16))
			case dtypes.Int8:
				i = int64(int8(b[0]))
			case dtypes.Int16:
				i = int64(int16(binary.LittleEndian.Uint16(b)))
			case dtypes.Int32:
				i = int64(int32(binary.LittleEndian.Uint32(b)))
			case dtypes.Int64:
				i = int64(binary.LittleEndian.Uint64(b))
			case dtypes.Uint8, dtypes.Bool:
				i = int64(b[0])
			case dtypes.Uint16:
				i = int64(binary.LittleEndian.Uint16(b))
			case dtypes.Uint32:
				i = int64(binary.LittleEndian.Uint32(b))
			case dtypes.Uint64:
				i = int64(binary.LittleEndian.Uint64(b))
			default:
				bad = fmt.Errorf("cannot read dtype %s", dt)
				return
			}
			if isInt {
				v.i[k] = i
				f = float64(i)
			}
			v.f[k] = f
		}
	})
	if err != nil {
		return v, err
	}
	return v, bad
}

// halfToFloat32 converts IEEE 754 half-precision bits to float32.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf, NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: normalise
		e := int32(-14)
		for frac&0x400 == 0 {
			frac <<= 1
			e--
		}
		frac &= 0x3ff
		return math.Float32frombits(sign | uint32(e+127)<<23 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}

// allClose compares like numpy.testing.assert_allclose (|got-want| <= atol + rtol*|want|, NaN
// equal to NaN, infinities equal only to themselves); integer and bool types must match exactly.
// The error names the worst element.
func allClose(got, want numbers, rtol, atol float64) error {
	if !slices.Equal(got.shape, want.shape) {
		return fmt.Errorf("shape %v, want %v", got.shape, want.shape)
	}
	if (got.i == nil) != (want.i == nil) {
		return fmt.Errorf("dtype %s, want %s", got.dtype, want.dtype)
	}
	if want.i != nil {
		for k := range want.i {
			if got.i[k] != want.i[k] {
				return fmt.Errorf("element %d is %d, want %d", k, got.i[k], want.i[k])
			}
		}
		return nil
	}
	worst, at := 0.0, -1
	for k, w := range want.f {
		g := got.f[k]
		switch {
		case math.IsNaN(w) || math.IsNaN(g):
			if math.IsNaN(w) != math.IsNaN(g) {
				return fmt.Errorf("element %d is %v, want %v", k, g, w)
			}
		case math.IsInf(w, 0) || math.IsInf(g, 0):
			if g != w {
				return fmt.Errorf("element %d is %v, want %v", k, g, w)
			}
		default:
			if excess := math.Abs(g-w) - (atol + rtol*math.Abs(w)); excess > worst {
				worst, at = excess, k
			}
		}
	}
	if at >= 0 {
		return fmt.Errorf("element %d is %v, want %v (rtol %g, atol %g)", at, got.f[at], want.f[at], rtol, atol)
	}
	return nil
}
