package models

import (
	"fmt"
	"math"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
)

// T5 describes a T5 encoder-decoder with the semantics of Hugging Face's
// T5ForConditionalGeneration (the original T5, v1.0: ReLU feed-forward, tied word embeddings):
//
//	encoder: x = Dropout(shared[input_ids])
//	         block i: x = x + Dropout(SelfAttention(RMSNorm(x)))      relative position bias (block 0's
//	                  x = x + Dropout(FF(RMSNorm(x)))                 table, bidirectional buckets) + padding mask
//	         enc = Dropout(RMSNorm_final(x))
//	decoder: y = Dropout(shared[decoder_input_ids])
//	         block i: y = y + Dropout(SelfAttention(RMSNorm(y)))      relative bias (unidirectional) + causal mask
//	                  y = y + Dropout(EncDecAttention(RMSNorm(y), enc)) padding mask of the source
//	                  y = y + Dropout(FF(RMSNorm(y)))
//	logits = (Dropout(RMSNorm_final(y)) · d_model^-0.5) · sharedᵀ
//
// with FF(x) = wo(Dropout(ReLU(wi(x)))), attention without the 1/√d_kv scaling (T5's
// initialisation absorbs it), dropout also on the attention probabilities, and the RMS norm
// w · x / √(mean(x²) + ε) (no mean subtraction, no bias).
//
// Parameters carry HF's state_dict names and shapes (shared.weight [vocab, d_model],
// encoder.block.<i>.layer.0.SelfAttention.q.weight [heads·d_kv, d_model], ...,
// decoder.block.<i>.layer.1.EncDecAttention.k.weight, decoder.block.<i>.layer.2.DenseReluDense.wo.weight,
// encoder.final_layer_norm.weight, ...); shared.weight appears once (HF's encoder.embed_tokens,
// decoder.embed_tokens and lm_head are the same tensor). Initialisation is HF's _init_weights
// with factor 1: shared N(0, 1); q N(0, (d_model·d_kv)^-½); k, v N(0, d_model^-½);
// o N(0, (heads·d_kv)^-½); relative_attention_bias N(0, d_model^-½); wi N(0, d_model^-½);
// wo N(0, d_ff^-½); norms 1.
//
// The relative position buckets are HF's _relative_position_bucket, computed in float32 as torch
// does. Every bucket is constant beyond RelativeAttentionMaxDistance, so the graphs hold a table
// of 2·max_distance+1 buckets (one per clipped relative position) and index it with relative
// positions computed in the graph from the input shapes: any length works without rebuilding.
type T5 struct {
	// VocabSize is the size of the shared embedding (and of the logits).
	VocabSize int
	// DModel is the width of the residual stream; DKV the width of each attention head; DFF the
	// hidden width of the feed-forward layers; NumHeads the number of heads.
	DModel, DKV, DFF, NumHeads int
	// NumLayers is the number of encoder blocks; NumDecoderLayers that of the decoder.
	NumLayers, NumDecoderLayers int
	// RelativeAttentionNumBuckets and RelativeAttentionMaxDistance shape the relative position
	// buckets (HF's relative_attention_num_buckets and relative_attention_max_distance).
	RelativeAttentionNumBuckets, RelativeAttentionMaxDistance int
	// DropoutRate is the probability of every dropout of the training graph (0: none).
	DropoutRate float64
	// LayerNormEpsilon is the ε of the RMS norms.
	LayerNormEpsilon float64
	// PadID is the padding token, which also starts decoding (HF's decoder_start_token_id);
	// EOSID ends a sequence. The graphs do not use them; they describe the vocabulary.
	PadID, EOSID int
}

