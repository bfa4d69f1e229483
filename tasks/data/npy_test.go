package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// npyBytes writes a version 1.0 .npy file with the given header dict and raw data.
func npyBytes(header string, raw []byte) []byte {
	header += strings.Repeat(" ", 63-(10+len(header))%64) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	b.WriteString(header)
	b.Write(raw)
	return b.Bytes()
}

func le(vals ...any) []byte {
	var b bytes.Buffer
	for _, v := range vals {
		binary.Write(&b, binary.LittleEndian, v)
	}
	return b.Bytes()
}

func TestReadNPY(t *testing.T) {
	hdr := func(descr, shape string) string {
		return fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
	}
	tests := []struct {
		name      string
		content   []byte
		wantShape []int
		want      any
		wantErr   string
	}{
		{"int64", npyBytes(hdr("<i8", "(3,)"), le(int64(5), int64(-1), int64(1)<<40)), []int{3}, []int64{5, -1, 1 << 40}, ""},
		{"int32 2-D", npyBytes(hdr("<i4", "(2, 2)"), le(int32(1), int32(2), int32(-3), int32(4))), []int{2, 2}, []int32{1, 2, -3, 4}, ""},
		{"float32", npyBytes(hdr("<f4", "(2,)"), le(float32(1.5), float32(-0.25))), []int{2}, []float32{1.5, -0.25}, ""},
		{"float64", npyBytes(hdr("<f8", "(1, 2)"), le(math.Pi, -2.0)), []int{1, 2}, []float64{math.Pi, -2}, ""},
		{"uint8", npyBytes(hdr("|u1", "(3,)"), []byte{0, 7, 255}), []int{3}, []uint8{0, 7, 255}, ""},
		{"scalar", npyBytes(hdr("<f8", "()"), le(2.5)), nil, []float64{2.5}, ""},
		{"truncated data", npyBytes(hdr("<i8", "(3,)"), le(int64(5), int64(-1))), nil, nil, "data is 16 bytes, shape [3] of <i8 needs 24"},
		{"extra data", npyBytes(hdr("<i4", "(1,)"), le(int32(1), int32(2))), nil, nil, "truncated or corrupt"},
		{"truncated header", npyBytes(hdr("<i8", "(3,)"), nil)[:30], nil, nil, "truncated header"},
		{"bad magic", []byte("PK\x03\x04 not numpy at all"), nil, nil, "not a .npy file"},
		{"fortran", npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", make([]byte, 16)), nil, nil, "fortran_order"},
		{"big endian", npyBytes(hdr(">i8", "(1,)"), make([]byte, 8)), nil, nil, "big-endian"},
		{"object", npyBytes(hdr("|O", "(1,)"), make([]byte, 8)), nil, nil, "unsupported dtype"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, filepath.Join(t.TempDir(), "a.npy"), tc.content)
			shape, data, err := ReadNPY(p)
			if tc.wantErr != "" {
				mustContain(t, err, tc.wantErr, p)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(shape, tc.wantShape) || !reflect.DeepEqual(data, tc.want) {
				t.Errorf("got %v %#v, want %v %#v", shape, data, tc.wantShape, tc.want)
			}
		})
	}
}

func TestNPYVersion2Header(t *testing.T) {
	v1 := npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", le(int64(42)))
	// Version 2 has a 4-byte header length.
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x02\x00")
	hlen := binary.LittleEndian.Uint16(v1[8:10])
	binary.Write(&b, binary.LittleEndian, uint32(hlen))
	b.Write(v1[10:])
	shape, data, err := parseNPY(b.Bytes())
	if err != nil || !reflect.DeepEqual(shape, []int{1}) || !reflect.DeepEqual(data, []int64{42}) {
		t.Fatalf("got %v %v %v", shape, data, err)
	}
}

func TestAsInt64sAndFloat32s(t *testing.T) {
	for _, in := range []any{[]int32{1, -2}, []int64{1, -2}, []int16{1, -2}, []int8{1, -2}} {
		got, err := AsInt64s(in)
		if err != nil || !reflect.DeepEqual(got, []int64{1, -2}) {
			t.Errorf("AsInt64s(%T) = %v, %v", in, got, err)
		}
		f, err := AsFloat32s(in)
		if err != nil || !reflect.DeepEqual(f, []float32{1, -2}) {
			t.Errorf("AsFloat32s(%T) = %v, %v", in, f, err)
		}
	}
	if _, err := AsInt64s([]float32{1}); err == nil {
		t.Error("AsInt64s accepted floats")
	}
	if _, err := AsInt64s([]uint64{math.MaxUint64}); err == nil {
		t.Error("AsInt64s accepted an overflowing uint64")
	}
}

// The tabular task's fixed test split: 4,128 distinct row indices of the 20,640 rows.
func TestReadNPYTabularTestIndex(t *testing.T) {
	shape, data, err := ReadNPY(filepath.Join(mirror(t), "california_housing", "idx_test.npy"))
	if err != nil {
		t.Fatal(err)
	}
	idx, ok := data.([]int64)
	if !ok || !reflect.DeepEqual(shape, []int{4128}) {
		t.Fatalf("got shape %v of %T", shape, data)
	}
	seen := map[int64]bool{}
	for _, i := range idx {
		if i < 0 || i >= 20640 || seen[i] {
			t.Fatalf("index %d out of range or repeated", i)
		}
		seen[i] = true
	}
	if rest := Complement(20640, idx); len(rest) != 16512 {
		t.Errorf("train+val rows %d, want 16512 (13209 + 3303)", len(rest))
	}
}
