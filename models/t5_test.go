package models_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/ort"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train/config"
	_ "github.com/fob-go/fob/train/optim/all"
	"github.com/fob-go/fob/train/traintest"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"google.golang.org/protobuf/proto"
)

// tinyT5 is a small T5 for the numerical tests: a few heads and layers, and relative buckets
// that saturate (max distance 12) well within the test lengths, so the clipped bucket table is
// exercised on both sides.
func tinyT5() models.T5 {
	return models.T5{VocabSize: 41, DModel: 24, DKV: 6, DFF: 40, NumHeads: 3, NumLayers: 2, NumDecoderLayers: 2,
		RelativeAttentionNumBuckets: 8, RelativeAttentionMaxDistance: 12, DropoutRate: 0.1, LayerNormEpsilon: 1e-6}
}

// t5Batch is a batch of random token ids whose sources are padded at the end to the lengths
// given (one per row; 0 padding when equal to srcLen).
type t5Batch struct {
	ids, mask, dec tensor.Tensor
}

func newT5Batch(seed uint64, vocab, srcLen, tgtLen int, lens []int) t5Batch {
	r := rand.New(rand.NewPCG(seed, 5))
	b := len(lens)
	ids, mask := make([]int64, b*srcLen), make([]int64, b*srcLen)
	dec := make([]int64, b*tgtLen)
	for i, n := range lens {
		for j := 0; j < srcLen; j++ {
			if j < n {
				ids[i*srcLen+j] = 2 + r.Int64N(int64(vocab-2))
				mask[i*srcLen+j] = 1
			}
		}
		dec[i*tgtLen] = 0 // the decoder start token
		for j := 1; j < tgtLen; j++ {
			dec[i*tgtLen+j] = 1 + r.Int64N(int64(vocab-1))
		}
	}
	return t5Batch{tensor.I64s(ids, b, srcLen), tensor.I64s(mask, b, srcLen), tensor.I64s(dec, b, tgtLen)}
}

func (b t5Batch) inputs() map[string]tensor.Tensor {
	return map[string]tensor.Tensor{"input_ids": b.ids, "attention_mask": b.mask, "decoder_input_ids": b.dec}
}