// T5Small returns the configuration of HF's t5-small: 60,506,624 parameters.
func T5Small() T5 {
	return T5{
		VocabSize: 32128, DModel: 512, DKV: 64, DFF: 2048, NumHeads: 8,
		NumLayers: 6, NumDecoderLayers: 6,
		RelativeAttentionNumBuckets: 32, RelativeAttentionMaxDistance: 128,
		DropoutRate: 0.1, LayerNormEpsilon: 1e-6,
		PadID: 0, EOSID: 1,
	}
}

// NumParams is the number of trainable parameters Build creates.
func (m T5) NumParams() int {
	inner := m.NumHeads * m.DKV
	attn := 4 * m.DModel * inner
	ff := 2 * m.DModel * m.DFF
	bias := m.RelativeAttentionNumBuckets * m.NumHeads
	enc := m.NumLayers*(attn+ff+2*m.DModel) + bias + m.DModel
	dec := m.NumDecoderLayers*(2*attn+ff+3*m.DModel) + bias + m.DModel
	return m.VocabSize*m.DModel + enc + dec
}

func (m T5) validate() error {
	pos := []struct {
		name string
		v    int
	}{{"VocabSize", m.VocabSize}, {"DModel", m.DModel}, {"DKV", m.DKV}, {"DFF", m.DFF},
		{"NumHeads", m.NumHeads}, {"NumLayers", m.NumLayers}, {"NumDecoderLayers", m.NumDecoderLayers}}
	for _, p := range pos {
		if p.v <= 0 {
			return fmt.Errorf("models: T5 %s must be positive, got %d", p.name, p.v)
		}
	}
	nb, md := m.RelativeAttentionNumBuckets, m.RelativeAttentionMaxDistance
	if nb < 4 {
		return fmt.Errorf("models: T5 RelativeAttentionNumBuckets must be at least 4 (HF's bucketing divides it by 4 in the encoder), got %d", nb)
	}
	if md <= nb/2 {
		return fmt.Errorf("models: T5 RelativeAttentionMaxDistance %d must exceed RelativeAttentionNumBuckets/2 = %d "+
			"(HF's logarithmic buckets need max_distance > max_exact)", md, nb/2)
	}
	if m.DropoutRate < 0 || m.DropoutRate >= 1 || m.DropoutRate != m.DropoutRate {
		return fmt.Errorf("models: T5 DropoutRate %g outside [0, 1)", m.DropoutRate)
	}
	if !(m.LayerNormEpsilon > 0) {
		return fmt.Errorf("models: T5 LayerNormEpsilon must be positive, got %g", m.LayerNormEpsilon)
	}
	return nil
}

// T5RelativeBucket is HF's T5Attention._relative_position_bucket for one relative position
// rel = key position − query position: bidirectional (encoder) buckets split the buckets between
// the two signs, unidirectional (decoder) ones map every rel > 0 to bucket 0. The logarithmic
// part is computed in float32, as torch computes it, so that positions on a bucket boundary
// land where HF puts them.
func T5RelativeBucket(rel int, bidirectional bool, numBuckets, maxDistance int) int {
	bucket := 0
	nb := numBuckets
	if bidirectional {
		nb /= 2
		if rel > 0 {
			bucket = nb
		} else {
			rel = -rel
		}
	} else {
		rel = -min(rel, 0)
	}
	maxExact := nb / 2
	if rel < maxExact {
		return bucket + rel
	}
	lg := float32(math.Log(float64(float32(rel) / float32(maxExact))))
	scale := float32(math.Log(float64(maxDistance) / float64(maxExact)))
	v := float32(lg/scale) * float32(nb-maxExact)
	return bucket + min(maxExact+int(v), nb-1)
}

// bucketTable returns the buckets of the relative positions -D..D (D = max distance), which is
// every bucket there is: beyond ±D the bucket no longer changes.
func (m T5) bucketTable(bidirectional bool) tensor.Tensor {
	d := m.RelativeAttentionMaxDistance
	t := tensor.Tensor{Shape: []int{2*d + 1}, I64: make([]int64, 2*d+1)}
	for r := -d; r <= d; r++ {
		t.I64[r+d] = int64(T5RelativeBucket(r, bidirectional, m.RelativeAttentionNumBuckets, d))
	}
	return t
}

