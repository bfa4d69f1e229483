// Package safetensors reads Hugging Face's safetensors files: an 8-byte little-endian header
// length, a JSON header mapping tensor names to {dtype, shape, data_offsets} (plus an optional
// "__metadata__" map of strings), then the raw little-endian tensor bytes.
// Float tensors (F32, F16, BF16, F64) are returned as float32, integer ones (I64, I32, I16, I8,
// U8, BOOL) as int64: what fob's host tensors hold.
package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"

	"github.com/fob-go/fob/runtime/tensor"
)

// maxHeader bounds the JSON header (the format's own limit is 100 MB).
const maxHeader = 100 << 20

// File is a parsed safetensors file.
type File struct {
	// Tensors by name.
	Tensors map[string]tensor.Tensor
	// Metadata is the header's __metadata__ map (nil when absent).
	Metadata map[string]string
}

// Names returns the tensor names, sorted.
func (f File) Names() []string {
	names := make([]string, 0, len(f.Tensors))
	for n := range f.Tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

type entry struct {
	DType   string  `json:"dtype"`
	Shape   []int   `json:"shape"`
	Offsets []int64 `json:"data_offsets"`
}

var dtypeSize = map[string]int{"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}

// ReadFile reads and parses the safetensors file at path.
func ReadFile(path string) (File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return File{}, fmt.Errorf("safetensors: %w", err)
	}
	f, err := Parse(b)
	if err != nil {
		return File{}, fmt.Errorf("safetensors: %s: %w (is it a safetensors file? Hugging Face model repos ship one as model.safetensors)", path, err)
	}
	return f, nil
}

// Parse decodes a safetensors file held in memory.
func Parse(b []byte) (File, error) {
	if len(b) < 8 {
		return File{}, fmt.Errorf("%d bytes: too short for the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxHeader || n > uint64(len(b)-8) {
		return File{}, fmt.Errorf("header length %d does not fit in the file of %d bytes", n, len(b))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &raw); err != nil {
		return File{}, fmt.Errorf("header: %w", err)
	}
	data := b[8+n:]
	f := File{Tensors: map[string]tensor.Tensor{}}
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				return File{}, fmt.Errorf("__metadata__ must map strings to strings: %w", err)
			}
			continue
		}
		var e entry
		if err := json.Unmarshal(msg, &e); err != nil {
			return File{}, fmt.Errorf("tensor %q: %w", name, err)
		}
		t, err := decode(name, e, data)
		if err != nil {
			return File{}, err
		}
		f.Tensors[name] = t
	}
	return f, nil
}

func decode(name string, e entry, data []byte) (tensor.Tensor, error) {
	size, ok := dtypeSize[e.DType]
	if !ok {
		return tensor.Tensor{}, fmt.Errorf("tensor %q: dtype %q is not supported (F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL are)", name, e.DType)
	}
	count := 1
	for _, d := range e.Shape {
		if d < 0 || (d > 0 && count > math.MaxInt32/d) {
			return tensor.Tensor{}, fmt.Errorf("tensor %q: shape %v is invalid", name, e.Shape)
		}
		count *= d
	}
	if len(e.Offsets) != 2 || e.Offsets[0] < 0 || e.Offsets[1] < e.Offsets[0] || e.Offsets[1] > int64(len(data)) {
		return tensor.Tensor{}, fmt.Errorf("tensor %q: data_offsets %v outside the %d data bytes", name, e.Offsets, len(data))
	}
	buf := data[e.Offsets[0]:e.Offsets[1]]
	if len(buf) != count*size {
		return tensor.Tensor{}, fmt.Errorf("tensor %q: %d bytes for shape %v of %s, want %d", name, len(buf), e.Shape, e.DType, count*size)
	}
	t := tensor.Tensor{Shape: append([]int{}, e.Shape...)}
	le := binary.LittleEndian
	switch e.DType {
	case "F32", "F64", "F16", "BF16":
		t.F32 = make([]float32, count)
		for i := range t.F32 {
			switch e.DType {
			case "F32":
				t.F32[i] = math.Float32frombits(le.Uint32(buf[4*i:]))
			case "F64":
				t.F32[i] = float32(math.Float64frombits(le.Uint64(buf[8*i:])))
			case "BF16":
				t.F32[i] = math.Float32frombits(uint32(le.Uint16(buf[2*i:])) << 16)
			case "F16":
				t.F32[i] = halfToFloat(le.Uint16(buf[2*i:]))
			}
		}
	default:
		t.I64 = make([]int64, count)
		for i := range t.I64 {
			switch e.DType {
			case "I64":
				t.I64[i] = int64(le.Uint64(buf[8*i:]))
			case "I32":
				t.I64[i] = int64(int32(le.Uint32(buf[4*i:])))
			case "I16":
				t.I64[i] = int64(int16(le.Uint16(buf[2*i:])))
			case "I8":
				t.I64[i] = int64(int8(buf[i]))
			case "U8", "BOOL":
				t.I64[i] = int64(buf[i])
			}
		}
	}
	return t, nil
}

// halfToFloat converts an IEEE 754 binary16 value.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0: // zero or subnormal
		v := float32(frac) / 1024 * float32(math.Pow(2, -14))
		if sign != 0 {
			v = -v
		}
		return v
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}
