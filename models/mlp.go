package models

import (
	"fmt"
	"math"
	"strings"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
)

// MLP describes a multi-layer perceptron: Linear layers with an activation between them.
type MLP struct {
	// Sizes are the layer widths, input first: {784, 128, 10}.
	Sizes []int
	// Activation is "sigmoid" or "relu" (case-insensitive).
	Activation string
	// Input and Output name the graph's input and output ("X", "logits").
	Input, Output string
	// OutputActivation applies the activation after the last layer too (FOB's template task).
	OutputActivation bool
}

// Build returns the MLP as an ONNX graph with a symbolic batch dimension. Layer i's parameters
// are "fc<i>.weight" [out, in] and "fc<i>.bias" [out], as torch.nn.Linear stores them, so the
// graph uses Gemm with transB=1, as PyTorch's exporter does.
func (m MLP) Build(name string, seed int64) (*onnxpb.ModelProto, error) {
	if len(m.Sizes) < 2 {
		return nil, fmt.Errorf("models: MLP needs at least input and output sizes, got %v", m.Sizes)
	}
	act, err := activationOp(m.Activation)
	if err != nil {
		return nil, err
	}
	rng := NewRNG(seed)
	b := onnx.NewBuilder(name)
	b.Input(m.Input, "float32", "batch", m.Sizes[0])
	x := m.Input
	for i := 1; i < len(m.Sizes); i++ {
		w, bias := rng.LinearInit(m.Sizes[i-1], m.Sizes[i])
		wn, bn := fmt.Sprintf("fc%d.weight", i), fmt.Sprintf("fc%d.bias", i)
		b.Initializer(wn, w)
		b.Initializer(bn, bias)
		last := i == len(m.Sizes)-1
		activate := !last || m.OutputActivation
		out := m.Output
		if activate {
			out = b.Tmp(fmt.Sprintf("fc%d", i))
		}
		b.Node("Gemm", []string{x, wn, bn}, []string{out}, onnx.AttrInt("transB", 1))
		x = out
		if activate {
			out = m.Output
			if !last {
				out = b.Tmp(strings.ToLower(act))
			}
			activation(b, act, x, out)
			x = out
		}
	}
	b.Output(m.Output, "float32", "batch", m.Sizes[len(m.Sizes)-1])
	return b.Model()
}

func activationOp(name string) (string, error) {
	switch strings.ToLower(name) {
	case "sigmoid":
		return "Sigmoid", nil
	case "relu":
		return "Relu", nil
	case "gelu":
		return "Gelu", nil
	}
	return "", fmt.Errorf("models: unknown activation %q; valid: Sigmoid, ReLU, GELU", name)
}

// activation writes op(x) to out. GELU is spelled out with Erf (exact GELU, as torch's default),
// since the Gelu operator only exists from opset 20.
func activation(b *onnx.Builder, op, x, out string) {
	if op != "Gelu" {
		b.Node(op, []string{x}, []string{out})
		return
	}
	half, sqrt2, one := b.Tmp("half"), b.Tmp("sqrt2"), b.Tmp("one")
	// Constant nodes, not initializers: initializers would become trainable variables.
	b.Node("Constant", nil, []string{half}, onnx.AttrTensor("value", Const(0.5)))
	b.Node("Constant", nil, []string{sqrt2}, onnx.AttrTensor("value", Const(float32(math.Sqrt2))))
	b.Node("Constant", nil, []string{one}, onnx.AttrTensor("value", Const(1)))
	d, e, p, h := b.Tmp("gelu_div"), b.Tmp("gelu_erf"), b.Tmp("gelu_add"), b.Tmp("gelu_half")
	b.Node("Div", []string{x, sqrt2}, []string{d})
	b.Node("Erf", []string{d}, []string{e})
	b.Node("Add", []string{e, one}, []string{p})
	b.Node("Mul", []string{x, half}, []string{h})
	b.Node("Mul", []string{h, p}, []string{out})
}