// Build returns the teacher-forcing (training) graph, initialised from seed:
//
//	input_ids int64[batch, src_len], attention_mask int64[batch, src_len] (1 token, 0 padding),
//	decoder_input_ids int64[batch, tgt_len] → logits float32[batch, tgt_len, vocab]
//
// Dropout is ONNX Dropout nodes with ratio DropoutRate (fob's trainer draws fresh masks each
// step; inference and export drop them).
func (m T5) Build(name string, seed int64) (*onnxpb.ModelProto, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	t := m.newBuilder(name, &t5DrawnWeights{rng: NewRNG(seed)}, m.DropoutRate)
	g := t.g
	g.b.Input("input_ids", "int64", "batch", "src_len")
	g.b.Input("attention_mask", "int64", "batch", "src_len")
	g.b.Input("decoder_input_ids", "int64", "batch", "tgt_len")

	t.shared()
	src := t.lengths("input_ids")
	tgt := t.lengths("decoder_input_ids")
	mask := t.maskBias("attention_mask")
	enc := t.encoder("input_ids", src, mask)
	y := t.decoderInput("decoder_input_ids")
	self := t.selfBias("decoder", tgt, tgt, false, true)
	for i := 0; i < m.NumDecoderLayers; i++ {
		p := fmt.Sprintf("decoder.block.%d.", i)
		h := t.norm(p+"layer.0.layer_norm", y)
		q := t.heads(t.linear(h, p+"layer.0.SelfAttention.q", m.inner(), m.DModel), tgt, false)
		k := t.heads(t.linear(h, p+"layer.0.SelfAttention.k", m.inner(), m.DModel), tgt, true)
		v := t.heads(t.linear(h, p+"layer.0.SelfAttention.v", m.inner(), m.DModel), tgt, false)
		a := t.attend(q, k, v, self, "tgt_len", "tgt_len")
		y = t.residual(y, t.linear(a, p+"layer.0.SelfAttention.o", m.DModel, m.inner()))

		h = t.norm(p+"layer.1.layer_norm", y)
		q = t.heads(t.linear(h, p+"layer.1.EncDecAttention.q", m.inner(), m.DModel), tgt, false)
		k = t.heads(t.linear(enc, p+"layer.1.EncDecAttention.k", m.inner(), m.DModel), src, true)
		v = t.heads(t.linear(enc, p+"layer.1.EncDecAttention.v", m.inner(), m.DModel), src, false)
		a = t.attend(q, k, v, mask, "tgt_len", "src_len")
		y = t.residual(y, t.linear(a, p+"layer.1.EncDecAttention.o", m.DModel, m.inner()))

		y = t.feedForward(p+"layer.2.", y)
	}
	t.logits(y, tgt, "logits")
	g.b.Output("logits", "float32", "batch", "tgt_len", m.VocabSize)
	if err := t.w.failed(); err != nil {
		return nil, err
	}
	return g.model()
}

// BuildDecoding builds the training graph from seed and returns its decoding graphs (see
// DecodingGraphs): the graphs of a freshly initialised model, for tests.
func (m T5) BuildDecoding(seed int64) (encoder, decoderStep *onnxpb.ModelProto, err error) {
	trained, err := m.Build("t5", seed)
	if err != nil {
		return nil, nil, err
	}
	return m.DecodingGraphs(trained)
}

