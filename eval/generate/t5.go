package generate

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"

	"github.com/fob-go/fob/runtime/ort"
	"github.com/fob-go/fob/runtime/tensor"
)

// T5Options configures the onnxruntime sessions of a T5.
type T5Options struct {
	// Threads is the number of intra-op threads of each session; 0 lets onnxruntime choose.
	Threads int
	// CUDA asks onnxruntime for its CUDA execution provider (falls back to the CPU).
	CUDA bool
}

// T5 generates with an encoder-decoder model exported as two ONNX graphs, run in onnxruntime:
//
//   - the encoder: input_ids int64[batch,src_len], attention_mask int64[batch,src_len] →
//     cross_key_<i>, cross_value_<i> float32[batch,heads,src_len,d_kv] for each decoder
//     layer i (the cross-attention keys and values, computed once per source);
//   - the decoder step: decoder_input_ids int64[batch,1], attention_mask (the encoder's),
//     cross_key_<i>, cross_value_<i>, past_key_<i>, past_value_<i>
//     float32[batch,heads,past_len,d_kv] → logits float32[batch,1,vocab], present_key_<i>,
//     present_value_<i> float32[batch,heads,past_len+1,d_kv]; the first step has past_len 0.
//
// The number of layers is read from the decoder's inputs. For beam search the encoder outputs
// are repeated per beam and the caches follow the beams every step. A T5 may be used by
// several goroutines at once.
type T5 struct {
	enc, dec *ort.Session
	layers   int
	encMask  bool // the encoder takes attention_mask
	decMask  bool // the decoder step takes attention_mask
}

var pastKeyName = regexp.MustCompile(`^past_key_(\d+)$`)