// ortSession opens m in onnxruntime (the test is skipped when the library is missing).
func ortSession(t testing.TB, m *onnxpb.ModelProto) *ort.Session {
	t.Helper()
	if err := ort.Init(); err != nil {
		t.Skipf("onnxruntime unavailable: %v", err)
	}
	raw, err := onnx.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ort.NewSession(raw, ort.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestT5ParamCount checks the parameter count against HF's: t5-small has 60,506,624; for small
// configurations the count is that of HF's state_dict (t5StateDict) and NumParams' formula.
// Every float initializer is a parameter named and shaped as in HF's state_dict; there are no
// other initializers (constants are Constant nodes).
func TestT5ParamCount(t *testing.T) {
	small := tinyT5()
	wide := tinyT5()
	wide.NumLayers, wide.NumDecoderLayers, wide.NumHeads, wide.DKV, wide.DFF = 3, 1, 2, 7, 33
	stateDictSize := func(m models.T5) int {
		n := 0
		for _, shape := range t5StateDict(m) {
			k := 1
			for _, d := range shape {
				k *= int(d)
			}
			n += k
		}
		return n
	}
	cases := []struct {
		name string
		m    models.T5
		want int
	}{
		{"t5-small", models.T5Small(), 60506624},
		{"tiny", small, stateDictSize(small)},
		{"uneven", wide, stateDictSize(wide)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.m.NumParams(); got != c.want {
				t.Errorf("NumParams() = %d, want %d", got, c.want)
			}
			p, err := c.m.Build("t5", 1)
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			names := map[string]bool{}
			for _, init := range p.Graph.Initializer {
				if init.GetDataType() != int32(onnxpb.TensorProto_FLOAT) {
					t.Errorf("initializer %q is not float32: constants must be Constant nodes", init.GetName())
					continue
				}
				n := 1
				for _, d := range init.GetDims() {
					n *= int(d)
				}
				total += n
				names[init.GetName()] = true
			}
			if total != c.want {
				t.Errorf("float initializers hold %d values, want %d", total, c.want)
			}
			want := t5StateDict(c.m)
			for name := range want {
				if !names[name] {
					t.Errorf("missing parameter %q", name)
				}
			}
			for name := range names {
				if _, ok := want[name]; !ok {
					t.Errorf("unexpected initializer %q", name)
				}
			}
			for _, init := range p.Graph.Initializer {
				if s, ok := want[init.GetName()]; ok && fmt.Sprint(init.GetDims()) != fmt.Sprint(s) {
					t.Errorf("%s has shape %v, HF's %v", init.GetName(), init.GetDims(), s)
				}
			}
		})
	}
}

// t5StateDict lists HF T5ForConditionalGeneration's state_dict for m (tied embeddings counted
// once, as shared.weight) with shapes.
func t5StateDict(m models.T5) map[string][]int64 {
	d, in, ff := int64(m.DModel), int64(m.NumHeads*m.DKV), int64(m.DFF)
	out := map[string][]int64{"shared.weight": {int64(m.VocabSize), d},
		"encoder.final_layer_norm.weight": {d}, "decoder.final_layer_norm.weight": {d}}
	attn := func(p string) {
		out[p+".q.weight"], out[p+".k.weight"], out[p+".v.weight"], out[p+".o.weight"] = []int64{in, d}, []int64{in, d}, []int64{in, d}, []int64{d, in}
	}
	for _, s := range []struct {
		stack  string
		layers int
	}{{"encoder", m.NumLayers}, {"decoder", m.NumDecoderLayers}} {
		out[s.stack+".block.0.layer.0.SelfAttention.relative_attention_bias.weight"] = []int64{int64(m.RelativeAttentionNumBuckets), int64(m.NumHeads)}
		for i := 0; i < s.layers; i++ {
			p := fmt.Sprintf("%s.block.%d.layer.", s.stack, i)
			attn(p + "0.SelfAttention")
			out[p+"0.layer_norm.weight"] = []int64{d}
			ffl := p + "1."
			if s.stack == "decoder" {
				attn(p + "1.EncDecAttention")
				out[p+"1.layer_norm.weight"] = []int64{d}
				ffl = p + "2."
			}
			out[ffl+"layer_norm.weight"] = []int64{d}
			out[ffl+"DenseReluDense.wi.weight"] = []int64{ff, d}
			out[ffl+"DenseReluDense.wo.weight"] = []int64{d, ff}
		}
	}
	return out
}

// t5Cases are the configurations and shapes of the numerical tests: the tiny T5 with lengths
// past its bucket saturation, and t5-small's bucket settings (32 buckets, max distance 128) at
// lengths past 512.
var t5Cases = []struct {
	name           string
	m              func() models.T5
	srcLen, tgtLen int
	lens           []int // source lengths before padding
}{
	{"tiny", tinyT5, 19, 16, []int{19, 11, 4}},
	{"long", func() models.T5 {
		m := tinyT5()
		m.RelativeAttentionNumBuckets, m.RelativeAttentionMaxDistance = 32, 128
		return m
	}, 530, 140, []int{530, 300}},
}

// TestT5GoMLXMatchesORT runs the training graph (inference form) in GoMLX, as training imports
// it, and in onnxruntime, on sources with padding.
func TestT5GoMLXMatchesORT(t *testing.T) {
	for i, c := range t5Cases {
		t.Run(c.name, func(t *testing.T) {
			m := c.m()
			p, err := m.Build("t5", 3)
			if err != nil {
				t.Fatal(err)
			}
			perturbT5(t, p, uint64(i))
			b := newT5Batch(1, m.VocabSize, c.srcLen, c.tgtLen, c.lens)
			ortOut := runORT(t, p, b.inputs(), "logits")
			if want := []int{len(c.lens), c.tgtLen, m.VocabSize}; fmt.Sprint(ortOut.Shape) != fmt.Sprint(want) {
				t.Fatalf("logits shape %v, want %v", ortOut.Shape, want)
			}
			goOut := runGoMLX(t, p, b.inputs(), "logits")
			d := maxAbsDiff(t, "GoMLX vs onnxruntime", goOut.F32, ortOut.F32)
			t.Logf("max |GoMLX - onnxruntime| = %.3g (logits up to %.3g)", d, maxAbs(ortOut.F32))
			if d > 1e-4 {
				t.Errorf("GoMLX differs from onnxruntime by %g (want <= 1e-4)", d)
			}
		})
	}
}

func maxAbs(v []float32) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(float64(x)))
	}
	return m
}

