package ort_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/runtime/ort"
	"github.com/fob-go/fob/runtime/tensor"
)

// model: Y = X*W + B (float32[batch,2] x [2,3]), plus a gather of int64 ids from a table and
// two scalar outputs: S = sum of ids (int64), M = mean of Y (float32).
func model(t *testing.T) []byte {
	t.Helper()
	b := onnx.NewBuilder("toy")
	b.Input("X", "float32", "batch", 2)
	b.Input("ids", "int64", "n")
	b.Initializer("W", tensor.F32s([]float32{1, 2, 3, 4, 5, 6}, 2, 3))
	b.Initializer("B", tensor.F32s([]float32{0.5, -0.5, 0}, 3))
	b.Initializer("table", tensor.F32s([]float32{10, 20, 30, 40}, 4))
	b.Node("MatMul", []string{"X", "W"}, []string{"xw"})
	b.Node("Add", []string{"xw", "B"}, []string{"Y"})
	b.Node("Gather", []string{"table", "ids"}, []string{"G"})
	b.Node("Mul", []string{"ids", "ids"}, []string{"I2"})
	b.Node("ReduceMean", []string{"Y"}, []string{"M"}, onnx.AttrInt("keepdims", 0))
	b.Output("Y", "float32", "batch", 3)
	b.Output("G", "float32", "n")
	b.Output("I2", "int64", "n")
	b.Output("M", "float32")
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	data, err := onnx.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestSessionRun(t *testing.T) {
	if err := ort.Init(); err != nil {
		t.Fatal(err)
	}
	if ort.LibraryPath() == "" {
		t.Fatal("LibraryPath empty after Init")
	}
	s, err := ort.NewSession(model(t), ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := strings.Join(s.InputNames(), ","); got != "X,ids" {
		t.Fatalf("inputs %s", got)
	}
	if got := strings.Join(s.OutputNames(), ","); got != "Y,G,I2,M" {
		t.Fatalf("outputs %s", got)
	}
	if s.Provider() != "CPU" {
		t.Fatalf("provider %s", s.Provider())
	}
	for _, batch := range []int{1, 3} { // dynamic batch: one session, several sizes
		x := make([]float32, 2*batch)
		for i := range x {
			x[i] = float32(i + 1)
		}
		out, err := s.Run(map[string]tensor.Tensor{"X": tensor.F32s(x, batch, 2), "ids": tensor.I64s([]int64{3, 0, 2}, 3)})
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for r := 0; r < batch; r++ {
			for c := 0; c < 3; c++ {
				want := x[2*r]*float32(1+c) + x[2*r+1]*float32(4+c) + []float32{0.5, -0.5, 0}[c]
				sum += float64(want)
				if got := out["Y"].F32[3*r+c]; got != want {
					t.Fatalf("batch %d Y[%d,%d] = %v, want %v", batch, r, c, got, want)
				}
			}
		}
		if got := out["Y"].Shape; len(got) != 2 || got[0] != batch || got[1] != 3 {
			t.Fatalf("Y shape %v", got)
		}
		if g := out["G"].F32; len(g) != 3 || g[0] != 40 || g[1] != 10 || g[2] != 30 {
			t.Fatalf("G %v", out["G"])
		}
		if i2 := out["I2"].I64; len(i2) != 3 || i2[0] != 9 || i2[1] != 0 || i2[2] != 4 {
			t.Fatalf("I2 %v", out["I2"])
		}
		if m := out["M"]; len(m.Shape) != 0 || float64(m.F32[0]) != sum/float64(3*batch) {
			t.Fatalf("M %v, want scalar %v", m, sum/float64(3*batch))
		}
	}
}

func TestSessionErrors(t *testing.T) {
	s, err := ort.NewSession(model(t), ort.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.F32s([]float32{1, 2}, 1, 2)
	ids := tensor.I64s([]int64{1}, 1)
	cases := []struct {
		name   string
		inputs map[string]tensor.Tensor
		want   string
	}{
		{"missing", map[string]tensor.Tensor{"X": x}, `missing ["ids"], unknown []; the model takes ["X" "ids"]`},
		{"unknown", map[string]tensor.Tensor{"X": x, "ids": ids, "Z": x}, `unknown ["Z"]`},
		{"dtype", map[string]tensor.Tensor{"X": tensor.I64s([]int64{1, 2}, 1, 2), "ids": ids}, `input "X" is int64, the model wants float32`},
		{"rank", map[string]tensor.Tensor{"X": tensor.F32s([]float32{1, 2}, 2), "ids": ids}, `input "X" has shape [2] (rank 1), the model wants rank 2`},
		{"bad data", map[string]tensor.Tensor{"X": tensor.F32s([]float32{1}, 1, 2), "ids": ids}, `input "X": tensor: shape [1 2] holds 2 elements, data has 1`},
		{"fixed dim", map[string]tensor.Tensor{"X": tensor.F32s([]float32{1, 2, 3}, 1, 3), "ids": ids}, `ort: run (inputs X float32[1 3], ids int64[1])`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Run(c.inputs)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
	s.Close()
	s.Close()
	if _, err := s.Run(map[string]tensor.Tensor{"X": x, "ids": ids}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("Run after Close: %v", err)
	}
	if _, err := ort.NewSession([]byte("garbage"), ort.Options{}); err == nil || !strings.Contains(err.Error(), "not a valid ONNX model") {
		t.Fatalf("garbage model: %v", err)
	}
}

// TestCUDAFallback: the npm library has no CUDA provider; asking for it must still give a
// working CPU session that says why.
func TestCUDAFallback(t *testing.T) {
	s, err := ort.NewSession(model(t), ort.Options{CUDA: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Provider() == "CPU" && s.FallbackReason() == "" {
		t.Fatal("CPU fallback without a reason")
	}
	if s.Provider() == "CUDA" && s.FallbackReason() != "" {
		t.Fatalf("CUDA session with fallback reason %q", s.FallbackReason())
	}
	out, err := s.Run(map[string]tensor.Tensor{"X": tensor.F32s([]float32{1, 1}, 1, 2), "ids": tensor.I64s([]int64{0}, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if y := out["Y"].F32; y[0] != 5.5 || y[1] != 6.5 || y[2] != 9 {
		t.Fatalf("Y %v", y)
	}
	t.Logf("provider %s (%s)", s.Provider(), s.FallbackReason())
}

func TestConcurrentRuns(t *testing.T) {
	s, err := ort.NewSession(model(t), ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			v := float32(g)
			out, err := s.Run(map[string]tensor.Tensor{"X": tensor.F32s([]float32{v, 0}, 1, 2), "ids": tensor.I64s([]int64{1}, 1)})
			if err == nil && out["Y"].F32[0] != v+0.5 {
				err = errMismatch
			}
			errs <- err
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

var errMismatch = &mismatch{}

type mismatch struct{}

func (*mismatch) Error() string { return "concurrent run returned another goroutine's result" }

func TestInitIsIdempotent(t *testing.T) {
	a, b := ort.Init(), ort.Init()
	if a != b {
		t.Fatalf("Init returned %v then %v", a, b)
	}
}
