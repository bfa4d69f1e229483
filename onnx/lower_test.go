package onnx

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
)

// extremes are inputs where naive formulas overflow or lose precision.
var extremes = []float32{-200, -90, -30, -1e-3, 0, 1e-3, 30, 90, 200}

// withExtremes fills the start of x with extremes.
func withExtremes(x tensor.Tensor) tensor.Tensor {
	copy(x.F32, extremes)
	return x
}

func setOpset(m *onnxpb.ModelProto, opset int64) {
	m.OpsetImport[0].Version = proto.Int64(opset)
	if opset >= 20 {
		m.IrVersion = proto.Int64(9)
	}
}

// compareLowered runs m in onnxruntime and ForImport(m) in onnx-gomlx and compares all outputs.
func compareLowered(t *testing.T, m *onnxpb.ModelProto, inputs map[string]tensor.Tensor, tol float64) *onnxpb.ModelProto {
	t.Helper()
	orig := proto.Clone(m)
	low, sites, err := ForImport(m, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(orig, m) {
		t.Fatal("ForImport modified its input model")
	}
	if len(sites) != 0 {
		t.Fatalf("sites %v in DropoutRemove mode", sites)
	}
	want := runORT(t, m, inputs)
	got := runGoMLX(t, low, inputs)
	for name, w := range want {
		assertClose(t, name, got[name], w, tol)
	}
	return low
}

func opsOf(m *onnxpb.ModelProto) map[string]int {
	ops := map[string]int{}
	for _, n := range m.GetGraph().GetNode() {
		ops[n.GetOpType()]++
	}
	return ops
}

func TestLoweredOpsMatchORT(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	unary := func(op string, opset int64, scale float32, attrs ...*onnxpb.AttributeProto) func(t *testing.T) (*onnxpb.ModelProto, map[string]tensor.Tensor) {
		return func(t *testing.T) (*onnxpb.ModelProto, map[string]tensor.Tensor) {
			b := NewBuilder(op)
			b.Input("X", "float32", "batch", 6)
			b.Output("Y", "float32", "batch", 6)
			b.Node(op, []string{"X"}, []string{"Y"}, attrs...)
			m := mustModel(t, b)
			setOpset(m, opset)
			return m, map[string]tensor.Tensor{"X": withExtremes(randF32(r, scale, 5, 6))}
		}
	}
	rank3 := func(op string, opset int64, attrs ...*onnxpb.AttributeProto) func(t *testing.T) (*onnxpb.ModelProto, map[string]tensor.Tensor) {
		return func(t *testing.T) (*onnxpb.ModelProto, map[string]tensor.Tensor) {
			b := NewBuilder(op)
			b.Input("X", "float32", "batch", 3, 4)
			b.Output("Y", "float32", "batch", 3, 4)
			b.Node(op, []string{"X"}, []string{"Y"}, attrs...)
			m := mustModel(t, b)
			setOpset(m, opset)
			x := randF32(r, 8, 2, 3, 4)
			x.F32[0], x.F32[1] = 150, -150 // far apart logits: naive exp overflows/underflows
			return m, map[string]tensor.Tensor{"X": x}
		}
	}
	reduceSum := func(keep int64, outDims []any, axes ...int64) func(t *testing.T) (*onnxpb.ModelProto, map[string]tensor.Tensor) {
		return func(t *testing.T) (*onnxpb.ModelProto, map[string]tensor.Tensor) {
			b := NewBuilder("reducesum")
			b.Input("X", "float32", "batch", 3, 4)
			in := []string{"X"}
			if len(axes) > 0 {
				b.Initializer("axes", tensor.I64s(axes, len(axes)))
				in = append(in, "axes")
			}
			b.Node("ReduceSum", in, []string{"Y"}, AttrInt("keepdims", keep))
			b.Output("Y", "float32", outDims...)
			m := mustModel(t, b)
			if outDims == nil { // no declared shape: ForImport declares the inferred one
				m.Graph.Output[0].Type.GetTensorType().Shape = nil
			}
			return m, map[string]tensor.Tensor{"X": randF32(r, 2, 2, 3, 4)}
		}
	}
	gemm := func(alpha, beta float32, transA, transB int64, withC bool) func(t *testing.T) (*onnxpb.ModelProto, map[string]tensor.Tensor) {
		return func(t *testing.T) (*onnxpb.ModelProto, map[string]tensor.Tensor) {
			b := NewBuilder("gemm")
			a := []any{"batch", 4}
			if transA != 0 {
				a = []any{4, "batch"}
			}
			b.Input("A", "float32", a...)
			bs := []int{4, 3}
			if transB != 0 {
				bs = []int{3, 4}
			}
			b.Initializer("B", randF32(r, 1, bs...))
			in := []string{"A", "B"}
			if withC {
				b.Initializer("C", randF32(r, 1, 3))
				in = append(in, "C")
			}
			b.Node("Gemm", in, []string{"Y"}, AttrFloat("alpha", alpha), AttrFloat("beta", beta),
				AttrInt("transA", transA), AttrInt("transB", transB))
			b.Output("Y", "float32", "batch", 3)
			ashape := []int{5, 4}
			if transA != 0 {
				ashape = []int{4, 5}
			}
			return mustModel(t, b), map[string]tensor.Tensor{"A": randF32(r, 1, ashape...)}
		}
	}
	cases := []struct {
		name  string
		build func(t *testing.T) (*onnxpb.ModelProto, map[string]tensor.Tensor)
		gone  string // op that must not remain after lowering
		tol   float64
	}{
		{"Sigmoid", unary("Sigmoid", 17, 10), "Sigmoid", 1e-6},
		{"Softplus", unary("Softplus", 17, 10), "Softplus", 1e-6},
		{"LeakyRelu default alpha", unary("LeakyRelu", 17, 10), "LeakyRelu", 1e-6},
		{"LeakyRelu alpha 0.2", unary("LeakyRelu", 17, 10, AttrFloat("alpha", 0.2)), "LeakyRelu", 1e-6},
		{"Elu", unary("Elu", 17, 4, AttrFloat("alpha", 0.7)), "Elu", 1e-6},
		{"Reciprocal", unary("Reciprocal", 17, 3), "Reciprocal", 1e-6},
		{"Gelu erf", unary("Gelu", 20, 4), "Gelu", 1e-5},
		{"Gelu tanh", unary("Gelu", 20, 4, AttrString("approximate", "tanh")), "Gelu", 1e-5},
		{"LogSoftmax last axis", rank3("LogSoftmax", 17), "LogSoftmax", 1e-5},
		{"LogSoftmax axis 1", rank3("LogSoftmax", 17, AttrInt("axis", 1)), "LogSoftmax", 1e-5},
		{"LogSoftmax axis -3", rank3("LogSoftmax", 17, AttrInt("axis", -3)), "LogSoftmax", 1e-5},
		{"LogSoftmax opset 11 flattens", rank3("LogSoftmax", 11), "LogSoftmax", 1e-5},
		{"Softmax opset 11 flattens", rank3("Softmax", 11), "", 1e-5},
		{"ReduceSum axes 1,2", reduceSum(1, []any{"batch", 1, 1}, 1, 2), "ReduceSum", 1e-5},
		{"ReduceSum axes 0,2 undeclared shape", reduceSum(1, nil, 0, 2), "ReduceSum", 1e-5},
		{"ReduceSum axis -1 no keepdims", reduceSum(0, []any{"batch", 3}, -1), "ReduceSum", 1e-5},
		{"ReduceSum all", reduceSum(0, []any{}), "ReduceSum", 1e-5},
		{"ReduceSum all keepdims", reduceSum(1, []any{1, 1, 1}), "ReduceSum", 1e-5},
		{"Gemm alpha", gemm(0.5, 1, 0, 0, true), "Gemm", 1e-5},
		{"Gemm beta transB", gemm(1, 2, 0, 1, true), "Gemm", 1e-5},
		{"Gemm alpha beta transA", gemm(-1.5, 0.25, 1, 0, true), "Gemm", 1e-5},
		{"Gemm alpha no C", gemm(3, 1, 1, 1, false), "Gemm", 1e-5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, inputs := c.build(t)
			low := compareLowered(t, m, inputs, c.tol)
			if c.gone != "" && opsOf(low)[c.gone] > 0 {
				t.Fatalf("%s left in the lowered graph: %v", c.gone, opsOf(low))
			}
			for op := range opsOf(low) {
				if !gomlxOps[op] || op == "Identity" {
					t.Fatalf("lowered graph uses %s", op)
				}
			}
			if len(Initializers(low)) != len(Initializers(m))-map[bool]int{true: 1}[strings.HasPrefix(c.name, "ReduceSum") && len(Initializers(m)) > 0] {
				t.Fatalf("initializers: %d lowered vs %d original", len(Initializers(low)), len(Initializers(m)))
			}
		})
	}
}