// DecodingGraphs builds the two inference graphs that generation runs in onnxruntime, with the
// weights of trained (a graph built by Build, trained or not; initializers are read by name and
// their shapes checked against m):
//
// encoder: input_ids int64[batch, src_len], attention_mask int64[batch, src_len] →
// cross_key_<i>, cross_value_<i> float32[batch, heads, src_len, d_kv] for every decoder layer i:
// the EncDecAttention k and v projections of the final encoder states, computed once per source.
//
// decoder step: decoder_input_ids int64[batch, 1], attention_mask int64[batch, src_len],
// cross_key_<i>, cross_value_<i>, past_key_<i>, past_value_<i> float32[batch, heads, past_len, d_kv]
// → logits float32[batch, 1, vocab], present_key_<i>, present_value_<i>
// float32[batch, heads, past_len+1, d_kv]. The new token sits at position past_len (its relative
// position bias is row past_len of the full-length bias). The first step passes past tensors
// with past_len 0, which onnxruntime accepts.
//
// Neither graph has dropout. Their logits equal the training graph's (inference form) at every
// position under teacher forcing.
func (m T5) DecodingGraphs(trained *onnxpb.ModelProto) (encoder, decoderStep *onnxpb.ModelProto, err error) {
	if err := m.validate(); err != nil {
		return nil, nil, err
	}
	if trained.GetGraph() == nil {
		return nil, nil, fmt.Errorf("models: T5 decoding graphs: the trained model has no graph")
	}
	w := &t5TrainedWeights{inits: onnx.Initializers(trained), model: trained.GetGraph().GetName()}
	if encoder, err = m.encoderGraph(w); err != nil {
		return nil, nil, err
	}
	if decoderStep, err = m.decoderStepGraph(w); err != nil {
		return nil, nil, err
	}
	return encoder, decoderStep, nil
}

func (m T5) encoderGraph(w t5WeightSource) (*onnxpb.ModelProto, error) {
	t := m.newBuilder("t5_encoder", w, 0)
	g := t.g
	g.b.Input("input_ids", "int64", "batch", "src_len")
	g.b.Input("attention_mask", "int64", "batch", "src_len")
	t.shared()
	src := t.lengths("input_ids")
	enc := t.encoder("input_ids", src, t.maskBias("attention_mask"))
	for i := 0; i < m.NumDecoderLayers; i++ {
		p := fmt.Sprintf("decoder.block.%d.layer.1.EncDecAttention.", i)
		for _, kv := range []struct{ proj, out string }{{"k", "cross_key_%d"}, {"v", "cross_value_%d"}} {
			out := fmt.Sprintf(kv.out, i)
			t.headsTo(t.linear(enc, p+kv.proj, m.inner(), m.DModel), src, false, out)
			g.b.Output(out, "float32", "batch", m.NumHeads, "src_len", m.DKV)
		}
	}
	if err := t.w.failed(); err != nil {
		return nil, err
	}
	return g.model()
}

