package onnx

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
)

// TestLoweringMatchesORT covers the cases ONNX's node conformance tests found onnx-gomlx
// computing wrongly, or failing on, with no error from fob before ForImport rewrote them: each
// model runs in onnxruntime and, lowered, in GoMLX, and every output must agree.
func TestLoweringMatchesORT(t *testing.T) {
	r := rand.New(rand.NewPCG(81, 82))
	type built struct {
		m      *onnxpb.ModelProto
		inputs map[string]tensor.Tensor
	}
	cases := []struct {
		name  string
		build func(t *testing.T) built
		tol   float64
	}{
		{"Gather negative indices", func(t *testing.T) built {
			b := NewBuilder("g")
			b.Input("X", "float32", 5, 3)
			b.Input("I", "int64", 4)
			b.Node("Gather", []string{"X", "I"}, []string{"Y"})
			b.Output("Y", "float32", 4, 3)
			return built{mustModel(t, b), map[string]tensor.Tensor{"X": randF32(r, 1, 5, 3), "I": tensor.I64s([]int64{-1, 0, -5, 2}, 4)}}
		}, 1e-6},
		{"Gather negative indices, axis -1", func(t *testing.T) built {
			b := NewBuilder("g")
			b.Input("X", "float32", 2, 5)
			b.Initializer("I", tensor.I64s([]int64{-2, 1, -1}, 3))
			b.Node("Gather", []string{"X", "I"}, []string{"Y"}, AttrInt("axis", -1))
			b.Output("Y", "float32", 2, 3)
			return built{mustModel(t, b), map[string]tensor.Tensor{"X": randF32(r, 1, 2, 5)}}
		}, 1e-6},
		{"Gather of a shape at -1, feeding a Reshape", func(t *testing.T) built {
			// Exporters' shape arithmetic: x.reshape(-1, x.shape[-1]); onnx-gomlx must still fold
			// the Reshape's target into a constant.
			b := NewBuilder("g")
			b.Input("X", "float32", "N", 3, 4)
			b.Node("Shape", []string{"X"}, []string{"s"})
			b.Initializer("last", tensor.I64s([]int64{-1}, 1))
			b.Initializer("minus1", tensor.I64s([]int64{-1}, 1))
			b.Node("Gather", []string{"s", "last"}, []string{"d"})
			b.Node("Concat", []string{"minus1", "d"}, []string{"target"}, AttrInt("axis", 0))
			b.Node("Reshape", []string{"X", "target"}, []string{"Y"})
			b.Output("Y", "float32", "M", 4)
			return built{mustModel(t, b), map[string]tensor.Tensor{"X": randF32(r, 1, 2, 3, 4)}}
		}, 1e-6},
		{"GatherElements negative indices", func(t *testing.T) built {
			b := NewBuilder("g")
			b.Input("X", "float32", 3, 4)
			b.Input("I", "int64", 3, 2)
			b.Node("GatherElements", []string{"X", "I"}, []string{"Y"}, AttrInt("axis", 1))
			b.Output("Y", "float32", 3, 2)
			return built{mustModel(t, b), map[string]tensor.Tensor{"X": randF32(r, 1, 3, 4), "I": tensor.I64s([]int64{-1, 0, 3, -4, -2, 1}, 3, 2)}}
		}, 1e-6},
		{"GlobalAveragePool keeps the spatial axes", func(t *testing.T) built {
			b := NewBuilder("g")
			b.Input("X", "float32", "N", 3, 4, 5)
			b.Node("GlobalAveragePool", []string{"X"}, []string{"Y"})
			b.Output("Y", "float32", "N", 3, 1, 1)
			return built{mustModel(t, b), map[string]tensor.Tensor{"X": randF32(r, 1, 2, 3, 4, 5)}}
		}, 1e-5},
		{"Slice negative steps", func(t *testing.T) built {
			b := NewBuilder("g")
			b.Input("X", "float32", 5, 6, 2)
			b.Initializer("starts", tensor.I64s([]int64{-1, 1, 9}, 3))
			b.Initializer("ends", tensor.I64s([]int64{-100, 6, -100}, 3))
			b.Initializer("axes", tensor.I64s([]int64{0, 1, -1}, 3))
			b.Initializer("steps", tensor.I64s([]int64{-2, 2, -1}, 3))
			b.Node("Slice", []string{"X", "starts", "ends", "axes", "steps"}, []string{"Y"})
			b.Output("Y", "float32", 3, 3, 2)
			return built{mustModel(t, b), map[string]tensor.Tensor{"X": randF32(r, 1, 5, 6, 2)}}
		}, 1e-6},
		{"LogSoftmax of large logits", func(t *testing.T) built {
			b := NewBuilder("g")
			b.Input("X", "float32", 2, 4)
			b.Node("LogSoftmax", []string{"X"}, []string{"Y"})
			b.Output("Y", "float32", 2, 4)
			x := tensor.F32s([]float32{10000, 10001, 10002, 10003, -20000.5, -20001, -20003, -20000}, 2, 4)
			return built{mustModel(t, b), map[string]tensor.Tensor{"X": x}}
		}, 2e-6},
		{"Clip with min omitted", func(t *testing.T) built {
			b := NewBuilder("g")
			b.Input("X", "float32", 2, 5)
			b.Initializer("hi", tensor.F32s([]float32{0.25}))
			b.Node("Clip", []string{"X", "", "hi"}, []string{"Y"})
			b.Output("Y", "float32", 2, 5)
			return built{mustModel(t, b), map[string]tensor.Tensor{"X": randF32(r, 1, 2, 5)}}
		}, 1e-6},
		{"Clip with both omitted", func(t *testing.T) built {
			b := NewBuilder("g")
			b.Input("X", "float32", 2, 5)
			b.Node("Clip", []string{"X", "", ""}, []string{"Y"})
			b.Node("Neg", []string{"Y"}, []string{"Z"})
			b.Output("Z", "float32", 2, 5)
			return built{mustModel(t, b), map[string]tensor.Tensor{"X": randF32(r, 1, 2, 5)}}
		}, 1e-6},
		{"Clip opset 6 attributes", func(t *testing.T) built {
			b := NewBuilder("g")
			b.Input("X", "float32", 2, 5)
			b.Node("Clip", []string{"X"}, []string{"Y"}, AttrFloat("min", -0.3), AttrFloat("max", 0.2))
			b.Output("Y", "float32", 2, 5)
			m := mustModel(t, b)
			setOpset(m, 6)
			return built{m, map[string]tensor.Tensor{"X": randF32(r, 1, 2, 5)}}
		}, 1e-6},
		{"CumSum exclusive along a size-1 axis", func(t *testing.T) built {
			b := NewBuilder("g")
			b.Input("X", "float32", 1, 4)
			b.Initializer("a0", tensor.I64s([]int64{0}))
			b.Initializer("a1", tensor.I64s([]int64{1}))
			b.Node("CumSum", []string{"X", "a0"}, []string{"Y"}, AttrInt("exclusive", 1))
			b.Node("CumSum", []string{"X", "a1"}, []string{"Z"}, AttrInt("exclusive", 1))
			b.Output("Y", "float32", 1, 4)
			b.Output("Z", "float32", 1, 4)
			return built{mustModel(t, b), map[string]tensor.Tensor{"X": randF32(r, 1, 1, 4)}}
		}, 1e-6},
		{"ScatterElements axis 1 with one row", func(t *testing.T) built {
			b := NewBuilder("g")
			b.Input("D", "float32", 1, 5)
			b.Input("I", "int64", 1, 2)
			b.Input("U", "float32", 1, 2)
			b.Node("ScatterElements", []string{"D", "I", "U"}, []string{"Y"}, AttrInt("axis", 1))
			b.Output("Y", "float32", 1, 5)
			return built{mustModel(t, b), map[string]tensor.Tensor{"D": randF32(r, 1, 1, 5), "I": tensor.I64s([]int64{1, -2}, 1, 2), "U": randF32(r, 1, 1, 2)}}
		}, 1e-6},
		{"LSTM without bias, Y omitted", func(t *testing.T) built {
			b := NewBuilder("g")
			b.Input("X", "float32", 3, 2, 4)
			b.Initializer("W", randF32(r, 0.5, 1, 4*3, 4))
			b.Initializer("R", randF32(r, 0.5, 1, 4*3, 3))
			b.Node("LSTM", []string{"X", "W", "R"}, []string{"", "Yh"}, AttrInt("hidden_size", 3))
			b.Output("Yh", "float32", 1, 2, 3)
			return built{mustModel(t, b), map[string]tensor.Tensor{"X": randF32(r, 1, 3, 2, 4)}}
		}, 1e-5},
		{"LayerNormalization Mean and InvStdDev outputs", func(t *testing.T) built {
			b := NewBuilder("g")
			b.Input("X", "float32", "N", 3, 4)
			b.Initializer("S", randF32(r, 1, 3, 4))
			b.Initializer("B", randF32(r, 1, 3, 4))
			b.Node("LayerNormalization", []string{"X", "S", "B"}, []string{"Y", "Mean", "Inv"}, AttrInt("axis", 1), AttrFloat("epsilon", 1e-3))
			b.Output("Y", "float32", "N", 3, 4)
			b.Output("Mean", "float32", "N", 1, 1)
			b.Output("Inv", "float32", "N", 1, 1)
			return built{mustModel(t, b), map[string]tensor.Tensor{"X": randF32(r, 2, 2, 3, 4)}}
		}, 1e-5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.build(t)
			compareLowered(t, in.m, in.inputs, c.tol)
		})
	}
}

