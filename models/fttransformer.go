package models

import (
	"fmt"
	"math"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
	"google.golang.org/protobuf/proto"
)

// FTTransformer describes the FT-Transformer of "Revisiting Deep Learning Models for Tabular
// Data" as the rtdl_revisiting_models package builds it (the model FOB's tabular task trains):
//
//	tokens = [CLS, x_1·w_1 + b_1, ..., x_F·w_F + b_F]          (LinearEmbeddings, one token per feature)
//	block i: x = x + MHA(LN_att(x))    (no LN_att in block 0)   pre-norm, residual dropout
//	         x = x + FFN(LN_ffn(x))    FFN = Linear → ReGLU → Dropout → Linear
//	output   = Linear(ReLU(LN_out(x_CLS)))
//
// The last block only computes the CLS row (rtdl does the same: its last attention queries the
// CLS token only, and nothing after it reads the other rows).
//
// Parameters carry rtdl's state_dict names (cls_embedding.weight, cont_embeddings.weight,
// backbone.blocks.<i>.attention.W_q.weight, ...ffn_normalization.weight, backbone.output.linear.bias)
// and shapes (Linear weights [out, in]), so optim.DefaultGroups splits them as the original's
// parameter groups intend: embeddings ("embed"), biases ("bias") and LayerNorm parameters
// ("normalization") get no weight decay, the Linear weights do.
//
// Initialisation is rtdl's: CLS and embedding weights and biases U(±1/√d_block); attention
// projections torch.nn.Linear's U(±1/√fan_in) with zero biases; FFN and output layers
// torch.nn.Linear's default; LayerNorm weight 1, bias 0.
type FTTransformer struct {
	// NFeatures is the number of continuous input features; DOut the output width.
	NFeatures, DOut int
	// NBlocks, DBlock and Heads shape the transformer; DBlock must be a multiple of Heads.
	NBlocks, DBlock, Heads int
	// FFNHidden is the FFN width after ReGLU (the first FFN layer outputs twice as many).
	FFNHidden int
	// AttentionDropout drops attention probabilities, FFNDropout the FFN hidden units,
	// ResidualDropout both residual branches; 0 leaves the Dropout node out.
	AttentionDropout, FFNDropout, ResidualDropout float64
	// Input and Output name the graph's input [batch, NFeatures] and output [batch, DOut].
	Input, Output string
}

// FTTransformerDefaults returns rtdl's default configuration for nBlocks (1 to 6), as
// FTTransformer.get_default_kwargs(n_blocks) gives it: d_block 96..384, 8 heads, attention
// dropout 0.1..0.35, FFN hidden multiplier 4/3 (ReGLU), FFN dropout 0..0.25, no residual
// dropout. NFeatures, DOut, Input and Output are left for the caller.
func FTTransformerDefaults(nBlocks int) (FTTransformer, error) {
	if nBlocks < 1 || nBlocks > 6 {
		return FTTransformer{}, fmt.Errorf("models: FT-Transformer defaults exist for 1 to 6 blocks, got %d", nBlocks)
	}
	i := nBlocks - 1
	d := []int{96, 128, 192, 256, 320, 384}[i]
	return FTTransformer{
		NBlocks:          nBlocks,
		DBlock:           d,
		Heads:            8,
		AttentionDropout: []float64{0.1, 0.15, 0.2, 0.25, 0.3, 0.35}[i],
		FFNHidden:        int(float64(d) * 4 / 3), // int(d_block * 4/3) as rtdl truncates it
		FFNDropout:       []float64{0.0, 0.05, 0.1, 0.15, 0.2, 0.25}[i],
	}, nil
}

