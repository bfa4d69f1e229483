package onnx

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
)

// mlpWeights holds a 2-layer MLP X[B,in] -> Relu(X W1 + b1) W2 + b2 -> [B,out].
type mlpWeights struct {
	in, hidden, out int
	w1, b1, w2, b2  tensor.Tensor
}

func newMLPWeights(r *rand.Rand, in, hidden, out int) mlpWeights {
	return mlpWeights{in, hidden, out,
		randF32(r, 0.5, in, hidden), randF32(r, 0.5, hidden),
		randF32(r, 0.5, hidden, out), randF32(r, 0.5, out)}
}

func buildMLP(t *testing.T, w mlpWeights) *onnxpb.ModelProto {
	b := NewBuilder("mlp")
	b.Input("X", "float32", "batch", w.in)
	b.Output("logits", "float32", "batch", w.out)
	b.Initializer("W1", w.w1)
	b.Initializer("b1", w.b1)
	b.Initializer("W2", w.w2)
	b.Initializer("b2", w.b2)
	h := b.Tmp("h")
	b.Node("Gemm", []string{"X", "W1", "b1"}, []string{h})
	a := b.Tmp("h")
	b.Node("Relu", []string{h}, []string{a})
	mm := b.Tmp("mm")
	b.Node("MatMul", []string{a, "W2"}, []string{mm})
	b.Node("Add", []string{mm, "b2"}, []string{"logits"})
	b.SetMetadata("fob.task", "toy")
	return mustModel(t, b)
}

// forward is the reference computation in float64.
func (w mlpWeights) forward(x tensor.Tensor) tensor.Tensor {
	batch := x.Shape[0]
	out := make([]float32, batch*w.out)
	for r := 0; r < batch; r++ {
		h := make([]float64, w.hidden)
		for j := range h {
			s := float64(w.b1.F32[j])
			for i := 0; i < w.in; i++ {
				s += float64(x.F32[r*w.in+i]) * float64(w.w1.F32[i*w.hidden+j])
			}
			h[j] = math.Max(s, 0)
		}
		for k := 0; k < w.out; k++ {
			s := float64(w.b2.F32[k])
			for j := range h {
				s += h[j] * float64(w.w2.F32[j*w.out+k])
			}
			out[r*w.out+k] = float32(s)
		}
	}
	return tensor.F32s(out, batch, w.out)
}

func TestBuilderRoundTripInORT(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	w := newMLPWeights(r, 7, 5, 3)
	path := filepath.Join(t.TempDir(), "mlp.onnx")
	if err := Save(path, buildMLP(t, w)); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.GetProducerName() != "fob" || m.GetIrVersion() != IRVersion || m.GetOpsetImport()[0].GetVersion() != Opset {
		t.Fatalf("header: producer %q ir %d opset %v", m.GetProducerName(), m.GetIrVersion(), m.GetOpsetImport())
	}
	if got := Metadata(m)["fob.task"]; got != "toy" {
		t.Fatalf("metadata fob.task = %q", got)
	}
	for _, batch := range []int{1, 4, 9} { // the symbolic batch dim takes any size
		x := randF32(r, 1, batch, 7)
		out := runORT(t, m, map[string]tensor.Tensor{"X": x})
		assertClose(t, "logits", out["logits"], w.forward(x), 1e-5)
	}
}