// perturbT5 multiplies every parameter of p by 1 + N(0, 0.2²) (so that layer norms are no
// longer ones), as training would change them.
func perturbT5(t testing.TB, p *onnxpb.ModelProto, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 9))
	values := map[string]tensor.Tensor{}
	for name, tp := range onnx.Initializers(p) {
		v, err := onnx.TensorOf(tp)
		if err != nil {
			t.Fatal(err)
		}
		for i := range v.F32 {
			v.F32[i] *= float32(1 + 0.2*r.NormFloat64())
		}
		values[name] = v
	}
	if err := onnx.WriteBack(p, values); err != nil {
		t.Fatal(err)
	}
}

// decodeStepwise runs the encoder once and the decoder step graph token by token over the
// decoder inputs of b (teacher forcing) in onnxruntime, the KV cache starting empty (past_len
// 0), and returns the logits [batch, tgt_len, vocab] gathered from the steps.
func decodeStepwise(t *testing.T, m models.T5, enc, dec *onnxpb.ModelProto, b t5Batch) tensor.Tensor {
	t.Helper()
	es, ds := ortSession(t, enc), ortSession(t, dec)
	cross, err := es.Run(map[string]tensor.Tensor{"input_ids": b.ids, "attention_mask": b.mask})
	if err != nil {
		t.Fatal(err)
	}
	batch, tgt := b.dec.Shape[0], b.dec.Shape[1]
	in := map[string]tensor.Tensor{"attention_mask": b.mask}
	for name, v := range cross {
		in[name] = v
	}
	for i := 0; i < m.NumDecoderLayers; i++ {
		empty := tensor.F32s([]float32{}, batch, m.NumHeads, 0, m.DKV)
		in[fmt.Sprintf("past_key_%d", i)], in[fmt.Sprintf("past_value_%d", i)] = empty, empty
	}
	out := tensor.F32s(make([]float32, batch*tgt*m.VocabSize), batch, tgt, m.VocabSize)
	for s := 0; s < tgt; s++ {
		ids := make([]int64, batch)
		for r := range ids {
			ids[r] = b.dec.I64[r*tgt+s]
		}
		in["decoder_input_ids"] = tensor.I64s(ids, batch, 1)
		res, err := ds.Run(in)
		if err != nil {
			t.Fatalf("step %d: %v", s, err)
		}
		lg := res["logits"]
		if want := fmt.Sprint([]int{batch, 1, m.VocabSize}); fmt.Sprint(lg.Shape) != want {
			t.Fatalf("step %d: logits shape %v, want %s", s, lg.Shape, want)
		}
		for r := 0; r < batch; r++ {
			copy(out.F32[(r*tgt+s)*m.VocabSize:(r*tgt+s+1)*m.VocabSize], lg.F32[r*m.VocabSize:(r+1)*m.VocabSize])
		}
		for i := 0; i < m.NumDecoderLayers; i++ {
			for _, kv := range []string{"key", "value"} {
				present := res[fmt.Sprintf("present_%s_%d", kv, i)]
				if want := fmt.Sprint([]int{batch, m.NumHeads, s + 1, m.DKV}); fmt.Sprint(present.Shape) != want {
					t.Fatalf("step %d: present_%s_%d shape %v, want %s", s, kv, i, present.Shape, want)
				}
				in[fmt.Sprintf("past_%s_%d", kv, i)] = present
			}
		}
	}
	return out
}

// TestT5DecodingGraphsMatchTeacherForcing checks that the encoder and KV-cached decoder-step
// graphs built from a (perturbed, as if trained) training graph reproduce its logits at every
// position, on padded sources, the cache starting empty.
func TestT5DecodingGraphsMatchTeacherForcing(t *testing.T) {
	for i, c := range t5Cases {
		t.Run(c.name, func(t *testing.T) {
			m := c.m()
			p, err := m.Build("t5", 5)
			if err != nil {
				t.Fatal(err)
			}
			perturbT5(t, p, uint64(10+i))
			enc, dec, err := m.DecodingGraphs(p)
			if err != nil {
				t.Fatal(err)
			}
			b := newT5Batch(2, m.VocabSize, c.srcLen, c.tgtLen, c.lens)
			full := runORT(t, p, b.inputs(), "logits")
			steps := decodeStepwise(t, m, enc, dec, b)
			d := maxAbsDiff(t, "step-by-step vs teacher forcing", steps.F32, full.F32)
			t.Logf("max |decoder steps - training graph| = %.3g over %d positions (logits up to %.3g)", d, c.tgtLen, maxAbs(full.F32))
			if d > 1e-4 {
				t.Errorf("the decoder-step graph differs from the training graph by %g (want <= 1e-4)", d)
			}
		})
	}
}