// NewT5 opens the encoder and decoder-step graphs (serialized ONNX models) in onnxruntime and
// checks that their inputs and outputs follow the contract described on T5.
func NewT5(encoderONNX, decoderONNX []byte, opts T5Options) (*T5, error) {
	o := ort.Options{Threads: opts.Threads, CUDA: opts.CUDA}
	enc, err := ort.NewSession(encoderONNX, o)
	if err != nil {
		return nil, fmt.Errorf("generate: T5 encoder: %w", err)
	}
	dec, err := ort.NewSession(decoderONNX, o)
	if err != nil {
		enc.Close()
		return nil, fmt.Errorf("generate: T5 decoder step: %w", err)
	}
	t := &T5{enc: enc, dec: dec}
	if err := t.check(); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// check discovers the layers and verifies every name the generation needs.
func (t *T5) check() error {
	encIn, encOut := set(t.enc.InputNames()), set(t.enc.OutputNames())
	decIn, decOut := set(t.dec.InputNames()), set(t.dec.OutputNames())
	var layers []int
	for name := range decIn {
		if m := pastKeyName.FindStringSubmatch(name); m != nil {
			i, _ := strconv.Atoi(m[1])
			layers = append(layers, i)
		}
	}
	sort.Ints(layers)
	if len(layers) == 0 {
		return fmt.Errorf("generate: T5 decoder step has no past_key_<i> inputs (inputs %q)", t.dec.InputNames())
	}
	for want, i := range layers {
		if i != want {
			return fmt.Errorf("generate: T5 decoder step: past_key_<i> inputs are %v, want 0..%d", layers, len(layers)-1)
		}
	}
	t.layers = len(layers)
	var missing []string
	need := func(have map[string]bool, where string, names ...string) {
		for _, n := range names {
			if !have[n] {
				missing = append(missing, where+" "+n)
			}
		}
	}
	need(encIn, "encoder input", "input_ids")
	need(decIn, "decoder input", "decoder_input_ids")
	need(decOut, "decoder output", "logits")
	for i := range t.layers {
		ck, cv := fmt.Sprintf("cross_key_%d", i), fmt.Sprintf("cross_value_%d", i)
		need(encOut, "encoder output", ck, cv)
		need(decIn, "decoder input", ck, cv, fmt.Sprintf("past_value_%d", i))
		need(decOut, "decoder output", fmt.Sprintf("present_key_%d", i), fmt.Sprintf("present_value_%d", i))
	}
	if len(missing) > 0 {
		return fmt.Errorf("generate: T5 graphs with %d decoder layers lack %q (encoder %q → %q; decoder %q → %q)",
			t.layers, missing, t.enc.InputNames(), t.enc.OutputNames(), t.dec.InputNames(), t.dec.OutputNames())
	}
	t.encMask, t.decMask = encIn["attention_mask"], decIn["attention_mask"]
	if want := 1 + 4*t.layers + b2i(t.decMask); len(decIn) != want {
		return fmt.Errorf("generate: T5 decoder step takes unexpected inputs %q", t.dec.InputNames())
	}
	if want := 1 + b2i(t.encMask); len(encIn) != want {
		return fmt.Errorf("generate: T5 encoder takes unexpected inputs %q", t.enc.InputNames())
	}
	return nil
}

func set(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Layers is the number of decoder layers found in the graphs.
func (t *T5) Layers() int { return t.layers }

// Provider is the execution provider of the sessions: "CPU" or "CUDA".
func (t *T5) Provider() string { return t.dec.Provider() }

// Close releases the sessions. It is safe to call more than once.
func (t *T5) Close() {
	t.enc.Close()
	t.dec.Close()
}

// DefaultBatchSize is the number of sources decoded together when Params.BatchSize is 0.
const DefaultBatchSize = 32

// Generate decodes every source (token ids, as the tokenizer gives them, eos included) with
// Search's rules, p.BatchSize sources at a time in the order given, and returns one output per
// source: the start token, the generated tokens and eos (none when cut at p.MaxLength).
func (t *T5) Generate(ctx context.Context, srcIDs [][]int, p Params) ([][]int, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	for i, s := range srcIDs {
		if len(s) == 0 {
			return nil, fmt.Errorf("generate: source %d is empty (T5 sources end with eos)", i)
		}
	}
	bs := p.BatchSize
	if bs <= 0 {
		bs = DefaultBatchSize
	}
	out := make([][]int, 0, len(srcIDs))
	for lo := 0; lo < len(srcIDs); lo += bs {
		hi := min(lo+bs, len(srcIDs))
		st, err := t.encode(srcIDs[lo:hi], p.tokens().Pad)
		if err != nil {
			return nil, fmt.Errorf("generate: sources %d..%d: %w", lo, hi-1, err)
		}
		res, err := Search(ctx, st, hi-lo, p)
		if err != nil {
			return nil, fmt.Errorf("%w (decoding sources %d..%d)", err, lo, hi-1)
		}
		out = append(out, res...)
	}
	return out, nil
}

// Encode runs the encoder over the sources (padded with pad to the longest) and returns a
// Stepper over the decoder step graph that decodes them, for one Search.
func (t *T5) Encode(srcIDs [][]int, pad int) (Stepper, error) {
	return t.encode(srcIDs, pad)
}

// encode runs the encoder over a batch of sources.
func (t *T5) encode(srcIDs [][]int, pad int) (*t5Stepper, error) {
	n, width := len(srcIDs), 0
	for i, s := range srcIDs {
		if len(s) == 0 {
			return nil, fmt.Errorf("source %d is empty (T5 sources end with eos)", i)
		}
		width = max(width, len(s))
	}
	if n == 0 {
		return nil, fmt.Errorf("no sources to encode")
	}
	ids := make([]int64, n*width)
	mask := make([]int64, n*width)
	for i, s := range srcIDs {
		for j := range width {
			ids[i*width+j] = int64(pad)
			if j < len(s) {
				ids[i*width+j], mask[i*width+j] = int64(s[j]), 1
			}
		}
	}
	in := map[string]tensor.Tensor{"input_ids": tensor.I64s(ids, n, width)}
	maskT := tensor.I64s(mask, n, width)
	if t.encMask {
		in["attention_mask"] = maskT
	}
	res, err := t.enc.Run(in)
	if err != nil {
		return nil, fmt.Errorf("T5 encoder: %w", err)
	}
	st := &t5Stepper{t: t, mask: maskT, cross: make([]tensor.Tensor, 2*t.layers)}
	for i := range t.layers {
		for j, name := range []string{fmt.Sprintf("cross_key_%d", i), fmt.Sprintf("cross_value_%d", i)} {
			c := res[name]
			if len(c.Shape) != 4 || c.Shape[0] != n || c.F32 == nil {
				return nil, fmt.Errorf("T5 encoder output %s is %s%v, want float32[%d,heads,src_len,d_kv]", name, c.DType(), c.Shape, n)
			}
			st.cross[2*i+j] = c
		}
	}
	return st, nil
}

// t5Stepper runs the decoder step graph over live rows and keeps their caches.
type t5Stepper struct {
	t     *T5
	mask  tensor.Tensor   // encoder attention mask, one row per source
	cross []tensor.Tensor // cross_key_i, cross_value_i per layer, one row per source

	rowSrc   []int           // the source of each current row (nil before the first step)
	rowMask  tensor.Tensor   // mask gathered per row
	rowCross []tensor.Tensor // cross tensors gathered per row
	present  []tensor.Tensor // present_key_i, present_value_i of the last step
}

// Step implements Stepper.
func (s *t5Stepper) Step(_ context.Context, origin []int, tokens []int) ([]float32, error) {
	rows := len(tokens)
	first := s.rowSrc == nil
	src := make([]int, rows)
	for i, o := range origin {
		switch {
		case first && (o < 0 || o >= s.mask.Shape[0]):
			return nil, fmt.Errorf("T5 step: row %d decodes source %d of %d", i, o, s.mask.Shape[0])
		case first:
			src[i] = o
		case o < 0 || o >= len(s.rowSrc):
			return nil, fmt.Errorf("T5 step: row %d continues row %d of %d", i, o, len(s.rowSrc))
		default:
			src[i] = s.rowSrc[o]
		}
	}
	// Cross-attention inputs change only when the rows' sources do (beams of one source share
	// them): after the first step, when sources finish.
	if !slices.Equal(src, s.rowSrc) {
		s.rowMask = gatherRows(s.mask, src)
		s.rowCross = make([]tensor.Tensor, len(s.cross))
		for i, c := range s.cross {
			s.rowCross[i] = gatherRows(c, src)
		}
	}
	in := make(map[string]tensor.Tensor, 2+4*s.t.layers)
	ids := make([]int64, rows)
	for i, tok := range tokens {
		ids[i] = int64(tok)
	}
	in["decoder_input_ids"] = tensor.I64s(ids, rows, 1)
	if s.t.decMask {
		in["attention_mask"] = s.rowMask
	}
	for i := range s.t.layers {
		in[fmt.Sprintf("cross_key_%d", i)] = s.rowCross[2*i]
		in[fmt.Sprintf("cross_value_%d", i)] = s.rowCross[2*i+1]
		for j, name := range []string{fmt.Sprintf("past_key_%d", i), fmt.Sprintf("past_value_%d", i)} {
			if first {
				c := s.rowCross[2*i+j] // [rows, heads, src_len, d_kv]
				in[name] = tensor.F32s([]float32{}, rows, c.Shape[1], 0, c.Shape[3])
			} else {
				in[name] = gatherRows(s.present[2*i+j], origin)
			}
		}
	}
	res, err := s.t.dec.Run(in)
	if err != nil {
		return nil, fmt.Errorf("T5 decoder step: %w", err)
	}
	logits := res["logits"]
	if len(logits.Shape) != 3 || logits.Shape[0] != rows || logits.Shape[1] != 1 || logits.F32 == nil {
		return nil, fmt.Errorf("T5 decoder step: logits are %s%v, want float32[%d,1,vocab]", logits.DType(), logits.Shape, rows)
	}
	if s.present == nil {
		s.present = make([]tensor.Tensor, 2*s.t.layers)
	}
	for i := range s.t.layers {
		s.present[2*i] = res[fmt.Sprintf("present_key_%d", i)]
		s.present[2*i+1] = res[fmt.Sprintf("present_value_%d", i)]
	}
	s.rowSrc = src
	return logits.F32, nil
}

// gatherRows returns the rows idx of t along the first axis; t itself when idx is 0..n-1.
func gatherRows(t tensor.Tensor, idx []int) tensor.Tensor {
	if len(idx) == t.Shape[0] {
		identity := true
		for i, r := range idx {
			if r != i {
				identity = false
				break
			}
		}
		if identity {
			return t
		}
	}
	return t.Gather(idx)
}