func (m T5) decoderStepGraph(w t5WeightSource) (*onnxpb.ModelProto, error) {
	t := m.newBuilder("t5_decoder_step", w, 0)
	g := t.g
	g.b.Input("decoder_input_ids", "int64", "batch", 1)
	g.b.Input("attention_mask", "int64", "batch", "src_len")
	for i := 0; i < m.NumDecoderLayers; i++ {
		for _, n := range []string{"cross_key_%d", "cross_value_%d"} {
			g.b.Input(fmt.Sprintf(n, i), "float32", "batch", m.NumHeads, "src_len", m.DKV)
		}
	}
	for i := 0; i < m.NumDecoderLayers; i++ {
		for _, n := range []string{"past_key_%d", "past_value_%d"} {
			g.b.Input(fmt.Sprintf(n, i), "float32", "batch", m.NumHeads, "past_len", m.DKV)
		}
	}
	t.shared()
	step := t.lengths("decoder_input_ids")
	mask := t.maskBias("attention_mask")
	y := t.decoderInput("decoder_input_ids")
	// The keys are the past ones and the new token's: past_len + 1 positions, the query the last.
	klen := g.op("Add", g.op("Gather", g.op("Shape", "past_key_0"), t.scalar(2)), t.scalar(1))
	self := t.selfBias("decoder", step, t5Lengths{batchLen: step.batchLen, size: klen}, false, false)
	for i := 0; i < m.NumDecoderLayers; i++ {
		p := fmt.Sprintf("decoder.block.%d.", i)
		h := t.norm(p+"layer.0.layer_norm", y)
		q := t.heads(t.linear(h, p+"layer.0.SelfAttention.q", m.inner(), m.DModel), step, false)
		k := t.heads(t.linear(h, p+"layer.0.SelfAttention.k", m.inner(), m.DModel), step, false)
		v := t.heads(t.linear(h, p+"layer.0.SelfAttention.v", m.inner(), m.DModel), step, false)
		pk, pv := fmt.Sprintf("present_key_%d", i), fmt.Sprintf("present_value_%d", i)
		g.b.Node("Concat", []string{fmt.Sprintf("past_key_%d", i), k}, []string{pk}, axis(2))
		g.b.Node("Concat", []string{fmt.Sprintf("past_value_%d", i), v}, []string{pv}, axis(2))
		g.b.Output(pk, "float32", "batch", m.NumHeads, "present_len", m.DKV)
		g.b.Output(pv, "float32", "batch", m.NumHeads, "present_len", m.DKV)
		kt := g.op("Transpose", pk, onnx.AttrInts("perm", []int64{0, 1, 3, 2}))
		a := t.attend(q, kt, pv, self, "", "")
		y = t.residual(y, t.linear(a, p+"layer.0.SelfAttention.o", m.DModel, m.inner()))

		h = t.norm(p+"layer.1.layer_norm", y)
		q = t.heads(t.linear(h, p+"layer.1.EncDecAttention.q", m.inner(), m.DModel), step, false)
		kt = g.op("Transpose", fmt.Sprintf("cross_key_%d", i), onnx.AttrInts("perm", []int64{0, 1, 3, 2}))
		a = t.attend(q, kt, fmt.Sprintf("cross_value_%d", i), mask, "", "")
		y = t.residual(y, t.linear(a, p+"layer.1.EncDecAttention.o", m.DModel, m.inner()))

		y = t.feedForward(p+"layer.2.", y)
	}
	t.logits(y, step, "logits")
	g.b.Output("logits", "float32", "batch", 1, m.VocabSize)
	if err := t.w.failed(); err != nil {
		return nil, err
	}
	return g.model()
}

func (m T5) inner() int { return m.NumHeads * m.DKV }

// scalar adds an int64 scalar Constant.
func (t *t5Builder) scalar(v int64) string {
	return t.g.constant(tensor.Tensor{Shape: []int{}, I64: []int64{v}})
}

// t5WeightSource supplies the parameters of a graph under construction: drawn from a seed, or
// read from a trained graph.
type t5WeightSource interface {
	// weight adds the parameter name of the given shape to g (std > 0: N(0, std²) when drawn;
	// std = 0: ones) and returns its name.
	weight(g *graph, name string, std float64, shape ...int) string
	// failed is the first error met (a missing or misshapen initializer).
	failed() error
}

// t5DrawnWeights draws fresh parameters from a seeded RNG, in graph order.
type t5DrawnWeights struct{ rng *RNG }

func (d *t5DrawnWeights) weight(g *graph, name string, std float64, shape ...int) string {
	if std == 0 {
		return g.param(name, Const(1, shape...))
	}
	return g.param(name, d.rng.Normal(std, shape...))
}

func (d *t5DrawnWeights) failed() error { return nil }

// t5TrainedWeights copies the parameters of a trained graph, checking names and shapes.
type t5TrainedWeights struct {
	inits map[string]*onnxpb.TensorProto
	model string
	err   error
}

