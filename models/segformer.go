package models

import (
	"errors"
	"fmt"
	"math"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
)

// SegFormer describes Hugging Face's SegformerForSemanticSegmentation (Xie et al. 2021) as an
// ONNX graph: a Mix Transformer (MiT) encoder of four stages, each an overlapping patch
// embedding (strided Conv + LayerNorm), blocks of efficient self-attention (keys and values
// from a spatial-reduction Conv + LayerNorm) and Mix-FFN (Linear, depthwise 3×3 Conv, GELU,
// Linear), and a final LayerNorm; then the all-MLP decode head: per-stage Linear to
// DecoderHidden, bilinear upsampling (align_corners=False) to the first stage's 1/4 resolution,
// concatenation (last stage first), a bias-free 1×1 Conv, BatchNorm, ReLU, dropout and a 1×1
// Conv classifier. The output is the logits at 1/4 resolution, as HF's model returns them.
//
// Parameters carry HF's state_dict names (segformer.encoder.patch_embeddings.0.proj.weight,
// segformer.encoder.block.1.0.attention.self.sr.weight, decode_head.linear_c.3.proj.weight,
// decode_head.batch_norm.running_mean, ...), so pretrained weights load by name and the
// parameter groups can split the backbone ("segformer.") from the head ("decode_head.").
//
// Initialisation is HF's _init_weights: Linear and Conv weights N(0, InitStd²) with zero bias,
// LayerNorm weight 1 and bias 0; BatchNorm 1/0 with running mean 0 and variance 1.
// Stochastic depth (HF's drop_path, rates rising linearly from 0 to DropPath over the blocks)
// multiplies each residual branch by a per-example Dropout mask; inference passes it through.
type SegFormer struct {
	// Hidden, Depths, Heads, SR, Patch and Stride are the per-stage hidden sizes, block counts,
	// attention heads, spatial-reduction ratios, patch sizes and strides.
	Hidden, Depths, Heads, SR, Patch, Stride [4]int
	// MLPRatio is the Mix-FFN expansion (4).
	MLPRatio int
	// DecoderHidden is the decode head's width (256 for b0).
	DecoderHidden int
	// Classes is the number of output classes (150 for ADE20K).
	Classes int
	// Height and Width are the fixed input image size.
	Height, Width int
	// DropPath is the largest stochastic-depth rate (HF's drop_path_rate, 0.1).
	DropPath float64
	// ClassifierDropout is the decode head's dropout before the classifier (0.1).
	ClassifierDropout float64
	// InitStd is HF's initializer_range (0.02).
	InitStd float64
	// Input and Output name the graph's image input [batch, 3, Height, Width] and logits output
	// [batch, Classes, Height/4, Width/4].
	Input, Output string
}

// SegFormerB0 is nvidia/mit-b0's configuration with a new head of classes classes for size×size
// images (FOB: 150 classes, 512×512).
func SegFormerB0(classes, size int) SegFormer {
	return SegFormer{
		Hidden: [4]int{32, 64, 160, 256}, Depths: [4]int{2, 2, 2, 2}, Heads: [4]int{1, 2, 5, 8},
		SR: [4]int{8, 4, 2, 1}, Patch: [4]int{7, 3, 3, 3}, Stride: [4]int{4, 2, 2, 2},
		MLPRatio: 4, DecoderHidden: 256, Classes: classes, Height: size, Width: size,
		DropPath: 0.1, ClassifierDropout: 0.1, InitStd: 0.02, Input: "pixel_values", Output: "logits",
	}
}

// StageSizes returns the spatial size of each stage's feature map for the configured input.
func (m SegFormer) StageSizes() (h, w [4]int) {
	ch, cw := m.Height, m.Width
	for i := range 4 {
		pad := m.Patch[i] / 2
		ch = (ch+2*pad-m.Patch[i])/m.Stride[i] + 1
		cw = (cw+2*pad-m.Patch[i])/m.Stride[i] + 1
		h[i], w[i] = ch, cw
	}
	return h, w
}