// TestConvPoolDefaults: without strides/pads/dilations (and Conv without kernel_shape) ONNX
// means stride 1, no padding, dilation 1; onnx-gomlx would crash or use stride = window.
func TestConvPoolDefaults(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	b := NewBuilder("cnn")
	b.Input("X", "float32", "batch", 2, 6, 6)
	b.Initializer("W", randF32(r, 0.5, 3, 2, 3, 3))
	b.Initializer("B", randF32(r, 0.5, 3))
	b.Node("Conv", []string{"X", "W", "B"}, []string{"c"})
	b.Node("MaxPool", []string{"c"}, []string{"p"}, AttrInts("kernel_shape", []int64{2, 2}))
	b.Node("AveragePool", []string{"p"}, []string{"Y"}, AttrInts("kernel_shape", []int64{2, 2}))
	b.Node("Conv", []string{"X", "W"}, []string{"Z"}, AttrInts("kernel_shape", []int64{3, 3}),
		AttrInts("strides", []int64{2, 1}), AttrInts("pads", []int64{1, 0, 1, 2}))
	b.Node("Conv", []string{"X", "W"}, []string{"D"}, AttrInts("dilations", []int64{1, 2}), AttrInts("pads", []int64{0, 1, 0, 1}))
	b.Output("Y", "float32", "batch", 3, 2, 2)
	b.Output("Z", "float32", "batch", 3, 3, 6)
	b.Output("D", "float32", "batch", 3, 4, 4)
	m := mustModel(t, b)
	low := compareLowered(t, m, map[string]tensor.Tensor{"X": randF32(r, 1, 2, 2, 6, 6)}, 1e-5)
	for _, n := range low.GetGraph().GetNode() {
		switch n.GetOpType() {
		case "MaxPool", "AveragePool":
			t.Fatalf("%s node %s not lowered to slices (its input shape is static)", n.GetOpType(), n.GetName())
		case "Conv":
			for _, a := range []string{"strides", "pads", "kernel_shape", "dilations"} {
				if findAttr(n, a) == nil {
					t.Fatalf("Conv node %s lacks %s", n.GetName(), a)
				}
			}
		}
	}
}

