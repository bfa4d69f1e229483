package generate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/runtime/ort"
	"github.com/fob-go/fob/runtime/tensor"
)

// fullStepper is the reference for the cached decoder: every step it re-runs a teacher-forcing
// graph (input_ids, attention_mask, decoder_input_ids → logits [batch, tgt_len, vocab]) on the
// whole prefix of every row and takes the logits of the last position.
type fullStepper struct {
	sess    *ort.Session
	ids     tensor.Tensor // sources padded to the longest, one row per source
	mask    tensor.Tensor
	extra   map[string]func(rows, length int) tensor.Tensor // other inputs the graph takes
	rows    []toyRow                                        // prefix includes the start token
	started bool
}

func newFullStepper(sess *ort.Session, src [][]int, pad int) *fullStepper {
	n, width := len(src), 0
	for _, s := range src {
		width = max(width, len(s))
	}
	ids, mask := make([]int64, n*width), make([]int64, n*width)
	for i, s := range src {
		for j := range width {
			ids[i*width+j] = int64(pad)
			if j < len(s) {
				ids[i*width+j], mask[i*width+j] = int64(s[j]), 1
			}
		}
	}
	return &fullStepper{sess: sess, ids: tensor.I64s(ids, n, width), mask: tensor.I64s(mask, n, width)}
}

func (f *fullStepper) Step(_ context.Context, origin []int, tokens []int) ([]float32, error) {
	rows := make([]toyRow, len(tokens))
	src := make([]int, len(tokens))
	for i, o := range origin {
		if !f.started {
			rows[i] = toyRow{src: o, prefix: []int{tokens[i]}}
		} else {
			p := f.rows[o]
			rows[i] = toyRow{src: p.src, prefix: append(append([]int(nil), p.prefix...), tokens[i])}
		}
		src[i] = rows[i].src
	}
	f.started, f.rows = true, rows
	length := len(rows[0].prefix)
	dec := make([]int64, 0, len(rows)*length)
	for _, r := range rows {
		for _, t := range r.prefix {
			dec = append(dec, int64(t))
		}
	}
	in := map[string]tensor.Tensor{
		"input_ids":         f.ids.Gather(src),
		"attention_mask":    f.mask.Gather(src),
		"decoder_input_ids": tensor.I64s(dec, len(rows), length),
	}
	for name, mk := range f.extra {
		in[name] = mk(len(rows), length)
	}
	out, err := f.sess.Run(in)
	if err != nil {
		return nil, err
	}
	l := out["logits"]
	t, v := l.Shape[1], l.Shape[2]
	logits := make([]float32, 0, len(rows)*v)
	for r := range rows {
		logits = append(logits, l.F32[(r*t+t-1)*v:(r*t+t)*v]...)
	}
	return logits, nil
}

// fakeT5 builds a small encoder-decoder with T5's graph contract (layers, heads, cache
// growth, cross-attention inputs, masking) but simple arithmetic, and its teacher-forcing
// twin: each layer's decoder state is Σ_t 0.5^(L-1-t) x_t (keys, order-sensitive) and
// max_t -x_t (values) over the embedded decoder tokens, plus the masked sums of the cross
// keys and values; the logits are tanh(state)·W.
type fakeT5 struct {
	vocab, layers, heads, dkv int
	seed                      uint64
	eosBias                   float32 // added to the eos logit
}

func (f fakeT5) weights(b *onnx.Builder) {
	r := rand.New(rand.NewPCG(f.seed, 7))
	w := func(name string, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		b.Initializer(name, tensor.F32s(x, shape...))
	}
	hd := f.heads * f.dkv
	for i := range f.layers {
		w(fmt.Sprintf("Ek%d", i), f.vocab, hd)
		w(fmt.Sprintf("Ev%d", i), f.vocab, hd)
		w(fmt.Sprintf("Ed%d", i), f.vocab, hd)
	}
	w("W", hd, f.vocab)
	b.Initializer("half", tensor.F32s([]float32{0.5}))
	b.Initializer("axis2", tensor.I64s([]int64{2}, 1))
	b.Initializer("axis1", tensor.I64s([]int64{1}, 1))
	b.Initializer("axis3", tensor.I64s([]int64{3}, 1))
	b.Initializer("split_heads", tensor.I64s([]int64{0, 0, int64(f.heads), int64(f.dkv)}, 4))
	b.Initializer("join_heads", tensor.I64s([]int64{0, int64(hd)}, 2))
	b.Initializer("three", tensor.F32s([]float32{3}))
	bias := make([]float32, f.vocab)
	bias[tEOS] = f.eosBias
	b.Initializer("bias", tensor.F32s(bias, f.vocab))
}