// TestShapeStartEndClamped: Shape's start and end count from the end when negative and are
// clamped to the rank (onnx-gomlx slices the dims without clamping and panics).
func TestShapeStartEndClamped(t *testing.T) {
	cases := []struct {
		start, end int64
		want       []int64
	}{
		{-10, 10, []int64{2, 3, 4}},
		{1, 100, []int64{3, 4}},
		{-2, -1, []int64{3}},
		{-100, 1, []int64{2}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("start %d end %d", c.start, c.end), func(t *testing.T) {
			b := NewBuilder("g")
			b.Input("X", "float32", 2, 3, 4)
			b.Node("Shape", []string{"X"}, []string{"Y"}, AttrInt("start", c.start), AttrInt("end", c.end))
			b.Output("Y", "int64", len(c.want))
			m := mustModel(t, b)
			setOpset(m, 15)
			x := randF32(rand.New(rand.NewPCG(1, 1)), 1, 2, 3, 4)
			if got := runORT(t, m, map[string]tensor.Tensor{"X": x})["Y"].I64; !slices.Equal(got, c.want) {
				t.Fatalf("onnxruntime: %v, want %v", got, c.want)
			}
			low, _, err := ForImport(m, ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := runGoMLX(t, low, map[string]tensor.Tensor{"X": x})["Y"].I64; !slices.Equal(got, c.want) {
				t.Fatalf("GoMLX: %v, want %v", got, c.want)
			}
		})
	}
}

// TestLoweringErrors: the rewrites that need facts the graph does not give say which and how
// to fix it.
func TestLoweringErrors(t *testing.T) {
	cases := []struct {
		name  string
		build func(b *Builder)
		want  string
	}{
		{"Slice negative step along a symbolic axis", func(b *Builder) {
			b.Initializer("s", tensor.I64s([]int64{-1}, 1))
			b.Initializer("e", tensor.I64s([]int64{-100}, 1))
			b.Initializer("a", tensor.I64s([]int64{0}, 1))
			b.Initializer("st", tensor.I64s([]int64{-1}, 1))
			b.Node("Slice", []string{"X", "s", "e", "a", "st"}, []string{"Y"})
		}, "op Slice (node Slice_0) is not supported for training with a negative step along axis 0, whose size is not known before run time"},
		{"Gather negative axis of unknown rank", func(b *Builder) {
			b.Input("S", "int64", 2)
			b.Node("Reshape", []string{"X", "S"}, []string{"h"})
			b.Node("Gather", []string{"h", "I"}, []string{"Y"}, AttrInt("axis", -1))
			b.Input("I", "int64", 2)
		}, `Gather node "Gather_0": cannot infer the rank of data "h" to resolve axis -1`},
		{"GlobalAveragePool of unknown rank", func(b *Builder) {
			b.Input("S", "int64", 3)
			b.Node("Reshape", []string{"X", "S"}, []string{"h"})
			b.Node("GlobalAveragePool", []string{"h"}, []string{"Y"})
		}, `GlobalAveragePool node "GlobalAveragePool_0": cannot infer the rank of its input "h"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := NewBuilder("g")
			b.Input("X", "float32", "batch", 4)
			b.Output("Y", "float32", "batch", 4)
			c.build(b)
			m, err := b.Model()
			if err != nil {
				// The builder checks order; inputs declared late are fine for this test.
				t.Fatal(err)
			}
			_, _, err = ForImport(m, ImportOptions{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}