func (m FTTransformer) validate() error {
	switch {
	case m.NFeatures <= 0 || m.DOut <= 0:
		return fmt.Errorf("models: FT-Transformer needs positive NFeatures and DOut, got %d and %d", m.NFeatures, m.DOut)
	case m.NBlocks <= 0 || m.DBlock <= 0 || m.Heads <= 0 || m.FFNHidden <= 0:
		return fmt.Errorf("models: FT-Transformer needs positive NBlocks, DBlock, Heads, FFNHidden, got %d, %d, %d, %d",
			m.NBlocks, m.DBlock, m.Heads, m.FFNHidden)
	case m.DBlock%m.Heads != 0:
		return fmt.Errorf("models: FT-Transformer d_block %d is not a multiple of the %d heads", m.DBlock, m.Heads)
	case m.Input == "" || m.Output == "":
		return fmt.Errorf("models: FT-Transformer needs Input and Output names")
	}
	for _, p := range []float64{m.AttentionDropout, m.FFNDropout, m.ResidualDropout} {
		if p < 0 || p >= 1 {
			return fmt.Errorf("models: FT-Transformer dropout %g outside [0, 1)", p)
		}
	}
	return nil
}

// Build returns the model as an ONNX graph with a symbolic batch dimension, initialised from
// seed. It uses only ops onnx-gomlx imports (MatMul, Gemm, Add, Mul, Div, Relu, Reshape,
// Transpose, Softmax, LayerNormalization, Gather, Concat, Constant) plus Dropout, which fob
// lowers; every intermediate has a shape fob's static inference knows, as the dropout masks
// need.
func (m FTTransformer) Build(name string, seed int64) (*onnxpb.ModelProto, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	rng := NewRNG(seed)
	g := newGraph(name)
	d, f, t := m.DBlock, m.NFeatures, m.NFeatures+1
	g.b.Input(m.Input, "float32", "batch", f)

	// Tokens [batch, F+1, d]. The CLS token is folded into the feature embedding so that no op
	// needs the batch size: the features are shifted one column right by a constant [F, F+1]
	// 0/1 matrix (column 0 stays 0), and the CLS row of the combined weight is a constant 0 while
	// its bias is the CLS embedding: token 0 = 0·0 + cls = cls exactly; token j = x_j·w_j + b_j.
	bound := 1 / math.Sqrt(float64(d))
	cls := g.param("cls_embedding.weight", rng.Uniform(bound, d))
	w := g.param("cont_embeddings.weight", rng.Uniform(bound, f, d))
	bias := g.param("cont_embeddings.bias", rng.Uniform(bound, f, d))
	shift := Const(0, f, t)
	for j := 0; j < f; j++ {
		shift.F32[j*t+j+1] = 1
	}
	xs := g.op("MatMul", m.Input, g.constant(shift))                      // [batch, F+1]
	xs = g.op("Reshape", xs, g.ints(0, int64(t), 1))                      // [batch, F+1, 1]
	wAll := g.op("Concat", []any{g.constant(Const(0, 1, d)), w}, axis(0)) // [F+1, d]
	bAll := g.op("Concat", []any{g.op("Reshape", cls, g.ints(1, int64(d))), bias}, axis(0))
	x := g.op("Add", g.op("Mul", xs, wAll), bAll)

	for i := 0; i < m.NBlocks; i++ {
		p := fmt.Sprintf("backbone.blocks.%d.", i)
		last := i == m.NBlocks-1
		xn := x
		if i > 0 {
			xn = g.layerNorm(p+"attention_normalization", x, d)
		}
		xq, res, tq := xn, x, t
		if last {
			// Only the CLS row is needed from here on.
			first := g.ints(0)
			xq = g.op("Gather", xn, first, axis(1)) // [batch, 1, d]
			res = g.op("Gather", x, first, axis(1))
			tq = 1
		}
		att := m.attention(g, rng, p+"attention.", xq, xn, tq, t)
		att = g.dropout(att, m.ResidualDropout)
		x = g.op("Add", res, att)

		h := g.layerNorm(p+"ffn_normalization", x, d)
		h = m.reglu(g, rng, p+"ffn.linear1", h)
		h = g.dropout(h, m.FFNDropout)
		h = g.linear(rng, p+"ffn.linear2", h, m.FFNHidden, d, false)
		h = g.dropout(h, m.ResidualDropout)
		x = g.op("Add", x, h)
	}
	x = g.op("Reshape", x, g.ints(0, int64(d))) // the CLS row: [batch, d]
	x = g.layerNorm("backbone.output.normalization", x, d)
	x = g.op("Relu", x)
	ow, ob := rng.LinearInit(d, m.DOut)
	g.param("backbone.output.linear.weight", ow)
	g.param("backbone.output.linear.bias", ob)
	g.b.Node("Gemm", []string{x, "backbone.output.linear.weight", "backbone.output.linear.bias"}, []string{m.Output}, onnx.AttrInt("transB", 1))
	g.b.Output(m.Output, "float32", "batch", m.DOut)
	return g.model()
}