func (w *t5TrainedWeights) weight(g *graph, name string, _ float64, shape ...int) string {
	if w.err != nil {
		return name
	}
	tp, ok := w.inits[name]
	if !ok {
		w.err = fmt.Errorf("models: T5 decoding graphs: model %q has no initializer %q (not a T5 built by fob with this configuration? it has %d initializers)",
			w.model, name, len(w.inits))
		return name
	}
	if onnxpb.TensorProto_DataType(tp.GetDataType()) != onnxpb.TensorProto_FLOAT || !t5SameShape(tp.GetDims(), shape) {
		w.err = fmt.Errorf("models: T5 decoding graphs: initializer %q of model %q is %s%v, the configuration needs float32%v",
			name, w.model, onnxpb.TensorProto_DataType(tp.GetDataType()), tp.GetDims(), shape)
		return name
	}
	v, err := onnx.TensorOf(tp)
	if err != nil {
		w.err = fmt.Errorf("models: T5 decoding graphs: reading %q of model %q: %w", name, w.model, err)
		return name
	}
	return g.param(name, v)
}

func (w *t5TrainedWeights) failed() error { return w.err }

func t5SameShape(dims []int64, shape []int) bool {
	if len(dims) != len(shape) {
		return false
	}
	for i := range dims {
		if dims[i] != int64(shape[i]) {
			return false
		}
	}
	return true
}

// t5Builder holds what the graph pieces share.
type t5Builder struct {
	m    T5
	g    *graph
	w    t5WeightSource
	drop float64
	// minf is torch.finfo(float32).min, which HF adds at masked positions.
	minf string
}

// t5Lengths are the shape vector [batch, len] of a stack's token ids and its len as a scalar.
type t5Lengths struct {
	batchLen string // int64[2]
	size     string // int64 scalar
}

func (m T5) newBuilder(name string, w t5WeightSource, drop float64) *t5Builder {
	g := newGraph(name)
	t := &t5Builder{m: m, g: g, w: w, drop: drop}
	t.minf = g.constant(tensor.F32s([]float32{-math.MaxFloat32}))
	return t
}

// shared adds the tied embedding (its first use draws it, so it comes first).
func (t *t5Builder) shared() string {
	return t.w.weight(t.g, "shared.weight", 1, t.m.VocabSize, t.m.DModel)
}

func (t *t5Builder) lengths(ids string) t5Lengths {
	g := t.g
	bl := g.op("Shape", ids)
	return t5Lengths{batchLen: bl, size: g.op("Gather", bl, t.scalar(1))}
}

// embed looks tokens up in the shared embedding: [batch·len, d_model].
func (t *t5Builder) embed(ids string) string {
	g := t.g
	flat := g.op("Reshape", ids, g.ints(-1))
	return g.op("Gather", "shared.weight", flat, axis(0))
}

func (t *t5Builder) dropout(x string) string { return t.g.dropout(x, t.drop) }

// linear is a bias-free torch Linear p (weight [out, in]) on rows x [n, in]: one Gemm with the
// weight transposed in place. Its weight is drawn with HF's std for the projection's kind.
func (t *t5Builder) linear(x, p string, out, in int) string {
	w := t.w.weight(t.g, p+".weight", t.std(p), out, in)
	return t.g.op("Gemm", x, w, onnx.AttrInt("transB", 1))
}

// std is HF's _init_weights std for the Linear named p.
func (t *t5Builder) std(p string) float64 {
	m := t.m
	d := float64(m.DModel)
	switch p[len(p)-2:] {
	case ".q":
		return 1 / math.Sqrt(d*float64(m.DKV))
	case ".k", ".v", "wi":
		return 1 / math.Sqrt(d)
	case ".o":
		return 1 / math.Sqrt(float64(m.NumHeads*m.DKV))
	case "wo":
		return 1 / math.Sqrt(float64(m.DFF))
	}
	panic("models: T5 linear with unknown kind: " + p)
}