func TestIdentityRemoved(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	b := NewBuilder("identity")
	b.Input("X", "float32", "batch", 3)
	b.Initializer("W", randF32(r, 1, 3, 3))
	b.Node("Identity", []string{"W"}, []string{"W_shared"}) // PyTorch's tied weights
	b.Node("MatMul", []string{"X", "W_shared"}, []string{"h"})
	b.Node("Identity", []string{"h"}, []string{"h2"})
	b.Node("Identity", []string{"h2"}, []string{"Y"})          // output behind a chain: producer renamed
	b.Node("Identity", []string{"X"}, []string{"Xcopy"})       // output copying an input
	b.Node("Identity", []string{"Y"}, []string{"Ycopy"})       // output copying another output
	b.Node("Identity", []string{"W_shared"}, []string{"Wout"}) // output copying an initializer
	b.Output("Y", "float32", "batch", 3)
	b.Output("Xcopy", "float32", "batch", 3)
	b.Output("Ycopy", "float32", "batch", 3)
	b.Output("Wout", "float32", 3, 3)
	m := mustModel(t, b)
	low := compareLowered(t, m, map[string]tensor.Tensor{"X": randF32(r, 1, 4, 3)}, 1e-6)
	ops := opsOf(low)
	if ops["Identity"] != 0 || ops["MatMul"] != 1 {
		t.Fatalf("lowered ops %v", ops)
	}
	for _, n := range low.GetGraph().GetNode() {
		if n.GetOpType() == "MatMul" && (n.GetInput()[1] != "W" || n.GetOutput()[0] != "Y") {
			t.Fatalf("MatMul not rewired: %v -> %v", n.GetInput(), n.GetOutput())
		}
	}
}

