package onnx

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/fob-go/fob/runtime/tensor"
)

// TestTorchExportedMLP reads a model PyTorch exported (testdata/make_torch_mlp.py): it must load,
// match the MNIST MLP signature, lower (Sigmoid is not in onnx-gomlx) and give PyTorch's logits
// in both onnxruntime and GoMLX.
func TestTorchExportedMLP(t *testing.T) {
	m, err := Load("testdata/torch_mlp.onnx")
	if err != nil {
		t.Fatal(err)
	}
	sig, err := SignatureOf(m)
	if err != nil {
		t.Fatal(err)
	}
	want := Signature{
		Inputs:  []TensorSpec{spec("X", "float32", "batch", 784)},
		Outputs: []TensorSpec{spec("logits", "float32", "batch", 10)},
	}
	if err := want.Check(sig); err != nil {
		t.Fatal(err)
	}
	if ops := opsOf(m); ops["Sigmoid"] != 1 || ops["Gemm"] != 2 {
		t.Fatalf("fixture ops %v", ops)
	}

	var io struct {
		X      []float32 `json:"X"`
		Logits []float32 `json:"logits"`
		XS     []int     `json:"X_shape"`
		LS     []int     `json:"logits_shape"`
	}
	b, err := os.ReadFile("testdata/torch_mlp_io.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &io); err != nil {
		t.Fatal(err)
	}
	x := tensor.F32s(io.X, io.XS...)
	torchLogits := tensor.F32s(io.Logits, io.LS...)

	ortOut := runORT(t, m, map[string]tensor.Tensor{"X": x})["logits"]
	assertClose(t, "onnxruntime vs PyTorch", ortOut, torchLogits, 1e-5)

	low, _, err := ForImport(m, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if opsOf(low)["Sigmoid"] != 0 {
		t.Fatal("Sigmoid not lowered")
	}
	goOut := runGoMLX(t, low, map[string]tensor.Tensor{"X": x})["logits"]
	assertClose(t, "GoMLX vs onnxruntime", goOut, ortOut, 1e-5)
}