// TestT5DecodingGraphsErrors: a model that is not this configuration's T5 is refused with the
// name of what is missing or misshapen.
func TestT5DecodingGraphsErrors(t *testing.T) {
	m := tinyT5()
	p, err := m.Build("t5", 1)
	if err != nil {
		t.Fatal(err)
	}
	missing := proto.Clone(p).(*onnxpb.ModelProto)
	var kept []*onnxpb.TensorProto
	for _, init := range missing.Graph.Initializer {
		if init.GetName() != "decoder.block.1.layer.1.EncDecAttention.v.weight" {
			kept = append(kept, init)
		}
	}
	missing.Graph.Initializer = kept
	wider := m
	wider.DFF++
	cases := []struct {
		name  string
		m     models.T5
		model *onnxpb.ModelProto
		want  string
	}{
		{"missing initializer", m, missing, `no initializer "decoder.block.1.layer.1.EncDecAttention.v.weight"`},
		{"other configuration", wider, p, `"encoder.block.0.layer.1.DenseReluDense.wi.weight"`},
		{"no graph", m, &onnxpb.ModelProto{}, "has no graph"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := c.m.DecodingGraphs(c.model)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %s", err, c.want)
			}
		})
	}
}

// torchPython is the interpreter of the PyTorch reference (Debian's, with python3-torch).
const torchPython = "/usr/bin/python3"