// attention is rtdl's MultiheadAttention: queries from xq [batch, tq, d], keys and values from
// xkv [batch, tkv, d], heads of width d/Heads, softmax(q·kᵀ/√d_head) with dropout on the
// probabilities, then the output projection W_out.
func (m FTTransformer) attention(g *graph, rng *RNG, p, xq, xkv string, tq, tkv int) string {
	d, h := m.DBlock, m.Heads
	dh := d / h
	q := g.linear(rng, p+"W_q", xq, d, d, true)
	k := g.linear(rng, p+"W_k", xkv, d, d, true)
	v := g.linear(rng, p+"W_v", xkv, d, d, true)
	heads := func(x string, tokens int, perm ...int64) string {
		return g.op("Transpose", g.op("Reshape", x, g.ints(0, int64(tokens), int64(h), int64(dh))), onnx.AttrInts("perm", perm))
	}
	qh := heads(q, tq, 0, 2, 1, 3)  // [batch, h, tq, dh]
	kh := heads(k, tkv, 0, 2, 3, 1) // [batch, h, dh, tkv]
	vh := heads(v, tkv, 0, 2, 1, 3) // [batch, h, tkv, dh]
	logits := g.op("Div", g.op("MatMul", qh, kh), g.constant(Const(float32(math.Sqrt(float64(dh))))))
	probs := g.op("Softmax", logits, onnx.AttrInt("axis", -1))
	probs = g.dropout(probs, m.AttentionDropout)
	out := g.op("MatMul", probs, vh)                                         // [batch, h, tq, dh]
	out = g.op("Transpose", out, onnx.AttrInts("perm", []int64{0, 2, 1, 3})) // [batch, tq, h, dh]
	out = g.op("Reshape", out, g.ints(0, int64(tq), int64(d)))               // [batch, tq, d]
	return g.linear(rng, p+"W_out", out, d, d, true)
}

// reglu applies the first FFN layer (weight [2·hidden, d], rtdl's linear1) and ReGLU: the first
// half of its outputs times ReLU of the second half. The halves are taken from the weight and
// bias with Gather (cheap: parameters, not activations) so that each half is one MatMul and
// every shape stays inferable.
func (m FTTransformer) reglu(g *graph, rng *RNG, p, x string) string {
	d, hid := m.DBlock, m.FFNHidden
	w, b := rng.LinearInit(d, 2*hid)
	g.param(p+".weight", w)
	g.param(p+".bias", b)
	lo, hi := make([]int64, hid), make([]int64, hid)
	for i := range lo {
		lo[i], hi[i] = int64(i), int64(hid+i)
	}
	half := func(idx []int64) string {
		ix := g.ints(idx...)
		wh := g.op("Gather", p+".weight", ix, axis(0)) // [hid, d]
		bh := g.op("Gather", p+".bias", ix, axis(0))   // [hid]
		return g.op("Add", g.op("MatMul", x, g.op("Transpose", wh, onnx.AttrInts("perm", []int64{1, 0}))), bh)
	}
	a, gate := half(lo), half(hi)
	return g.op("Mul", a, g.op("Relu", gate))
}

// graph wraps onnx.Builder with the few composite layers the models here need.
type graph struct {
	b     *onnx.Builder
	infos []*onnxpb.ValueInfoProto
}