func TestBuilderValidation(t *testing.T) {
	cases := []struct {
		name  string
		build func(b *Builder)
		want  string
	}{
		{"undefined input", func(b *Builder) {
			b.Node("Relu", []string{"nope"}, []string{"y"})
		}, `node "Relu_0" (Relu): input 0 "nope" is not a graph input`},
		{"use before definition", func(b *Builder) {
			b.Node("Relu", []string{"z"}, []string{"y"})
			b.Node("Relu", []string{"X"}, []string{"z"})
		}, `node "Relu_0" (Relu): input 0 "z"`},
		{"output defined twice", func(b *Builder) {
			b.Node("Relu", []string{"X"}, []string{"y"})
			b.Node("Neg", []string{"X"}, []string{"y"})
		}, `"y" is defined twice: by node "Relu_0" (Relu) and by node "Neg_0" (Neg)`},
		{"input shadows initializer", func(b *Builder) {
			b.Initializer("X", tensor.F32s([]float32{1}, 1))
			b.Node("Relu", []string{"X"}, []string{"y"})
		}, `"X" is defined twice: by graph input and by initializer`},
		{"output not produced", func(b *Builder) {
			b.Node("Relu", []string{"X"}, []string{"other"})
		}, `graph output "y" is not produced by any node`},
		{"bad dtype", func(b *Builder) {
			b.Input("Z", "float16", 2)
			b.Node("Relu", []string{"X"}, []string{"y"})
		}, `input "Z": dtype "float16" is not supported`},
		{"bad dim", func(b *Builder) {
			b.Input("Z", "float32", 2.5)
			b.Node("Relu", []string{"X"}, []string{"y"})
		}, `input "Z": dim 0 is float64 (2.5)`},
		{"bad initializer", func(b *Builder) {
			b.Initializer("W", tensor.F32s([]float32{1, 2, 3}, 2, 2))
			b.Node("Relu", []string{"X"}, []string{"y"})
		}, `initializer "W": tensor: shape [2 2] holds 4 elements, data has 3`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := NewBuilder("g")
			b.Input("X", "float32", "batch", 2)
			b.Output("y", "float32", "batch", 2)
			c.build(b)
			_, err := b.Model()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestTmpNamesAreUnique(t *testing.T) {
	b := NewBuilder("g")
	b.Input("h_0", "float32", 1)
	seen := map[string]bool{"h_0": true}
	for i := 0; i < 5; i++ {
		n := b.Tmp("h")
		if seen[n] {
			t.Fatalf("Tmp returned %q twice or a declared name", n)
		}
		seen[n] = true
	}
}

func TestParseRejectsNonModels(t *testing.T) {
	valid, err := Marshal(buildMLP(t, newMLPWeights(rand.New(rand.NewPCG(3, 4)), 3, 2, 2)))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"empty":     {},
		"truncated": valid[:len(valid)/2],
		"text":      []byte("this is not an onnx file\n"),
		"png":       {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13},
	}
	dir := t.TempDir()
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse(data); err == nil || !strings.Contains(err.Error(), "not a valid ONNX model") {
				t.Fatalf("Parse: %v", err)
			}
			path := filepath.Join(dir, name+".onnx")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), path+": not a valid ONNX model") {
				t.Fatalf("Load: %v", err)
			}
		})
	}
	if _, err := Load(filepath.Join(dir, "missing.onnx")); err == nil || !strings.Contains(err.Error(), "missing.onnx") {
		t.Fatalf("Load of a missing file: %v", err)
	}
	if _, err := Parse(valid); err != nil {
		t.Fatalf("Parse of a valid model: %v", err)
	}
}

func TestSaveIsAtomicAndDeterministic(t *testing.T) {
	m := buildMLP(t, newMLPWeights(rand.New(rand.NewPCG(5, 6)), 3, 2, 2))
	dir := t.TempDir()
	path := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(path, []byte("old contents"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, m); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("Save left %d files in the folder, want 1", len(entries))
	}
	a, _ := os.ReadFile(path)
	b, _ := Marshal(m)
	if !bytes.Equal(a, b) {
		t.Fatal("saved bytes differ from Marshal")
	}
	if err := Save(filepath.Join(dir, "no", "such", "dir.onnx"), m); err == nil || !strings.Contains(err.Error(), "dir.onnx") {
		t.Fatalf("Save into a missing folder: %v", err)
	}
}

func TestMetadata(t *testing.T) {
	m := buildMLP(t, newMLPWeights(rand.New(rand.NewPCG(7, 8)), 2, 2, 2))
	SetMetadata(m, "fob.task", "mnist")
	SetMetadata(m, "fob.seed", "42")
	b, _ := Marshal(m)
	m2, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	got := Metadata(m2)
	if len(got) != 2 || got["fob.task"] != "mnist" || got["fob.seed"] != "42" {
		t.Fatalf("metadata %v", got)
	}
}