// mlpWithDropout: Y = Dropout(Relu(X W), ratio) V.
func mlpWithDropout(t *testing.T, r *rand.Rand, ratioAsInput bool, opset int64) (*onnxpb.ModelProto, tensor.Tensor, tensor.Tensor) {
	b := NewBuilder("dropout")
	b.Input("X", "float32", "batch", 4)
	w, v := randF32(r, 1, 4, 5), randF32(r, 1, 5, 2)
	b.Initializer("W", w)
	b.Initializer("V", v)
	b.Node("MatMul", []string{"X", "W"}, []string{"h"})
	b.Node("Relu", []string{"h"}, []string{"a"})
	if ratioAsInput {
		b.Initializer("ratio", tensor.F32s([]float32{0.25}))
		b.Node("Dropout", []string{"a", "ratio"}, []string{"d", "dmask"})
	} else {
		b.Node("Dropout", []string{"a"}, []string{"d"}, AttrFloat("ratio", 0.25))
	}
	b.Node("MatMul", []string{"d", "V"}, []string{"Y"})
	b.Output("Y", "float32", "batch", 2)
	m := mustModel(t, b)
	setOpset(m, opset)
	return m, w, v
}

func TestDropoutRemove(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	m, _, _ := mlpWithDropout(t, r, true, 17)
	// onnxruntime runs Dropout in inference mode (identity): the same function as the removal.
	low := compareLowered(t, m, map[string]tensor.Tensor{"X": randF32(r, 1, 3, 4)}, 1e-5)
	if opsOf(low)["Dropout"] != 0 || Initializers(low)["ratio"] != nil {
		t.Fatalf("Dropout or its ratio left: %v", opsOf(low))
	}
}

func TestDropoutMasks(t *testing.T) {
	for _, c := range []struct {
		name         string
		ratioAsInput bool
		opset        int64
	}{{"ratio initializer", true, 17}, {"ratio attribute opset 10", false, 10}} {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(61, 62))
			m, w, v := mlpWithDropout(t, r, c.ratioAsInput, c.opset)
			low, sites, err := ForImport(m, ImportOptions{Dropout: DropoutMasks})
			if err != nil {
				t.Fatal(err)
			}
			if len(sites) != 1 || sites[0] != (DropoutSite{Input: "a", Mask: "fob.dropout.0", Ratio: 0.25}) {
				t.Fatalf("sites %+v", sites)
			}
			sig, err := SignatureOf(low)
			if err != nil {
				t.Fatal(err)
			}
			if got := sig.String(); got != "inputs: X float32[batch,4], fob.dropout.0 float32[batch,5]; outputs: Y float32[batch,2]" {
				t.Fatalf("lowered signature %s", got)
			}
			x := randF32(r, 1, 3, 4)
			mask := make([]float32, 15)
			for i := range mask {
				if r.Float32() >= 0.25 {
					mask[i] = 1 / 0.75
				}
			}
			got := runGoMLX(t, low, map[string]tensor.Tensor{"X": x, "fob.dropout.0": tensor.F32s(mask, 3, 5)})
			want := make([]float32, 6)
			for i := 0; i < 3; i++ {
				for k := 0; k < 2; k++ {
					s := 0.0
					for j := 0; j < 5; j++ {
						h := 0.0
						for q := 0; q < 4; q++ {
							h += float64(x.F32[i*4+q]) * float64(w.F32[q*5+j])
						}
						s += math.Max(h, 0) * float64(mask[i*5+j]) * float64(v.F32[j*2+k])
					}
					want[i*2+k] = float32(s)
				}
			}
			assertClose(t, "Y", got["Y"], tensor.F32s(want, 3, 2), 1e-5)
		})
	}
}