// embed gathers table rows for ids [b, n] and returns them as [b, heads, n, dkv].
func (f fakeT5) embed(b *onnx.Builder, table, ids string) string {
	g, r, t := b.Tmp("g"), b.Tmp("r"), b.Tmp("t")
	b.Node("Gather", []string{table, ids}, []string{g})
	b.Node("Reshape", []string{g, "split_heads"}, []string{r})
	b.Node("Transpose", []string{r}, []string{t}, onnx.AttrInts("perm", []int64{0, 2, 1, 3}))
	return t
}

// encoder adds cross_key_i/cross_value_i (under the given names) computed from input_ids and
// attention_mask; it returns the float mask [b,1,S,1].
func (f fakeT5) encoder(b *onnx.Builder, names func(kind string, i int) string) string {
	mf, m1, m := b.Tmp("mf"), b.Tmp("m1"), b.Tmp("m")
	b.Node("Cast", []string{"attention_mask"}, []string{mf}, onnx.AttrInt("to", 1))
	b.Node("Unsqueeze", []string{mf, "axis1"}, []string{m1})
	b.Node("Unsqueeze", []string{m1, "axis3"}, []string{m})
	for i := range f.layers {
		for _, kind := range []string{"key", "value"} {
			e := f.embed(b, fmt.Sprintf("E%c%d", kind[0], i), "input_ids")
			b.Node("Mul", []string{e, m}, []string{names(kind, i)})
		}
	}
	return m
}

// head turns the per-layer states [b, heads, dkv] into logits [b, 1, vocab].
func (f fakeT5) head(b *onnx.Builder, states []string) {
	sum := states[0]
	for _, s := range states[1:] {
		n := b.Tmp("sum")
		b.Node("Add", []string{sum, s}, []string{n})
		sum = n
	}
	j, th, mm, sc, bi := b.Tmp("j"), b.Tmp("th"), b.Tmp("mm"), b.Tmp("sc"), b.Tmp("bi")
	b.Node("Reshape", []string{sum, "join_heads"}, []string{j})
	b.Node("Tanh", []string{j}, []string{th})
	b.Node("MatMul", []string{th, "W"}, []string{mm})
	b.Node("Mul", []string{mm, "three"}, []string{sc})
	b.Node("Add", []string{sc, "bias"}, []string{bi})
	b.Node("Unsqueeze", []string{bi, "axis1"}, []string{"logits"})
}

// state combines a layer's key and value summaries with the masked cross sums.
func (f fakeT5) state(b *onnx.Builder, hk, hv, ck, cv, m string) string {
	out := b.Tmp("state")
	var parts []string
	for _, c := range []string{ck, cv} {
		p, s := b.Tmp("p"), b.Tmp("s")
		b.Node("Mul", []string{c, m}, []string{p})
		b.Node("ReduceSum", []string{p, "axis2"}, []string{s}, onnx.AttrInt("keepdims", 0))
		parts = append(parts, s)
	}
	a, c := b.Tmp("a"), b.Tmp("c")
	b.Node("Add", []string{hk, hv}, []string{a})
	b.Node("Add", []string{parts[0], parts[1]}, []string{c})
	b.Node("Add", []string{a, c}, []string{out})
	return out
}

