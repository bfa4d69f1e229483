package onnx

import (
	"math/rand/v2"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
)

func TestSignatureOf(t *testing.T) {
	m := buildMLP(t, newMLPWeights(rand.New(rand.NewPCG(1, 1)), 784, 3, 10))
	// Old exporters list initializers among the graph inputs; they are not model inputs.
	init := Initializers(m)["W1"]
	m.Graph.Input = append(m.Graph.Input, &onnxpb.ValueInfoProto{Name: proto.String("W1"),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(init.GetDataType()), Shape: &onnxpb.TensorShapeProto{}}}}})
	s, err := SignatureOf(m)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.String(), "inputs: X float32[batch,784]; outputs: logits float32[batch,10]"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	if s.Inputs[0].Dims[0] != -1 || s.Inputs[0].DimNames[0] != "batch" || s.Inputs[0].DimNames[1] != "" {
		t.Fatalf("input spec %+v", s.Inputs[0])
	}
}

func spec(name, dtype string, dims ...any) TensorSpec {
	ts := TensorSpec{Name: name, DType: dtype, Dims: []int{}, DimNames: []string{}}
	for _, d := range dims {
		switch v := d.(type) {
		case int:
			ts.Dims, ts.DimNames = append(ts.Dims, v), append(ts.DimNames, "")
		case string:
			ts.Dims, ts.DimNames = append(ts.Dims, -1), append(ts.DimNames, v)
		}
	}
	return ts
}

func TestSignatureCheck(t *testing.T) {
	want := Signature{
		Inputs:  []TensorSpec{spec("X", "float32", "batch", 784)},
		Outputs: []TensorSpec{spec("logits", "float32", "batch", 10)},
	}
	cases := []struct {
		name string
		got  Signature
		err  string // "" = accepted
	}{
		{"same", want, ""},
		{"other symbolic name", Signature{
			Inputs:  []TensorSpec{spec("X", "float32", "batch_size", 784)},
			Outputs: []TensorSpec{spec("logits", "float32", "batch_size", 10)}}, ""},
		{"fixed batch accepted", Signature{
			Inputs:  []TensorSpec{spec("X", "float32", 1, 784)},
			Outputs: []TensorSpec{spec("logits", "float32", 1, 10)}}, ""},
		{"wrong fixed dim", Signature{
			Inputs:  []TensorSpec{spec("X", "float32", "batch", 785)},
			Outputs: want.Outputs}, `input "X" dim 1 is 785, want 784`},
		{"symbolic where fixed wanted", Signature{
			Inputs:  want.Inputs,
			Outputs: []TensorSpec{spec("logits", "float32", "batch", "classes")}}, `output "logits" dim 1 is symbolic "classes", want 10`},
		{"renamed input", Signature{
			Inputs:  []TensorSpec{spec("input", "float32", "batch", 784)},
			Outputs: want.Outputs}, `input "X" is missing`},
		{"extra input", Signature{
			Inputs:  append([]TensorSpec{spec("mask", "int64", "batch")}, want.Inputs...),
			Outputs: want.Outputs}, `unexpected input "mask"`},
		{"dtype", Signature{
			Inputs:  []TensorSpec{spec("X", "float64", "batch", 784)},
			Outputs: want.Outputs}, `input "X" has element type float64, want float32`},
		{"rank", Signature{
			Inputs:  []TensorSpec{spec("X", "float32", "batch", 1, 28, 28)},
			Outputs: want.Outputs}, `input "X" has rank 4 (X float32[batch,1,28,28]), want rank 2`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := want.Check(c.got)
			if c.err == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			for _, part := range []string{c.err, "want: " + want.String(), "got:  " + c.got.String()} {
				if !strings.Contains(msg, part) {
					t.Fatalf("error %q lacks %q", msg, part)
				}
			}
		})
	}
}

// TestCheckTensors: what a model returned at run time is checked against the task's signature
// before metrics read it.
func TestCheckTensors(t *testing.T) {
	sig := Signature{
		Inputs:  []TensorSpec{spec("X", "float32", "batch", 784)},
		Outputs: []TensorSpec{spec("logits", "float32", "batch", 10)},
	}
	x := tensor.F32s(make([]float32, 3*784), 3, 784)
	f32 := func(shape ...int) tensor.Tensor {
		n := 1
		for _, d := range shape {
			n *= d
		}
		return tensor.F32s(make([]float32, n), shape...)
	}
	cases := []struct {
		name string
		out  map[string]tensor.Tensor
		want string
	}{
		{"fits", map[string]tensor.Tensor{"logits": f32(3, 10)}, ""},
		{"extra outputs are ignored", map[string]tensor.Tensor{"logits": f32(3, 10), "aux": f32(1)}, ""},
		{"fixed dim differs", map[string]tensor.Tensor{"logits": f32(3, 5)},
			`onnx: model output "logits" has shape [3 5], but the task expects logits float32[batch,10] (dim 1 is 5, want 10); the file's declared shape does not match what its graph computes`},
		{"rank differs", map[string]tensor.Tensor{"logits": f32(30)},
			`model output "logits" has shape [30] (rank 1), but the task expects logits float32[batch,10] (rank 2)`},
		{"symbolic dim disagrees with the input", map[string]tensor.Tensor{"logits": f32(1, 10)},
			`model output "logits" has shape [1 10], but the task expects logits float32[batch,10]: dim 0 (batch) is 1 while in input "X" batch is 3`},
		{"element type differs", map[string]tensor.Tensor{"logits": tensor.I64s(make([]int64, 30), 3, 10)},
			`model output "logits" holds int64, but the task expects logits float32[batch,10]`},
		{"output missing", map[string]tensor.Tensor{"probs": f32(3, 10)},
			`the model returned no output "logits" (the task expects logits float32[batch,10])`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := sig.CheckTensors(map[string]tensor.Tensor{"X": x}, c.out)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}