// TestT5MatchesTorch compares the training graph (onnxruntime, and GoMLX as training imports it)
// with an independent PyTorch implementation of HF's T5 forward pass (testdata/t5_torch_ref.py)
// on the same weights and padded inputs, and the relative position buckets with torch's, over
// T5-small's and the test configuration's bucket settings and relative positions up to ±600.
func TestT5MatchesTorch(t *testing.T) {
	if out, err := exec.Command(torchPython, "-c", "import torch, numpy").CombinedOutput(); err != nil {
		t.Fatalf("the PyTorch reference needs %s with torch and numpy: install the Debian packages python3-torch and python3-numpy (apt-get install python3-torch): %v\n%s",
			torchPython, err, out)
	}
	m := tinyT5()
	p, err := m.Build("t5", 11)
	if err != nil {
		t.Fatal(err)
	}
	perturbT5(t, p, 3)
	b := newT5Batch(4, m.VocabSize, 17, 14, []int{17, 10, 2})

	dir := t.TempDir()
	type entry struct {
		Name   string `json:"name"`
		Shape  []int  `json:"shape"`
		Offset int    `json:"offset"`
	}
	type ints struct {
		Shape []int   `json:"shape"`
		Data  []int64 `json:"data"`
	}
	type bucketCheck struct {
		Bidirectional bool `json:"bidirectional"`
		NumBuckets    int  `json:"num_buckets"`
		MaxDistance   int  `json:"max_distance"`
		Lo            int  `json:"lo"`
		Hi            int  `json:"hi"`
	}
	index := struct {
		Config  map[string]any  `json:"config"`
		Params  []entry         `json:"params"`
		Inputs  map[string]ints `json:"inputs"`
		Buckets []bucketCheck   `json:"bucket_checks"`
	}{
		Config: map[string]any{"vocab_size": m.VocabSize, "d_model": m.DModel, "d_kv": m.DKV, "d_ff": m.DFF,
			"num_layers": m.NumLayers, "num_decoder_layers": m.NumDecoderLayers, "num_heads": m.NumHeads,
			"relative_attention_num_buckets":  m.RelativeAttentionNumBuckets,
			"relative_attention_max_distance": m.RelativeAttentionMaxDistance, "layer_norm_epsilon": m.LayerNormEpsilon},
		Inputs: map[string]ints{},
	}
	var flat []byte
	for _, tp := range p.Graph.Initializer {
		v, err := onnx.TensorOf(tp)
		if err != nil {
			t.Fatal(err)
		}
		index.Params = append(index.Params, entry{tp.GetName(), v.Shape, len(flat) / 4})
		for _, x := range v.F32 {
			flat = binary.LittleEndian.AppendUint32(flat, math.Float32bits(x))
		}
	}
	for name, v := range b.inputs() {
		index.Inputs[name] = ints{v.Shape, v.I64}
	}
	small := models.T5Small()
	for _, c := range []struct{ nb, md int }{{small.RelativeAttentionNumBuckets, small.RelativeAttentionMaxDistance},
		{m.RelativeAttentionNumBuckets, m.RelativeAttentionMaxDistance}} {
		for _, bi := range []bool{true, false} {
			index.Buckets = append(index.Buckets, bucketCheck{bi, c.nb, c.md, -600, 600})
		}
	}
	js, err := json.Marshal(index)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"index.json": js, "params.bin": flat} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(torchPython, "testdata/t5_torch_ref.py", dir)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("testdata/t5_torch_ref.py: %v\n%s", err, out)
	}
	var res struct {
		Shape   []int   `json:"shape"`
		Torch   string  `json:"torch"`
		Buckets [][]int `json:"buckets"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	for i, c := range index.Buckets {
		for r := c.Lo; r <= c.Hi; r++ {
			if got, want := models.T5RelativeBucket(r, c.Bidirectional, c.NumBuckets, c.MaxDistance), res.Buckets[i][r-c.Lo]; got != want {
				t.Errorf("bucket of %d (bidirectional %v, %d buckets, max distance %d) = %d, torch %d",
					r, c.Bidirectional, c.NumBuckets, c.MaxDistance, got, want)
			}
		}
	}
	lb, err := os.ReadFile(filepath.Join(dir, "logits.bin"))
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, len(lb)/4)
	for i := range want {
		want[i] = math.Float32frombits(binary.LittleEndian.Uint32(lb[4*i:]))
	}
	if fmt.Sprint(res.Shape) != fmt.Sprint([]int{3, 14, m.VocabSize}) {
		t.Fatalf("PyTorch logits shape %v", res.Shape)
	}
	for _, run := range []struct {
		name string
		fn   func(*testing.T, *onnxpb.ModelProto, map[string]tensor.Tensor, string) tensor.Tensor
	}{{"onnxruntime", runORT}, {"GoMLX", runGoMLX}} {
		got := run.fn(t, p, b.inputs(), "logits")
		d := maxAbsDiff(t, run.name+" vs PyTorch", got.F32, want)
		t.Logf("max |%s - PyTorch %s| = %.3g (logits up to %.3g)", run.name, res.Torch, d, maxAbs(want))
		if d > 1e-4 {
			t.Errorf("%s differs from the PyTorch reference by %g (want <= 1e-4)", run.name, d)
		}
	}
}

// seq2seqTask is the smallest tasks.Task a T5 trains under: the mean cross-entropy of the
// logits against labels [batch, tgt_len], positions labelled -100 left out (HF's convention).
type seq2seqTask struct{}

func (seq2seqTask) Name() string                    { return "t5_test" }
func (seq2seqTask) DefaultYAML() []byte             { return nil }
func (seq2seqTask) Signature() onnx.Signature       { return onnx.Signature{} }
func (seq2seqTask) NewMetrics(string) tasks.Metrics { return nil }
func (seq2seqTask) BuildModel(config.Map, int64) (*onnxpb.ModelProto, error) {
	return nil, errors.New("t5_test: the test builds its model")
}
func (seq2seqTask) NewData(tasks.DataEnv, config.Map) (tasks.DataModule, error) {
	return nil, errors.New("t5_test: the test feeds its batches")
}
func (seq2seqTask) Loss(_ *graph.Graph, outputs, targets map[string]*graph.Node) *graph.Node {
	logits, labels := outputs["logits"], targets["labels"]
	dims := logits.Shape().Dimensions
	flat := graph.Reshape(logits, dims[0]*dims[1], dims[2])
	lab := graph.Reshape(labels, dims[0]*dims[1])
	keep := graph.GreaterOrEqual(lab, graph.ZerosLike(lab))
	return tasks.SoftmaxCrossEntropy(flat, graph.Where(keep, lab, graph.ZerosLike(lab)), keep)
}

// reverseBatch is a toy translation: the source is n random tokens and </s>, the target the same
// tokens reversed and </s>; decoder inputs are the target shifted right after the start token 0,
// labels past the target are -100.
func reverseBatch(r *rand.Rand, batch, srcLen, vocab int) tasks.Batch {
	ids, mask := make([]int64, batch*srcLen), make([]int64, batch*srcLen)
	dec, labels := make([]int64, batch*srcLen), make([]int64, batch*srcLen)
	for i := 0; i < batch; i++ {
		n := 2 + r.IntN(srcLen-2) // tokens before </s>
		row := ids[i*srcLen : (i+1)*srcLen]
		for j := 0; j < n; j++ {
			row[j] = 2 + r.Int64N(int64(vocab-2))
		}
		row[n] = 1
		for j := 0; j <= n; j++ {
			mask[i*srcLen+j] = 1
		}
		lab := labels[i*srcLen : (i+1)*srcLen]
		for j := range lab {
			lab[j] = -100
		}
		for j := 0; j < n; j++ {
			lab[j] = row[n-1-j]
		}
		lab[n] = 1
		d := dec[i*srcLen : (i+1)*srcLen]
		for j := 1; j <= n; j++ {
			d[j] = lab[j-1]
		}
	}
	return tasks.Batch{Inputs: map[string]tensor.Tensor{"input_ids": tensor.I64s(ids, batch, srcLen),
		"attention_mask": tensor.I64s(mask, batch, srcLen), "decoder_input_ids": tensor.I64s(dec, batch, srcLen)},
		Targets: map[string]tensor.Tensor{"labels": tensor.I64s(labels, batch, srcLen)}, Size: batch}
}

// TestT5Trains trains a tiny T5 (with dropout) on reversing token sequences with AdamW in GoMLX,
// as fob's trainer does, and checks that the loss falls clearly, that the exported model is
// deterministic in onnxruntime (no dropout left) and agrees with GoMLX's inference pass.
func TestT5Trains(t *testing.T) {
	m := models.T5{VocabSize: 12, DModel: 32, DKV: 8, DFF: 64, NumHeads: 4, NumLayers: 2, NumDecoderLayers: 2,
		RelativeAttentionNumBuckets: 8, RelativeAttentionMaxDistance: 16, DropoutRate: 0.1, LayerNormEpsilon: 1e-6}
	const steps, srcLen = 120, 6
	p, err := m.Build("t5", 1)
	if err != nil {
		t.Fatal(err)
	}
	st, model, lrs, gc := traintest.Stepper(t, seq2seqTask{}, p, 1, config.Map{"name": "adamw_baseline",
		"learning_rate": 1e-2, "weight_decay": 0.01, "max_steps": steps, "max_epochs": 1})
	if len(model.Sites) == 0 {
		t.Fatal("the training graph has no dropout sites")
	}
	r := rand.New(rand.NewPCG(1, 2))
	var losses []float64
	for s := 1; s <= steps; s++ {
		res, err := st.Step(reverseBatch(r, 32, srcLen, m.VocabSize), s, lrs)
		if err != nil {
			t.Fatal(err)
		}
		losses = append(losses, res.Loss)
	}
	mean := func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	last := mean(losses[steps-10:])
	t.Logf("training loss: step 1 %.3f, last 10 steps %.3f (%d steps, %d dropout sites)", losses[0], last, steps, len(model.Sites))
	if !(last < 0.6*losses[0]) {
		t.Errorf("training loss fell from %.3f to %.3f only; want below 60%%", losses[0], last)
	}

	exported, err := model.Export(gc, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := reverseBatch(r, 64, srcLen, m.VocabSize)
	a1 := runORT(t, exported, b.Inputs, "logits")
	a2 := runORT(t, exported, b.Inputs, "logits")
	if d := maxAbsDiff(t, "two onnxruntime runs", a1.F32, a2.F32); d != 0 {
		t.Errorf("the exported model is not deterministic in onnxruntime: runs differ by %g", d)
	}
	fwd, err := st.Forward(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(t, "GoMLX vs onnxruntime after training", fwd["logits"].F32, a1.F32); d > 1e-4 {
		t.Errorf("after training, GoMLX's inference pass and the exported model differ by %g (want <= 1e-4)", d)
	}
	// A model blind to the source can do no better than guessing the n random tokens of a
	// target (n + 1 tokens with </s>, n uniform in 2..srcLen−1): ln(vocab−2)·Σn/Σ(n+1) per token.
	tokens, all := 0, 0
	for n := 2; n < srcLen; n++ {
		tokens, all = tokens+n, all+n+1
	}
	blind := math.Log(float64(m.VocabSize-2)) * float64(tokens) / float64(all)
	ce := crossEntropy(a1, b.Targets["labels"])
	t.Logf("exported model, onnxruntime: loss %.3f on a fresh batch (source-blind bound %.3f)", ce, blind)
	if !(ce < blind-0.2) {
		t.Errorf("the trained model's loss %.3f is not clearly below the source-blind bound %.3f", ce, blind)
	}
}

// crossEntropy is the mean cross-entropy of logits [batch, len, vocab] against labels, -100
// left out, on the host.
func crossEntropy(logits, labels tensor.Tensor) float64 {
	v := logits.Shape[2]
	sum, n := 0.0, 0
	for i, lab := range labels.I64 {
		if lab < 0 {
			continue
		}
		row := logits.F32[i*v : (i+1)*v]
		mx := math.Inf(-1)
		for _, x := range row {
			mx = math.Max(mx, float64(x))
		}
		z := 0.0
		for _, x := range row {
			z += math.Exp(float64(x) - mx)
		}
		sum += math.Log(z) + mx - float64(row[lab])
		n++
	}
	return sum / float64(n)
}

// BenchmarkT5SmallTrainStep times one optimisation step of t5-small (forward with dropout,
// cross-entropy over the logits, backward, AdamW) at batch 8 with source and target length 64,
// on the default backend; scripts/bench-tasks.sh puts it next to PyTorch.
//
//	go test -run '^$' -bench T5SmallTrainStep -benchtime 5x ./models/
func BenchmarkT5SmallTrainStep(b *testing.B) {
	const batch, length = 8, 64
	m := models.T5Small()
	p, err := m.Build("t5", 1)
	if err != nil {
		b.Fatal(err)
	}
	st, _, lrs, _ := traintest.Stepper(b, seq2seqTask{}, p, 1, config.Map{"name": "adamw_baseline",
		"learning_rate": 1e-3, "weight_decay": 0.1, "max_steps": 1000, "max_epochs": 1})
	r := rand.New(rand.NewPCG(1, 3))
	tokens := func() tensor.Tensor {
		v := make([]int64, batch*length)
		for i := range v {
			v[i] = 2 + r.Int64N(int64(m.VocabSize-2))
		}
		return tensor.I64s(v, batch, length)
	}
	ones := make([]int64, batch*length)
	for i := range ones {
		ones[i] = 1
	}
	bt := tasks.Batch{Inputs: map[string]tensor.Tensor{"input_ids": tokens(), "attention_mask": tensor.I64s(ones, batch, length),
		"decoder_input_ids": tokens()}, Targets: map[string]tensor.Tensor{"labels": tokens()}, Size: batch}
	if _, err := st.Step(bt, 1, lrs); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := st.Step(bt, i+2, lrs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/step")
}

// TestT5RelativeBucket checks HF's buckets for t5-small's settings (32 buckets, max distance
// 128) at hand-picked relative positions (key − query), boundaries of the logarithmic buckets
// included; TestT5MatchesTorch compares every position up to ±600 with torch.
func TestT5RelativeBucket(t *testing.T) {
	cases := []struct {
		rel         int
		enc, decode int // bidirectional (encoder) and unidirectional (decoder) buckets
	}{
		{0, 0, 0}, {1, 17, 0}, {-1, 1, 1}, {7, 23, 0}, {-7, 7, 7}, {8, 24, 0}, {-8, 8, 8},
		{15, 25, 0}, {16, 26, 0}, {-16, 10, 16}, {32, 28, 0}, {-32, 12, 21}, {63, 29, 0},
		{64, 30, 0}, {-64, 14, 26}, {127, 31, 0}, {128, 31, 0}, {-128, 15, 31}, {-129, 15, 31},
		{200, 31, 0}, {-1000, 15, 31},
	}
	for _, c := range cases {
		if got := models.T5RelativeBucket(c.rel, true, 32, 128); got != c.enc {
			t.Errorf("bidirectional bucket of %d = %d, want %d", c.rel, got, c.enc)
		}
		if got := models.T5RelativeBucket(c.rel, false, 32, 128); got != c.decode {
			t.Errorf("unidirectional bucket of %d = %d, want %d", c.rel, got, c.decode)
		}
	}
}

// TestT5BuildErrors: configurations HF's T5 cannot run are refused with the field named.
func TestT5BuildErrors(t *testing.T) {
	cases := []struct {
		name   string
		modify func(*models.T5)
		want   string
	}{
		{"no vocabulary", func(m *models.T5) { m.VocabSize = 0 }, "VocabSize"},
		{"no heads", func(m *models.T5) { m.NumHeads = 0 }, "NumHeads"},
		{"no decoder", func(m *models.T5) { m.NumDecoderLayers = 0 }, "NumDecoderLayers"},
		{"too few buckets", func(m *models.T5) { m.RelativeAttentionNumBuckets = 3 }, "RelativeAttentionNumBuckets"},
		{"max distance within the exact buckets", func(m *models.T5) { m.RelativeAttentionMaxDistance = 4 }, "RelativeAttentionMaxDistance"},
		{"dropout 1", func(m *models.T5) { m.DropoutRate = 1 }, "DropoutRate"},
		{"dropout NaN", func(m *models.T5) { m.DropoutRate = math.NaN() }, "DropoutRate"},
		{"no epsilon", func(m *models.T5) { m.LayerNormEpsilon = 0 }, "LayerNormEpsilon"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := tinyT5()
			c.modify(&m)
			if _, err := m.Build("t5", 1); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Build: error %v, want one naming %s", err, c.want)
			}
			if _, _, err := m.BuildDecoding(1); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("BuildDecoding: error %v, want one naming %s", err, c.want)
			}
		})
	}
}

// TestT5Init checks HF's initialisation (factor 1): the spread of every parameter kind, norms at
// one, and that the draw is fixed by the seed.
func TestT5Init(t *testing.T) {
	m := models.T5{VocabSize: 1000, DModel: 256, DKV: 32, DFF: 512, NumHeads: 4, NumLayers: 1, NumDecoderLayers: 1,
		RelativeAttentionNumBuckets: 32, RelativeAttentionMaxDistance: 128, DropoutRate: 0.1, LayerNormEpsilon: 1e-6}
	p, err := m.Build("t5", 4)
	if err != nil {
		t.Fatal(err)
	}
	d := float64(m.DModel)
	stds := []struct {
		suffix string
		std    float64
	}{
		{"shared.weight", 1}, {".q.weight", 1 / math.Sqrt(d*float64(m.DKV))}, {".k.weight", 1 / math.Sqrt(d)},
		{".v.weight", 1 / math.Sqrt(d)}, {".o.weight", 1 / math.Sqrt(float64(m.NumHeads*m.DKV))},
		{"relative_attention_bias.weight", 1 / math.Sqrt(d)}, {".wi.weight", 1 / math.Sqrt(d)},
		{".wo.weight", 1 / math.Sqrt(float64(m.DFF))}, {"layer_norm.weight", 0},
	}
	for _, tp := range p.Graph.Initializer {
		v, err := onnx.TensorOf(tp)
		if err != nil {
			t.Fatal(err)
		}
		want := -1.0
		for _, s := range stds {
			if strings.HasSuffix(tp.GetName(), s.suffix) {
				want = s.std
				break
			}
		}
		switch {
		case want < 0:
			t.Errorf("%s: no expected initialisation", tp.GetName())
		case want == 0:
			for _, x := range v.F32 {
				if x != 1 {
					t.Errorf("%s: norm weight %g, want 1", tp.GetName(), x)
					break
				}
			}
		default:
			var sum, sq float64
			for _, x := range v.F32 {
				sum += float64(x)
				sq += float64(x) * float64(x)
			}
			n := float64(len(v.F32))
			mean, std := sum/n, math.Sqrt(sq/n)
			tol := 4 / math.Sqrt(2*n) // four standard errors of the sample std
			if math.Abs(std/want-1) > tol || math.Abs(mean) > 4*want/math.Sqrt(n) {
				t.Errorf("%s: mean %.4g std %.4g, want N(0, %.4g²) (%d values)", tp.GetName(), mean, std, want, len(v.F32))
			}
		}
	}
	again, err := m.Build("t5", 4)
	if err != nil {
		t.Fatal(err)
	}
	other, err := m.Build("t5", 5)
	if err != nil {
		t.Fatal(err)
	}
	for i, tp := range p.Graph.Initializer {
		if !proto.Equal(tp, again.Graph.Initializer[i]) {
			t.Errorf("%s differs between two builds with seed 4", tp.GetName())
		}
		if !strings.Contains(tp.GetName(), "layer_norm") && proto.Equal(tp, other.Graph.Initializer[i]) {
			t.Errorf("%s is the same for seeds 4 and 5", tp.GetName())
		}
	}
}