func (f fakeT5) marshal(t *testing.T, b *onnx.Builder) []byte {
	t.Helper()
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

func (f fakeT5) encoderGraph(t *testing.T) []byte {
	b := onnx.NewBuilder("fake_encoder")
	b.Input("input_ids", "int64", "batch", "src_len")
	b.Input("attention_mask", "int64", "batch", "src_len")
	f.weights(b)
	f.encoder(b, func(kind string, i int) string { return fmt.Sprintf("cross_%s_%d", kind, i) })
	for i := range f.layers {
		for _, kind := range []string{"key", "value"} {
			b.Output(fmt.Sprintf("cross_%s_%d", kind, i), "float32", "batch", f.heads, "src_len", f.dkv)
		}
	}
	return f.marshal(t, b)
}

func (f fakeT5) decoderGraph(t *testing.T) []byte {
	b := onnx.NewBuilder("fake_decoder_step")
	b.Input("decoder_input_ids", "int64", "batch", 1)
	b.Input("attention_mask", "int64", "batch", "src_len")
	for i := range f.layers {
		for _, n := range []string{"cross_key_%d", "cross_value_%d"} {
			b.Input(fmt.Sprintf(n, i), "float32", "batch", f.heads, "src_len", f.dkv)
		}
		for _, n := range []string{"past_key_%d", "past_value_%d"} {
			b.Input(fmt.Sprintf(n, i), "float32", "batch", f.heads, "past_len", f.dkv)
		}
	}
	f.weights(b)
	mf, m1, m := b.Tmp("mf"), b.Tmp("m1"), b.Tmp("m")
	b.Node("Cast", []string{"attention_mask"}, []string{mf}, onnx.AttrInt("to", 1))
	b.Node("Unsqueeze", []string{mf, "axis1"}, []string{m1})
	b.Node("Unsqueeze", []string{m1, "axis3"}, []string{m})
	var states []string
	for i := range f.layers {
		x := f.embed(b, fmt.Sprintf("Ed%d", i), "decoder_input_ids")
		pk, nx := b.Tmp("pk"), b.Tmp("nx")
		b.Node("Mul", []string{fmt.Sprintf("past_key_%d", i), "half"}, []string{pk})
		b.Node("Concat", []string{pk, x}, []string{fmt.Sprintf("present_key_%d", i)}, onnx.AttrInt("axis", 2))
		b.Node("Neg", []string{x}, []string{nx})
		b.Node("Concat", []string{fmt.Sprintf("past_value_%d", i), nx}, []string{fmt.Sprintf("present_value_%d", i)}, onnx.AttrInt("axis", 2))
		hk, hv := b.Tmp("hk"), b.Tmp("hv")
		b.Node("ReduceSum", []string{fmt.Sprintf("present_key_%d", i), "axis2"}, []string{hk}, onnx.AttrInt("keepdims", 0))
		b.Node("ReduceMax", []string{fmt.Sprintf("present_value_%d", i)}, []string{hv}, onnx.AttrInts("axes", []int64{2}), onnx.AttrInt("keepdims", 0))
		states = append(states, f.state(b, hk, hv, fmt.Sprintf("cross_key_%d", i), fmt.Sprintf("cross_value_%d", i), m))
	}
	f.head(b, states)
	b.Output("logits", "float32", "batch", 1, f.vocab)
	for i := range f.layers {
		for _, n := range []string{"present_key_%d", "present_value_%d"} {
			b.Output(fmt.Sprintf(n, i), "float32", "batch", f.heads, "len", f.dkv)
		}
	}
	return f.marshal(t, b)
}

func (f fakeT5) fullGraph(t *testing.T) []byte {
	b := onnx.NewBuilder("fake_full")
	b.Input("input_ids", "int64", "batch", "src_len")
	b.Input("attention_mask", "int64", "batch", "src_len")
	b.Input("decoder_input_ids", "int64", "batch", "tgt_len")
	f.weights(b)
	m := f.encoder(b, func(kind string, i int) string { return fmt.Sprintf("c_%s_%d", kind, i) })
	// w[t] = 0.5^(L-1-t), shaped [1,1,L,1]
	for _, c := range []struct {
		name string
		v    int64
	}{{"zero", 0}, {"one", 1}} {
		b.Initializer(c.name, tensor.I64s([]int64{c.v}))
	}
	b.Initializer("wshape", tensor.I64s([]int64{1, 1, -1, 1}, 4))
	b.Node("Shape", []string{"decoder_input_ids"}, []string{"dshape"})
	b.Node("Gather", []string{"dshape", "one"}, []string{"L"}, onnx.AttrInt("axis", 0))
	b.Node("Range", []string{"zero", "L", "one"}, []string{"t"})
	b.Node("Sub", []string{"L", "one"}, []string{"Lm1"})
	b.Node("Sub", []string{"Lm1", "t"}, []string{"e"})
	b.Node("Cast", []string{"e"}, []string{"ef"}, onnx.AttrInt("to", 1))
	b.Node("Pow", []string{"half", "ef"}, []string{"w"})
	b.Node("Reshape", []string{"w", "wshape"}, []string{"w4"})
	var states []string
	for i := range f.layers {
		x := f.embed(b, fmt.Sprintf("Ed%d", i), "decoder_input_ids")
		xw, hk, nx, hv := b.Tmp("xw"), b.Tmp("hk"), b.Tmp("nx"), b.Tmp("hv")
		b.Node("Mul", []string{x, "w4"}, []string{xw})
		b.Node("ReduceSum", []string{xw, "axis2"}, []string{hk}, onnx.AttrInt("keepdims", 0))
		b.Node("Neg", []string{x}, []string{nx})
		b.Node("ReduceMax", []string{nx}, []string{hv}, onnx.AttrInts("axes", []int64{2}), onnx.AttrInt("keepdims", 0))
		states = append(states, f.state(b, hk, hv, fmt.Sprintf("c_key_%d", i), fmt.Sprintf("c_value_%d", i), m))
	}
	f.head(b, states)
	b.Output("logits", "float32", "batch", 1, f.vocab)
	return f.marshal(t, b)
}

// randomSources draws n sources of lengths 1..maxLen ending with eos.
func randomSources(n, vocab, maxLen int, seed uint64) [][]int {
	r := rand.New(rand.NewPCG(seed, 3))
	out := make([][]int, n)
	for i := range out {
		l := 1 + r.IntN(maxLen)
		out[i] = make([]int, l)
		for j := range l - 1 {
			out[i][j] = 2 + r.IntN(vocab-2)
		}
		out[i][l-1] = tEOS
	}
	return out
}

// searchBatched runs Search over the full-graph stepper bs sources at a time.
func searchBatched(t *testing.T, sess *ort.Session, src [][]int, p Params, bs int) [][]int {
	t.Helper()
	var out [][]int
	for lo := 0; lo < len(src); lo += bs {
		hi := min(lo+bs, len(src))
		res, err := Search(context.Background(), newFullStepper(sess, src[lo:hi], 0), hi-lo, p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res...)
	}
	return out
}

// TestT5CacheMatchesFullGraph: decoding through the encoder and the cached decoder step equals
// decoding by re-running the teacher-forcing graph on every prefix, for greedy and beam
// search, at batch sizes 1 and several.
func TestT5CacheMatchesFullGraph(t *testing.T) {
	// Seed 4 with this eos bias ends some outputs after 1 to 11 tokens, others run to the end.
	f := fakeT5{vocab: 9, layers: 2, heads: 2, dkv: 3, seed: 4, eosBias: 2}
	gen, err := NewT5(f.encoderGraph(t), f.decoderGraph(t), T5Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close()
	if gen.Layers() != 2 {
		t.Fatalf("%d layers", gen.Layers())
	}
	full, err := ort.NewSession(f.fullGraph(t), ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	src := randomSources(11, f.vocab, 7, 1)
	for _, p := range []Params{
		{NumBeams: 1, LengthPenalty: 1, MaxLength: 20},
		{NumBeams: 4, LengthPenalty: 0.6, MaxLength: 20},
		{NumBeams: 3, LengthPenalty: 2, MaxLength: 8},
	} {
		want := searchBatched(t, full, src, p, len(src))
		if one := searchBatched(t, full, src, p, 1); !reflect.DeepEqual(one, want) {
			t.Fatalf("%+v: full graph, batch 1 %v, batch %d %v", p, one, len(src), want)
		}
		ended := 0
		for _, o := range want {
			if o[len(o)-1] == tEOS {
				ended++
			}
		}
		if ended == 0 || ended == len(want) {
			t.Fatalf("%+v: %d of %d outputs end with eos: the test wants both kinds", p, ended, len(want))
		}
		for _, bs := range []int{1, 4, len(src)} {
			p.BatchSize = bs
			got, err := gen.Generate(context.Background(), src, p)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%+v: cached %v, full graph %v", p, got, want)
			}
		}
		t.Logf("beams %d: %d of %d outputs end with eos, e.g. %v", p.NumBeams, ended, len(src), want[0])
	}
}

func TestT5Errors(t *testing.T) {
	f := fakeT5{vocab: 9, layers: 2, heads: 2, dkv: 3, seed: 1}
	enc, dec := f.encoderGraph(t), f.decoderGraph(t)
	one := fakeT5{vocab: 9, layers: 1, heads: 2, dkv: 3, seed: 1}
	if _, err := NewT5(one.encoderGraph(t), dec, T5Options{}); err == nil || !strings.Contains(err.Error(), `lack ["encoder output cross_key_1" "encoder output cross_value_1"]`) {
		t.Fatalf("encoder with fewer layers: %v", err)
	}
	if _, err := NewT5(enc, one.fullGraph(t), T5Options{}); err == nil || !strings.Contains(err.Error(), "no past_key_<i> inputs") {
		t.Fatalf("not a decoder step: %v", err)
	}
	if _, err := NewT5(enc, []byte("junk"), T5Options{}); err == nil || !strings.Contains(err.Error(), "T5 decoder step") {
		t.Fatalf("junk decoder: %v", err)
	}
	gen, err := NewT5(enc, dec, T5Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close()
	if _, err := gen.Generate(context.Background(), [][]int{{2, 1}, {}}, Params{MaxLength: 5}); err == nil || !strings.Contains(err.Error(), "source 1 is empty") {
		t.Fatalf("empty source: %v", err)
	}
	if _, err := gen.Generate(context.Background(), [][]int{{2, 1}, {99, 1}}, Params{MaxLength: 5}); err == nil || !strings.Contains(err.Error(), "sources 0..1: T5 encoder") {
		t.Fatalf("token outside the vocabulary: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := gen.Generate(ctx, [][]int{{2, 1}}, Params{NumBeams: 2, MaxLength: 5}); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("cancelled: %v", err)
	}
	if out, err := gen.Generate(context.Background(), nil, Params{MaxLength: 5}); err != nil || len(out) != 0 {
		t.Fatalf("no sources: %v %v", out, err)
	}
	gen.Close()
	gen.Close()
}