// norm is T5LayerNorm p: w · x / √(mean(x²) + ε) over the last axis.
func (t *t5Builder) norm(p, x string) string {
	g := t.g
	w := t.w.weight(g, p+".weight", 0, t.m.DModel)
	v := g.op("ReduceMean", g.op("Mul", x, x), onnx.AttrInts("axes", []int64{-1}), onnx.AttrInt("keepdims", 1))
	r := g.op("Sqrt", g.op("Add", v, g.constant(Const(float32(t.m.LayerNormEpsilon)))))
	return g.op("Mul", g.op("Div", x, r), w)
}

// heads splits rows [batch·len, heads·d_kv] into [batch, heads, len, d_kv], or with keyT into
// the transposed keys [batch, heads, d_kv, len] that the scores' MatMul wants.
func (t *t5Builder) heads(x string, l t5Lengths, keyT bool) string {
	out := t.g.b.Tmp("Transpose")
	t.headsTo(x, l, keyT, out)
	return out
}

// headsTo is heads with the output named out.
func (t *t5Builder) headsTo(x string, l t5Lengths, keyT bool, out string) {
	g := t.g
	shape := g.op("Concat", []any{l.batchLen, g.ints(int64(t.m.NumHeads), int64(t.m.DKV))}, axis(0))
	perm := []int64{0, 2, 1, 3}
	if keyT {
		perm = []int64{0, 2, 3, 1}
	}
	g.b.Node("Transpose", []string{g.op("Reshape", x, shape)}, []string{out}, onnx.AttrInts("perm", perm))
}

// attend is T5's attention core: softmax(q·kᵀ + bias) (no scaling), dropout on the
// probabilities, times v, merged back into rows [batch·len, heads·d_kv]. qLen and kLen name the
// symbolic lengths for the declared shape of the probabilities (needed by the dropout masks).
func (t *t5Builder) attend(q, kt, v, bias, qLen, kLen string) string {
	g := t.g
	scores := g.op("Add", g.op("MatMul", q, kt), bias)
	probs := g.op("Softmax", scores, axis(-1))
	if t.drop > 0 {
		g.declare(probs, "batch", t.m.NumHeads, qLen, kLen)
		probs = t.dropout(probs)
	}
	out := g.op("MatMul", probs, v)                                          // [batch, heads, len, d_kv]
	out = g.op("Transpose", out, onnx.AttrInts("perm", []int64{0, 2, 1, 3})) // [batch, len, heads, d_kv]
	return g.op("Reshape", out, g.ints(-1, int64(t.m.inner())))
}

// residual adds a dropped-out branch to the residual stream.
func (t *t5Builder) residual(x, branch string) string {
	return t.g.op("Add", x, t.dropout(branch))
}

// feedForward is T5LayerFF p (layer norm, wi, ReLU, dropout, wo) with its residual.
func (t *t5Builder) feedForward(p, x string) string {
	m := t.m
	h := t.norm(p+"layer_norm", x)
	h = t.g.op("Relu", t.linear(h, p+"DenseReluDense.wi", m.DFF, m.DModel))
	h = t.dropout(h)
	h = t.linear(h, p+"DenseReluDense.wo", m.DModel, m.DFF)
	return t.residual(x, h)
}

// maskBias turns attention_mask [batch, len] into the additive key mask [batch, 1, 1, len]:
// 0 for tokens, torch.finfo(float32).min for padding (HF's (1 − mask)·min).
func (t *t5Builder) maskBias(mask string) string {
	g := t.g
	f := g.op("Cast", mask, onnx.AttrInt("to", int64(onnxpb.TensorProto_FLOAT)))
	inv := g.op("Sub", g.constant(Const(1)), f)
	return g.op("Unsqueeze", g.op("Mul", inv, t.minf), g.ints(1, 2))
}