func TestDropoutMaskShapeInference(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	b := NewBuilder("cnn")
	b.Input("X", "float32", "N", 1, 8, 8)
	b.Initializer("W", randF32(r, 1, 4, 1, 3, 3))
	b.Initializer("shape", tensor.I64s([]int64{0, -1}, 2))
	b.Node("Conv", []string{"X", "W"}, []string{"c"}, AttrInts("pads", []int64{1, 1, 1, 1}), AttrInts("strides", []int64{2, 2}))
	b.Node("Dropout", []string{"c"}, []string{"d1"}, AttrFloat("ratio", 0.1))
	b.Node("Reshape", []string{"d1", "shape"}, []string{"f"})
	b.Node("Dropout", []string{"f"}, []string{"Y"}, AttrFloat("ratio", 0.2))
	b.Output("Y", "float32", "N", 64)
	m := mustModel(t, b)
	setOpset(m, 11)
	low, sites, err := ForImport(m, ImportOptions{Dropout: DropoutMasks})
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := SignatureOf(low)
	if got := sig.String(); got != "inputs: X float32[N,1,8,8], fob.dropout.0 float32[N,4,4,4], fob.dropout.1 float32[N,64]; outputs: Y float32[N,64]" {
		t.Fatalf("signature %s", got)
	}
	if len(sites) != 2 || sites[1].Input != "f" || sites[1].Ratio != float64(float32(0.2)) {
		t.Fatalf("sites %+v", sites)
	}
	ones := func(shape ...int) tensor.Tensor {
		v := make([]float32, shape[0]*shape[1]*max(1, shapeTail(shape)))
		for i := range v {
			v[i] = 1
		}
		return tensor.F32s(v, shape...)
	}
	x := randF32(r, 1, 2, 1, 8, 8)
	got := runGoMLX(t, low, map[string]tensor.Tensor{"X": x, "fob.dropout.0": ones(2, 4, 4, 4), "fob.dropout.1": ones(2, 64)})
	want := runORT(t, m, map[string]tensor.Tensor{"X": x}) // all-ones masks = inference mode
	assertClose(t, "Y", got["Y"], want["Y"], 1e-5)
}

func shapeTail(s []int) int {
	p := 1
	for _, d := range s[2:] {
		p *= d
	}
	return p
}

