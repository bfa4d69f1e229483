package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadPythonFile reads a file written by testdata/write_safetensors.py (the format written
// with struct/numpy/torch, every dtype fob reads) and compares each tensor with numpy's values.
func TestReadPythonFile(t *testing.T) {
	if out, err := exec.Command("/usr/bin/python3", "-c", "import numpy, torch").CombinedOutput(); err != nil {
		t.Fatalf("the writer needs /usr/bin/python3 with numpy and torch (apt-get install python3-torch): %v\n%s", err, out)
	}
	dir := t.TempDir()
	path, ref := filepath.Join(dir, "model.safetensors"), filepath.Join(dir, "ref.json")
	if out, err := exec.Command("/usr/bin/python3", "testdata/write_safetensors.py", path, ref).CombinedOutput(); err != nil {
		t.Fatalf("write_safetensors.py: %v\n%s", err, out)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]struct {
		Shape  []int     `json:"shape"`
		Values []float64 `json:"values"`
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(f.Tensors) != len(want) {
		t.Fatalf("read %v, want %d tensors", f.Names(), len(want))
	}
	if f.Metadata["format"] != "pt" {
		t.Errorf("metadata %v, want format=pt", f.Metadata)
	}
	for name, w := range want {
		got, ok := f.Tensors[name]
		if !ok {
			t.Fatalf("no tensor %q", name)
		}
		if fmt.Sprint(got.Shape) != fmt.Sprint(w.Shape) && !(len(w.Shape) == 0 && len(got.Shape) == 0) {
			t.Errorf("%s: shape %v, want %v", name, got.Shape, w.Shape)
		}
		for i, v := range w.Values {
			var g float64
			if got.F32 != nil {
				g = float64(got.F32[i])
			} else {
				g = float64(got.I64[i])
			}
			if math.Abs(g-v) > 1e-6*math.Max(1, math.Abs(v)) {
				t.Errorf("%s[%d] = %v, want %v", name, i, g, v)
			}
		}
	}
}

// file builds a safetensors image from a header map and data bytes.
func file(header map[string]any, data []byte) []byte {
	h, _ := json.Marshal(header)
	b := make([]byte, 8, 8+len(h)+len(data))
	binary.LittleEndian.PutUint64(b, uint64(len(h)))
	return append(append(b, h...), data...)
}

// TestParseErrors: malformed files are errors naming the tensor and the problem, never panics.
func TestParseErrors(t *testing.T) {
	f32 := func(shape []int, off []int64) map[string]any {
		return map[string]any{"w": map[string]any{"dtype": "F32", "shape": shape, "data_offsets": off}}
	}
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"short", []byte{1, 2}, "too short"},
		{"header too long", append(binary.LittleEndian.AppendUint64(nil, 1000), '{', '}'), "does not fit"},
		{"bad json", file(nil, nil)[:8], "does not fit"},
		{"dtype", file(map[string]any{"w": map[string]any{"dtype": "F8", "shape": []int{1}, "data_offsets": []int64{0, 1}}}, []byte{0}), `dtype "F8"`},
		{"offsets", file(f32([]int{2}, []int64{0, 16}), make([]byte, 8)), "data_offsets"},
		{"size", file(f32([]int{3}, []int64{0, 8}), make([]byte, 8)), "want 12"},
		{"shape", file(f32([]int{-1}, []int64{0, 4}), make([]byte, 4)), "shape [-1]"},
		{"metadata", file(map[string]any{"__metadata__": map[string]any{"a": 1}}, nil), "__metadata__"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.b)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.safetensors")); err == nil {
		t.Error("missing file accepted")
	}
}

// TestHalf checks binary16 decoding at its edges.
func TestHalf(t *testing.T) {
	for _, c := range []struct {
		h    uint16
		want float32
	}{{0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, 5.9604645e-08}, {0x8000, 0}, {0x3555, 0.33325195}} {
		if got := halfToFloat(c.h); got != c.want {
			t.Errorf("half %#04x = %g, want %g", c.h, got, c.want)
		}
	}
	if !math.IsInf(float64(halfToFloat(0x7c00)), 1) || !math.IsNaN(float64(halfToFloat(0x7e00))) {
		t.Error("inf/nan decoded wrongly")
	}
}