// model validates the graph and adds the declared value_info.
func (g *graph) model() (*onnxpb.ModelProto, error) {
	m, err := g.b.Model()
	if err != nil {
		return nil, err
	}
	m.Graph.ValueInfo = append(m.Graph.ValueInfo, g.infos...)
	return m, nil
}

// declare records the shape of the float32 intermediate name (dims: int sizes or symbolic
// names) as value_info, for ops whose output shape fob's static inference does not derive.
func (g *graph) declare(name string, dims ...any) {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		dim := &onnxpb.TensorShapeProto_Dimension{}
		switch v := d.(type) {
		case int:
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(v)}
		case string:
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: v}
		default:
			panic(fmt.Sprintf("models: declare %s: dim of type %T", name, d))
		}
		shape.Dim = append(shape.Dim, dim)
	}
	g.infos = append(g.infos, &onnxpb.ValueInfoProto{
		Name: proto.String(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Shape: shape}}},
	})
}

func newGraph(name string) *graph { return &graph{b: onnx.NewBuilder(name)} }

// axis is the common "axis" attribute.
func axis(a int64) *onnxpb.AttributeProto { return onnx.AttrInt("axis", a) }

// op appends a node with one output and returns the output's name. Inputs are names (string) or
// []any lists of names (variadic ops such as Concat); attributes follow the inputs.
func (g *graph) op(op string, args ...any) string {
	var ins []string
	var attrs []*onnxpb.AttributeProto
	for _, a := range args {
		switch v := a.(type) {
		case string:
			ins = append(ins, v)
		case []any:
			for _, s := range v {
				ins = append(ins, s.(string))
			}
		case *onnxpb.AttributeProto:
			attrs = append(attrs, v)
		default:
			panic(fmt.Sprintf("models: op %s: argument of type %T", op, a))
		}
	}
	out := g.b.Tmp(op)
	g.b.Node(op, ins, []string{out}, attrs...)
	return out
}

// param adds a trainable initializer and returns its name.
func (g *graph) param(name string, t tensor.Tensor) string {
	g.b.Initializer(name, t)
	return name
}

// constant adds a Constant node (not an initializer, which would become trainable).
func (g *graph) constant(t tensor.Tensor) string {
	out := g.b.Tmp("const")
	g.b.Node("Constant", nil, []string{out}, onnx.AttrTensor("value", t))
	return out
}

// ints adds an int64 vector Constant (shapes, indices).
func (g *graph) ints(v ...int64) string {
	return g.constant(tensor.I64s(append([]int64{}, v...), len(v)))
}

// linear applies a torch.nn.Linear named p (weight [out, in], bias [out]) to the last axis of x.
// The weight is drawn with torch's default U(±1/√in); zeroBias sets the bias to 0 instead of the
// default draw.
func (g *graph) linear(rng *RNG, p, x string, in, out int, zeroBias bool) string {
	w, b := rng.LinearInit(in, out)
	if zeroBias {
		b = Const(0, out)
	}
	g.param(p+".weight", w)
	g.param(p+".bias", b)
	wt := g.op("Transpose", p+".weight", onnx.AttrInts("perm", []int64{1, 0}))
	return g.op("Add", g.op("MatMul", x, wt), p+".bias")
}

// layerNorm is torch.nn.LayerNorm(d) over the last axis (eps 1e-5, weight 1, bias 0).
func (g *graph) layerNorm(p, x string, d int) string {
	g.param(p+".weight", Const(1, d))
	g.param(p+".bias", Const(0, d))
	return g.op("LayerNormalization", x, p+".weight", p+".bias", axis(-1), onnx.AttrFloat("epsilon", 1e-5))
}

// dropout appends an ONNX Dropout with a constant ratio (fob's trainer turns it into a fresh
// mask every step; inference and export leave it a pass-through); ratio 0 adds nothing.
func (g *graph) dropout(x string, ratio float64) string {
	if ratio == 0 {
		return x
	}
	return g.op("Dropout", x, g.constant(Const(float32(ratio))))
}