func TestForImportErrors(t *testing.T) {
	cases := []struct {
		name  string
		build func(b *Builder)
		opt   ImportOptions
		want  string
	}{
		{"unsupported op", func(b *Builder) {
			b.Node("ReduceMax", []string{"X"}, []string{"Y"}, AttrInts("axes", []int64{1}))
		}, ImportOptions{}, "onnx: op ReduceMax (node ReduceMax_0) is not supported for training; supported: Abs Add And"},
		{"custom domain", func(b *Builder) {
			b.Node("FusedGemm", []string{"X"}, []string{"Y"})
			b.nodes[len(b.nodes)-1].Domain = proto.String("com.microsoft")
		}, ImportOptions{}, "op com.microsoft.FusedGemm (node FusedGemm_0) is not supported for training (custom domain)"},
		{"batchnorm statistics read in inference form", func(b *Builder) {
			for _, n := range []string{"s", "bb", "mu", "var"} {
				b.Initializer(n, tensor.F32s([]float32{1, 1, 1}, 3))
			}
			b.Node("BatchNormalization", []string{"X", "s", "bb", "mu", "var"}, []string{"y", "rm", "rv"}, AttrInt("training_mode", 1))
			b.Node("Add", []string{"y", "rm"}, []string{"Y"})
		}, ImportOptions{BatchNorm: BatchNormInference}, `op BatchNormalization (node BatchNormalization_0) is not supported for training in inference form with its output 1 ("rm") used`},
		{"maxpool indices", func(b *Builder) {
			b.Node("MaxPool", []string{"X"}, []string{"p", "i"}, AttrInts("kernel_shape", []int64{2}))
			b.Node("Cast", []string{"i"}, []string{"Y"}, AttrInt("to", 1))
		}, ImportOptions{}, "op MaxPool (node MaxPool_0) is not supported for training with its Indices output used"},
		{"conv strides and dilations", func(b *Builder) {
			b.Initializer("W", tensor.F32s(make([]float32, 3*3*3), 3, 3, 3))
			b.Node("Conv", []string{"X", "W"}, []string{"Y"}, AttrInts("strides", []int64{2}), AttrInts("dilations", []int64{2}))
		}, ImportOptions{}, "op Conv (node Conv_0) is not supported for training with both strides [2] and dilations [2]"},
		{"dropout mask used", func(b *Builder) {
			b.Node("Dropout", []string{"X"}, []string{"d", "m"})
			b.Node("Cast", []string{"m"}, []string{"Y"}, AttrInt("to", 1))
		}, ImportOptions{}, `op Dropout (node Dropout_0) is not supported for training: its mask output "m" is used`},
		{"dropout ratio from input", func(b *Builder) {
			b.Input("r", "float32")
			b.Node("Dropout", []string{"X", "r"}, []string{"Y"})
		}, ImportOptions{Dropout: DropoutMasks}, `Dropout node "Dropout_0": ratio input "r" must be a float32 scalar constant or initializer`},
		{"malformed gemm", func(b *Builder) {
			b.Node("Gemm", []string{"X"}, []string{"Y"}, AttrFloat("alpha", 2))
		}, ImportOptions{}, `Gemm node "Gemm_0": the node has 1 inputs, ONNX requires at least 2`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := NewBuilder("g")
			b.Input("X", "float32", "batch", 3, 4)
			b.Output("Y", "float32", "batch", 3, 4)
			c.build(b)
			m := mustModel(t, b)
			_, _, err := ForImport(m, c.opt)
			if c.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}

func TestDropoutMaskNeedsRank(t *testing.T) {
	b := NewBuilder("g")
	b.Input("X", "float32", "batch", 4)
	b.Input("S", "int64", 2)
	b.Node("Reshape", []string{"X", "S"}, []string{"h"}) // shape only known at run time
	b.Node("Dropout", []string{"h"}, []string{"Y"})
	b.Output("Y", "float32", "a", "b")
	m := mustModel(t, b)
	_, _, err := ForImport(m, ImportOptions{Dropout: DropoutMasks})
	want := `Dropout node "Dropout_0": cannot infer the rank of its input "h" to declare mask input "fob.dropout.0"; add a value_info entry for "h"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
}

// TestLoweredGradients: the lowered forms must have finite, correct gradients even where a naive
// formula overflows (sigmoid(-200) via 1/(1+exp(200)) has a NaN gradient).
func TestLoweredGradients(t *testing.T) {
	sigmoid := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	cases := []struct {
		op    string
		deriv func(x float64) float64
	}{
		{"Sigmoid", func(x float64) float64 { s := sigmoid(x); return s * (1 - s) }},
		{"Softplus", sigmoid},
		{"Elu", func(x float64) float64 {
			if x > 0 {
				return 1
			}
			return math.Exp(x)
		}},
		{"LeakyRelu", func(x float64) float64 {
			if x >= 0 {
				return 1
			}
			return 0.01
		}},
	}
	xs := []float32{-200, -90, -30, -1, -1e-3, 1e-3, 1, 30, 90, 200}
	for _, c := range cases {
		t.Run(c.op, func(t *testing.T) {
			b := NewBuilder(c.op)
			b.Input("X", "float32", len(xs))
			b.Output("Y", "float32", len(xs))
			b.Node(c.op, []string{"X"}, []string{"Y"})
			low, _, err := ForImport(mustModel(t, b), ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := evalGoMLX(t, low, map[string]tensor.Tensor{"X": tensor.F32s(xs, len(xs))}, []string{"Y", "X"})
			if err != nil {
				t.Fatal(err)
			}
			want := make([]float32, len(xs))
			for i, x := range xs {
				want[i] = float32(c.deriv(float64(x)))
			}
			assertClose(t, "dY/dX", res["grad"], tensor.F32s(want, len(xs)), 1e-6)
		})
	}
	t.Run("LogSoftmax", func(t *testing.T) {
		// d/dx_j sum_i LogSoftmax(x)_i = 1 - n*p_j.
		x := []float32{-200, 0, 3, 200, 150, -1}
		b := NewBuilder("lsm")
		b.Input("X", "float32", 1, len(x))
		b.Output("Y", "float32", 1, len(x))
		b.Node("LogSoftmax", []string{"X"}, []string{"Y"})
		low, _, err := ForImport(mustModel(t, b), ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := evalGoMLX(t, low, map[string]tensor.Tensor{"X": tensor.F32s(x, 1, len(x))}, []string{"Y", "X"})
		if err != nil {
			t.Fatal(err)
		}
		lse := 200 + math.Log(1+math.Exp(-50))
		want := make([]float32, len(x))
		for j, v := range x {
			want[j] = float32(1 - float64(len(x))*math.Exp(float64(v)-lse))
		}
		assertClose(t, "grad", res["grad"], tensor.F32s(want, 1, len(x)), 1e-5)
		if y := res["Y"].F32; y[0] < -401 || y[0] > -399 {
			t.Fatalf("LogSoftmax(-200 | max 200) = %v, want about -400", y[0])
		}
	})
}

// TestFusedBatchNormLowering: with FusedBatchNorm each training-mode BatchNormalization becomes
// one FusedDomain node (inputs X, scale, B; outputs Y and the batch mean and variance) and the
// running-statistic updates read its statistic outputs; without it no such node appears.
func TestFusedBatchNormLowering(t *testing.T) {
	b := NewBuilder("bn")
	b.Input("x", "float32", 4, 3, 5, 5)
	b.Output("y", "float32", 4, 3, 5, 5)
	for _, name := range []string{"scale", "bias", "mean", "var"} {
		b.Initializer(name, tensor.F32s([]float32{1, 2, 3}, 3))
	}
	b.Node("BatchNormalization", []string{"x", "scale", "bias", "mean", "var"}, []string{"h"}, AttrFloat("epsilon", 1e-3))
	b.Node("Relu", []string{"h"}, []string{"y"})
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	for _, fused := range []bool{true, false} {
		low, err := Lower(m, ImportOptions{BatchNorm: BatchNormTrain, FusedBatchNorm: fused})
		if err != nil {
			t.Fatal(err)
		}
		var nodes []*onnxpb.NodeProto
		for _, n := range low.Model.GetGraph().GetNode() {
			if n.GetDomain() == FusedDomain {
				nodes = append(nodes, n)
			}
		}
		if !fused {
			if len(nodes) != 0 {
				t.Fatalf("FusedBatchNorm off: %d fused nodes", len(nodes))
			}
			continue
		}
		if len(nodes) != 1 || nodes[0].GetOpType() != FusedBatchNormOp {
			t.Fatalf("want one %s node, got %v", FusedBatchNormOp, nodes)
		}
		n := nodes[0]
		if got := strings.Join(n.GetInput(), ","); got != "x,scale,bias" || n.GetOutput()[0] != "h" || len(n.GetOutput()) != 3 {
			t.Fatalf("fused node inputs %v outputs %v", n.GetInput(), n.GetOutput())
		}
		if a := n.GetAttribute(); len(a) != 1 || a[0].GetName() != "epsilon" || a[0].GetF() != float32(1e-3) {
			t.Fatalf("fused node attributes %v", a)
		}
		if len(low.BatchNorm) != 1 {
			t.Fatalf("%d batch-norm sites, want 1", len(low.BatchNorm))
		}
		readsStats := false
		for _, other := range low.Model.GetGraph().GetNode() {
			for _, in := range other.GetInput() {
				if in == n.GetOutput()[1] || in == n.GetOutput()[2] {
					readsStats = true
				}
			}
		}
		if !readsStats {
			t.Fatal("no node reads the fused node's batch statistics (running-statistic updates)")
		}
	}
}