func (m SegFormer) validate() error {
	var errs []error
	for i := range 4 {
		switch {
		case m.Hidden[i] < 1 || m.Heads[i] < 1 || m.Hidden[i]%m.Heads[i] != 0:
			errs = append(errs, fmt.Errorf("stage %d: hidden size %d must be a positive multiple of its %d heads", i+1, m.Hidden[i], m.Heads[i]))
		case m.Depths[i] < 1:
			errs = append(errs, fmt.Errorf("stage %d has %d blocks, want at least 1", i+1, m.Depths[i]))
		case m.SR[i] < 1 || m.Patch[i] < 1 || m.Stride[i] < 1:
			errs = append(errs, fmt.Errorf("stage %d: sr ratio %d, patch size %d and stride %d must be at least 1", i+1, m.SR[i], m.Patch[i], m.Stride[i]))
		}
	}
	if m.MLPRatio < 1 || m.DecoderHidden < 1 || m.Classes < 1 {
		errs = append(errs, fmt.Errorf("mlp ratio %d, decoder hidden size %d and class count %d must be at least 1", m.MLPRatio, m.DecoderHidden, m.Classes))
	}
	if m.DropPath < 0 || m.DropPath >= 1 || m.ClassifierDropout < 0 || m.ClassifierDropout >= 1 {
		errs = append(errs, fmt.Errorf("drop path %g and classifier dropout %g must be in [0, 1)", m.DropPath, m.ClassifierDropout))
	}
	if m.Input == "" || m.Output == "" {
		errs = append(errs, errors.New("Input and Output names must be set"))
	}
	if len(errs) == 0 {
		h, w := m.StageSizes()
		for i := range 4 {
			if h[i] < m.SR[i] || w[i] < m.SR[i] {
				errs = append(errs, fmt.Errorf("image size %dx%d is too small: stage %d is %dx%d, below its sr ratio %d (use at least 32x32 for b0)",
					m.Height, m.Width, i+1, h[i], w[i], m.SR[i]))
				break
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("models: SegFormer: %w", err)
	}
	return nil
}

// segformer carries the builder state.
type segformer struct {
	*graph
	m   SegFormer
	rng *RNG
}

// Build returns the network as an ONNX graph with a symbolic batch dimension.
func (m SegFormer) Build(name string, seed int64) (*onnxpb.ModelProto, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	s := segformer{graph: newGraph(name), m: m, rng: NewRNG(seed)}
	s.b.Input(m.Input, "float32", "batch", 3, m.Height, m.Width)
	hs, ws := m.StageSizes()
	total := 0
	for _, d := range m.Depths {
		total += d
	}
	x, cin, blockIdx := m.Input, 3, 0
	var feats []string
	for i := range 4 {
		c, h, w := m.Hidden[i], hs[i], ws[i]
		p := fmt.Sprintf("segformer.encoder.patch_embeddings.%d.", i)
		x = s.conv(p+"proj", x, cin, c, m.Patch[i], m.Stride[i], m.Patch[i]/2, 1, true)
		t := s.toTokens(x, c, h*w)
		t = s.layerNorm(p+"layer_norm", t, c)
		for j := range m.Depths[i] {
			rate := 0.0
			if total > 1 {
				rate = m.DropPath * float64(blockIdx) / float64(total-1) // torch.linspace(0, rate, total)
			}
			t = s.block(fmt.Sprintf("segformer.encoder.block.%d.%d.", i, j), t, i, h, w, rate)
			blockIdx++
		}
		t = s.layerNorm(fmt.Sprintf("segformer.encoder.layer_norm.%d", i), t, c)
		x = s.toMap(t, c, h, w)
		feats = append(feats, x)
		cin = c
	}
	// Decode head.
	d := m.DecoderHidden
	var ups []any
	for i, f := range feats {
		c, h, w := m.Hidden[i], hs[i], ws[i]
		t := s.linear(fmt.Sprintf("decode_head.linear_c.%d.proj", i), s.toTokens(f, c, h*w), c, d)
		u := s.toMap(t, d, h, w)
		if h != hs[0] || w != ws[0] {
			u = s.resize(u, d, h, w, hs[0], ws[0])
		}
		ups = append([]any{u}, ups...) // HF concatenates the stages last first
	}
	y := s.op("Concat", ups, axis(1))
	y = s.conv("decode_head.linear_fuse", y, 4*d, d, 1, 1, 0, 1, false)
	y = s.op("Relu", s.batchNorm("decode_head.batch_norm", y, d, false))
	y = s.dropout(y, m.ClassifierDropout)
	y = s.conv("decode_head.classifier", y, d, m.Classes, 1, 1, 0, 1, true)
	s.b.Node("Reshape", []string{y, s.ints(-1, int64(m.Classes), int64(hs[0]), int64(ws[0]))}, []string{m.Output})
	s.b.Output(m.Output, "float32", "batch", m.Classes, hs[0], ws[0])
	return s.model()
}

// block is one SegformerLayer: x + attention(LN(x)), then x + MixFFN(LN(x)), each branch
// scaled by a stochastic-depth mask when rate > 0.
func (s segformer) block(p, t string, stage, h, w int, rate float64) string {
	c := s.m.Hidden[stage]
	a := s.attention(p+"attention.", s.layerNorm(p+"layer_norm_1", t, c), stage, h, w)
	t = s.op("Add", s.dropPath(a, rate), t)
	f := s.layerNorm(p+"layer_norm_2", t, c)
	hid := c * s.m.MLPRatio
	f = s.linear(p+"mlp.dense1", f, c, hid)
	f = s.toMap(f, hid, h, w)
	f = s.conv(p+"mlp.dwconv.dwconv", f, hid, hid, 3, 1, 1, hid, true)
	f = s.gelu(s.toTokens(f, hid, h*w))
	f = s.linear(p+"mlp.dense2", f, hid, c)
	return s.op("Add", s.dropPath(f, rate), t)
}

// attention is SegformerAttention: multi-head attention whose keys and values come from the
// tokens reduced by a sr×sr stride-sr Conv and a LayerNorm (when sr > 1).
func (s segformer) attention(p, t string, stage, h, w int) string {
	c, heads, sr := s.m.Hidden[stage], s.m.Heads[stage], s.m.SR[stage]
	dh := c / heads
	n := h * w
	q := s.linear(p+"self.query", t, c, c)
	kv, nkv := t, n
	if sr > 1 {
		r := s.conv(p+"self.sr", s.toMap(t, c, h, w), c, c, sr, sr, 0, 1, true)
		hr, wr := (h-sr)/sr+1, (w-sr)/sr+1
		nkv = hr * wr
		kv = s.layerNorm(p+"self.layer_norm", s.toTokens(r, c, nkv), c)
	}
	k := s.linear(p+"self.key", kv, c, c)
	v := s.linear(p+"self.value", kv, c, c)
	split := func(x string, tokens int, perm ...int64) string {
		return s.op("Transpose", s.op("Reshape", x, s.ints(-1, int64(tokens), int64(heads), int64(dh))), onnx.AttrInts("perm", perm))
	}
	qh := split(q, n, 0, 2, 1, 3)   // [B, heads, N, dh]
	kh := split(k, nkv, 0, 2, 3, 1) // [B, heads, dh, M]
	vh := split(v, nkv, 0, 2, 1, 3) // [B, heads, M, dh]
	scores := s.op("Mul", s.op("MatMul", qh, kh), s.constant(Const(float32(1/math.Sqrt(float64(dh))))))
	ctx := s.op("MatMul", s.op("Softmax", scores, axis(-1)), vh)
	ctx = s.op("Reshape", s.op("Transpose", ctx, onnx.AttrInts("perm", []int64{0, 2, 1, 3})), s.ints(-1, int64(n), int64(c)))
	return s.linear(p+"output.dense", ctx, c, c)
}

// dropPath multiplies x [B, N, C] by a per-example keep mask: Dropout applied to a [B, 1, 1]
// tensor of ones (derived from x so that it carries the batch size), which the trainer turns
// into a fresh mask of keep/(1-rate) each step and inference leaves at 1.
func (s segformer) dropPath(x string, rate float64) string {
	if rate == 0 {
		return x
	}
	zero := s.op("Mul", s.op("ReduceMean", x, onnx.AttrInts("axes", []int64{1, 2}), onnx.AttrInt("keepdims", 1)), s.constant(Const(0)))
	ones := s.op("Add", zero, s.constant(Const(1)))
	return s.op("Mul", x, s.dropout(ones, rate))
}

// toTokens turns a [B, C, H, W] map into [B, H·W, C] tokens (flatten(2).transpose(1, 2)).
func (s segformer) toTokens(x string, c, n int) string {
	return s.op("Transpose", s.op("Reshape", x, s.ints(-1, int64(c), int64(n))), onnx.AttrInts("perm", []int64{0, 2, 1}))
}

// toMap turns [B, H·W, C] tokens back into a [B, C, H, W] map.
func (s segformer) toMap(t string, c, h, w int) string {
	return s.op("Reshape", s.op("Transpose", t, onnx.AttrInts("perm", []int64{0, 2, 1})), s.ints(-1, int64(c), int64(h), int64(w)))
}

// linear is torch.nn.Linear on the last axis with HF's N(0, std²) weight and zero bias.
func (s segformer) linear(p, x string, in, out int) string {
	s.param(p+".weight", s.rng.Normal(s.m.InitStd, out, in))
	s.param(p+".bias", Const(0, out))
	wt := s.op("Transpose", p+".weight", onnx.AttrInts("perm", []int64{1, 0}))
	return s.op("Add", s.op("MatMul", x, wt), p+".bias")
}

// conv is torch.nn.Conv2d(in, out, k, stride, pad, groups) with HF's initialisation
// (attributes from convAttrs).
func (s segformer) conv(p, x string, in, out, k, stride, pad, groups int, bias bool) string {
	s.param(p+".weight", s.rng.Normal(s.m.InitStd, out, in/groups, k, k))
	ins := []any{x, p + ".weight"}
	if bias {
		s.param(p+".bias", Const(0, out))
		ins = append(ins, p+".bias")
	}
	return s.op("Conv", append(ins, convAttrs(k, stride, pad, groups)...)...)
}

// gelu is the exact (erf) GELU written out, since ONNX's Gelu op needs opset 20.
func (s segformer) gelu(x string) string {
	e := s.op("Erf", s.op("Mul", x, s.constant(Const(float32(1/math.Sqrt2)))))
	return s.op("Mul", s.op("Mul", x, s.constant(Const(0.5))), s.op("Add", e, s.constant(Const(1))))
}

// resize is F.interpolate(x, size=(oh, ow), mode="bilinear", align_corners=False) of a
// [B, c, h, w] map. ONNX needs the batch size for its sizes input, so the scales input carries
// oh/h and ow/w, nudged up where float32 rounding would floor the output size below the target.
func (s segformer) resize(x string, c, h, w, oh, ow int) string {
	scale := func(in, out int) float32 {
		v := float32(out) / float32(in)
		for int(math.Floor(float64(in)*float64(v))) < out {
			v = math.Nextafter32(v, float32(math.Inf(1)))
		}
		return v
	}
	scales := s.constant(tensor.F32s([]float32{1, 1, scale(h, oh), scale(w, ow)}, 4))
	y := s.op("Resize", x, "", scales, onnx.AttrString("mode", "linear"),
		onnx.AttrString("coordinate_transformation_mode", "pytorch_half_pixel"))
	s.declare(y, "batch", c, oh, ow)
	return y
}
