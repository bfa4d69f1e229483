package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// ReadNPY reads a numpy .npy file (format versions 1 to 3) holding a C-order array of
// little-endian int64 (<i8), int32 (<i4), float32 (<f4), float64 (<f8) or uint8 (|u1). data is
// []int64, []int32, []float32, []float64 or []uint8 accordingly.
func ReadNPY(path string) (shape []int, data any, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %w", err)
	}
	shape, data, err = parseNPY(b)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %s: %w", path, err)
	}
	return shape, data, nil
}

func parseNPY(b []byte) ([]int, any, error) {
	if len(b) < 10 || !bytes.Equal(b[:6], []byte("\x93NUMPY")) {
		return nil, nil, fmt.Errorf("not a .npy file (bad magic)")
	}
	major := b[6]
	var hlen, off int
	switch major {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, nil, fmt.Errorf("truncated header")
		}
		hlen, off = int(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return nil, nil, fmt.Errorf("unsupported .npy format version %d", major)
	}
	if off+hlen > len(b) {
		return nil, nil, fmt.Errorf("truncated header (%d bytes announced, %d present)", hlen, len(b)-off)
	}
	descr, fortran, shape, err := parseNPYHeader(string(b[off : off+hlen]))
	if err != nil {
		return nil, nil, err
	}
	if fortran {
		return nil, nil, fmt.Errorf("fortran_order arrays are not supported")
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	raw := b[off+hlen:]
	dt, err := parseDtype(descr)
	if err != nil {
		return nil, nil, err
	}
	if want := n * dt.size; len(raw) != want {
		return nil, nil, fmt.Errorf("data is %d bytes, shape %v of %s needs %d (truncated or corrupt)", len(raw), shape, descr, want)
	}
	data, err := decodeRaw(raw, dt)
	return shape, data, err
}

// parseNPYHeader reads the Python dict literal of a .npy header, e.g.
// {'descr': '<i8', 'fortran_order': False, 'shape': (4128,), }.
func parseNPYHeader(h string) (descr string, fortran bool, shape []int, err error) {
	field := func(key string) (string, bool) {
		i := strings.Index(h, "'"+key+"'")
		if i < 0 {
			return "", false
		}
		rest := strings.TrimSpace(h[i+len(key)+2:])
		if !strings.HasPrefix(rest, ":") {
			return "", false
		}
		return strings.TrimSpace(rest[1:]), true
	}
	v, ok := field("descr")
	if !ok || len(v) < 2 || v[0] != '\'' {
		return "", false, nil, fmt.Errorf("header without a descr string: %q", h)
	}
	end := strings.IndexByte(v[1:], '\'')
	if end < 0 {
		return "", false, nil, fmt.Errorf("bad header %q", h)
	}
	descr = v[1 : 1+end]
	if v, ok = field("fortran_order"); !ok {
		return "", false, nil, fmt.Errorf("header without fortran_order: %q", h)
	}
	fortran = strings.HasPrefix(v, "True")
	if v, ok = field("shape"); !ok || !strings.HasPrefix(v, "(") {
		return "", false, nil, fmt.Errorf("header without a shape tuple: %q", h)
	}
	end = strings.IndexByte(v, ')')
	if end < 0 {
		return "", false, nil, fmt.Errorf("bad shape in header %q", h)
	}
	for _, s := range strings.Split(v[1:end], ",") {
		s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "L"))
		if s == "" {
			continue
		}
		d, err := strconv.Atoi(s)
		if err != nil || d < 0 {
			return "", false, nil, fmt.Errorf("bad shape in header %q", h)
		}
		shape = append(shape, d)
	}
	return descr, fortran, shape, nil
}

// dtype is a numpy element type: kind 'i', 'u', 'f' or 'b', size in bytes, byte order.
type dtype struct {
	kind   byte
	size   int
	bigEnd bool
}