// selfBias is the self-attention bias of a stack ("encoder" or "decoder"): the relative position
// bias [1, heads, q_len, k_len] of block 0's table, the queries being the last q_len of the k_len
// positions, plus the causal mask (causal) or the padding mask (bidirectional, from
// attention_mask; see encoder).
func (t *t5Builder) selfBias(stack string, q, k t5Lengths, bidirectional, causal bool) string {
	g := t.g
	m := t.m
	d := int64(m.RelativeAttentionMaxDistance)
	w := t.w.weight(g, stack+".block.0.layer.0.SelfAttention.relative_attention_bias.weight", 1/math.Sqrt(float64(m.DModel)),
		m.RelativeAttentionNumBuckets, m.NumHeads)
	// [2D+1, heads]: the bias of every clipped relative position.
	table := g.op("Gather", w, g.constant(m.bucketTable(bidirectional)), axis(0))
	scalar := t.scalar
	kpos := g.op("Range", scalar(0), k.size, scalar(1))
	qpos := g.op("Range", g.op("Sub", k.size, q.size), k.size, scalar(1))
	rel := g.op("Sub", g.op("Unsqueeze", kpos, g.ints(0)), g.op("Unsqueeze", qpos, g.ints(1))) // [q, k]
	idx := g.op("Add", g.op("Clip", rel, scalar(-d), scalar(d)), scalar(d))
	bias := g.op("Gather", table, idx, axis(0))                             // [q, k, heads]
	bias = g.op("Transpose", bias, onnx.AttrInts("perm", []int64{2, 0, 1})) // [heads, q, k]
	bias = g.op("Unsqueeze", bias, g.ints(0))                               // [1, heads, q, k]
	if causal {
		future := g.op("Where", g.op("Greater", rel, scalar(0)), t.minf, g.constant(Const(0)))
		bias = g.op("Add", bias, future)
	}
	return bias
}

// encoder runs the encoder stack on ids and returns the final states [batch·src_len, d_model]
// (final norm and dropout applied). mask is maskBias of attention_mask.
func (t *t5Builder) encoder(ids string, src t5Lengths, mask string) string {
	g := t.g
	m := t.m
	x := t.dropout(t.embed(ids))
	bias := g.op("Add", t.selfBias("encoder", src, src, true, false), mask) // [batch, heads, src, src]
	for i := 0; i < m.NumLayers; i++ {
		p := fmt.Sprintf("encoder.block.%d.", i)
		h := t.norm(p+"layer.0.layer_norm", x)
		q := t.heads(t.linear(h, p+"layer.0.SelfAttention.q", m.inner(), m.DModel), src, false)
		k := t.heads(t.linear(h, p+"layer.0.SelfAttention.k", m.inner(), m.DModel), src, true)
		v := t.heads(t.linear(h, p+"layer.0.SelfAttention.v", m.inner(), m.DModel), src, false)
		a := t.attend(q, k, v, bias, "src_len", "src_len")
		x = t.residual(x, t.linear(a, p+"layer.0.SelfAttention.o", m.DModel, m.inner()))
		x = t.feedForward(p+"layer.1.", x)
	}
	return t.dropout(t.norm("encoder.final_layer_norm", x))
}

// decoderInput embeds the decoder tokens (with the embedding dropout).
func (t *t5Builder) decoderInput(ids string) string { return t.dropout(t.embed(ids)) }

// logits ends the decoder: final norm, dropout, the d_model^-½ rescale of tied embeddings, and
// the LM head as one Gemm against shared.weight (transposed in place), reshaped to
// [batch, len, vocab] under the name out.
func (t *t5Builder) logits(y string, l t5Lengths, out string) {
	g := t.g
	m := t.m
	h := t.dropout(t.norm("decoder.final_layer_norm", y))
	h = g.op("Mul", h, g.constant(Const(float32(math.Pow(float64(m.DModel), -0.5)))))
	z := g.op("Gemm", h, "shared.weight", onnx.AttrInt("transB", 1))
	shape := g.op("Concat", []any{l.batchLen, g.ints(int64(m.VocabSize))}, axis(0))
	g.b.Node("Reshape", []string{z, shape}, []string{out})
}