// parseDtype parses array-protocol type strings such as "<f4", "|u1", "=i8" or ">i4".
func parseDtype(s string) (dtype, error) {
	if len(s) < 2 {
		return dtype{}, fmt.Errorf("unsupported dtype %q", s)
	}
	var dt dtype
	switch s[0] {
	case '<', '|', '=':
	case '>':
		dt.bigEnd = true
	default:
		s = "<" + s // numpy also accepts "i4"; this reader assumes little-endian then
	}
	dt.kind = s[1]
	size, err := strconv.Atoi(s[2:])
	if err != nil {
		return dtype{}, fmt.Errorf("unsupported dtype %q", s)
	}
	dt.size = size
	switch {
	case dt.kind == 'i' && (size == 1 || size == 2 || size == 4 || size == 8),
		dt.kind == 'u' && (size == 1 || size == 2 || size == 4 || size == 8),
		dt.kind == 'f' && (size == 4 || size == 8),
		dt.kind == 'b' && size == 1:
	default:
		return dtype{}, fmt.Errorf("unsupported dtype %q", s)
	}
	if dt.bigEnd && size > 1 {
		return dtype{}, fmt.Errorf("big-endian dtype %q is not supported", s)
	}
	return dt, nil
}

// decodeRaw turns little-endian bytes into a typed slice: []int64, []int32, []int16, []int8,
// []uint8 (also for bool), []uint16, []uint32, []uint64, []float32 or []float64.
func decodeRaw(raw []byte, dt dtype) (any, error) {
	n := len(raw) / dt.size
	le := binary.LittleEndian
	switch {
	case dt.kind == 'f' && dt.size == 4:
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
		return out, nil
	case dt.kind == 'f' && dt.size == 8:
		out := make([]float64, n)
		for i := range out {
			out[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
		return out, nil
	case dt.kind == 'i' && dt.size == 8:
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(le.Uint64(raw[8*i:]))
		}
		return out, nil
	case dt.kind == 'i' && dt.size == 4:
		out := make([]int32, n)
		for i := range out {
			out[i] = int32(le.Uint32(raw[4*i:]))
		}
		return out, nil
	case dt.kind == 'i' && dt.size == 2:
		out := make([]int16, n)
		for i := range out {
			out[i] = int16(le.Uint16(raw[2*i:]))
		}
		return out, nil
	case dt.kind == 'i' && dt.size == 1:
		out := make([]int8, n)
		for i := range out {
			out[i] = int8(raw[i])
		}
		return out, nil
	case (dt.kind == 'u' || dt.kind == 'b') && dt.size == 1:
		return append([]uint8(nil), raw...), nil
	case dt.kind == 'u' && dt.size == 2:
		out := make([]uint16, n)
		for i := range out {
			out[i] = le.Uint16(raw[2*i:])
		}
		return out, nil
	case dt.kind == 'u' && dt.size == 4:
		out := make([]uint32, n)
		for i := range out {
			out[i] = le.Uint32(raw[4*i:])
		}
		return out, nil
	case dt.kind == 'u' && dt.size == 8:
		out := make([]uint64, n)
		for i := range out {
			out[i] = le.Uint64(raw[8*i:])
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported dtype %c%d", dt.kind, dt.size)
}

// AsInt64s converts an integer slice returned by ReadNPY (or an NDArray) to []int64.
func AsInt64s(data any) ([]int64, error) {
	switch v := data.(type) {
	case []int64:
		return v, nil
	case []int32:
		return widen(v), nil
	case []int16:
		return widen(v), nil
	case []int8:
		return widen(v), nil
	case []uint8:
		return widen(v), nil
	case []uint16:
		return widen(v), nil
	case []uint32:
		return widen(v), nil
	case []uint64:
		out := make([]int64, len(v))
		for i, x := range v {
			if x > math.MaxInt64 {
				return nil, fmt.Errorf("data: value %d does not fit int64", x)
			}
			out[i] = int64(x)
		}
		return out, nil
	}
	return nil, fmt.Errorf("data: %T is not an integer array", data)
}

// AsFloat32s converts a numeric slice returned by ReadNPY (or an NDArray) to []float32.
func AsFloat32s(data any) ([]float32, error) {
	switch v := data.(type) {
	case []float32:
		return v, nil
	case []float64:
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out, nil
	}
	ints, err := AsInt64s(data)
	if err != nil {
		return nil, fmt.Errorf("data: %T is not a numeric array", data)
	}
	out := make([]float32, len(ints))
	for i, x := range ints {
		out[i] = float32(x)
	}
	return out, nil
}

func widen[T int8 | int16 | int32 | uint8 | uint16 | uint32](v []T) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}
