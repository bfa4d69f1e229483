package models_test

import (
	"math"
	"strings"
	"testing"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/train/optim"
)

// TestFTTransformerMatchesTorch loads the weights of a PyTorch FT-Transformer written after
// rtdl_revisiting_models (testdata/make_refs.py) into the ONNX graph by parameter name, and
// checks that onnxruntime and GoMLX both reproduce PyTorch's eval-mode outputs.
func TestFTTransformerMatchesTorch(t *testing.T) {
	var ref struct {
		Config struct {
			NFeatures int     `json:"n_features"`
			DOut      int     `json:"d_out"`
			NBlocks   int     `json:"n_blocks"`
			DBlock    int     `json:"d_block"`
			Heads     int     `json:"heads"`
			Hidden    int     `json:"hidden"`
			AttDrop   float64 `json:"att_drop"`
			FFNDrop   float64 `json:"ffn_drop"`
		} `json:"config"`
		Params map[string]refTensor `json:"params"`
		Input  []float32            `json:"input"`
		Output []float32            `json:"output"`
	}
	readJSON(t, "testdata/fttransformer_ref.json", &ref)
	c := ref.Config
	m, err := models.FTTransformer{NFeatures: c.NFeatures, DOut: c.DOut, NBlocks: c.NBlocks, DBlock: c.DBlock, Heads: c.Heads,
		FFNHidden: c.Hidden, AttentionDropout: c.AttDrop, FFNDropout: c.FFNDrop, Input: "X", Output: "prediction"}.Build("ft", 7)
	if err != nil {
		t.Fatal(err)
	}
	loadParams(t, m, ref.Params)
	in := map[string]tensor.Tensor{"X": tensor.F32s(ref.Input, len(ref.Input)/c.NFeatures, c.NFeatures)}

	ortOut := runORT(t, m, in, "prediction")
	if len(ortOut.Shape) != 2 || ortOut.Shape[0] != len(ref.Input)/c.NFeatures || ortOut.Shape[1] != c.DOut {
		t.Fatalf("onnxruntime output shape %v, want [%d %d]", ortOut.Shape, len(ref.Input)/c.NFeatures, c.DOut)
	}
	if d := maxAbsDiff(t, "onnxruntime vs PyTorch", ortOut.F32, ref.Output); d > 1e-5 {
		t.Errorf("onnxruntime differs from PyTorch by %g (want <= 1e-5)", d)
	} else {
		t.Logf("max |onnxruntime - PyTorch| = %.3g", d)
	}
	goOut := runGoMLX(t, m, in, "prediction")
	if d := maxAbsDiff(t, "GoMLX vs PyTorch", goOut.F32, ref.Output); d > 1e-5 {
		t.Errorf("GoMLX differs from PyTorch by %g (want <= 1e-5)", d)
	} else {
		t.Logf("max |GoMLX - PyTorch| = %.3g", d)
	}
}

// TestFTTransformerDefaults checks rtdl's default configurations by block count.
func TestFTTransformerDefaults(t *testing.T) {
	cases := []struct {
		blocks, d, hidden int
		att, ffn          float64
	}{
		{1, 96, 128, 0.1, 0.0}, {2, 128, 170, 0.15, 0.05}, {3, 192, 256, 0.2, 0.1},
		{4, 256, 341, 0.25, 0.15}, {5, 320, 426, 0.3, 0.2}, {6, 384, 512, 0.35, 0.25},
	}
	for _, c := range cases {
		m, err := models.FTTransformerDefaults(c.blocks)
		if err != nil {
			t.Fatal(err)
		}
		if m.NBlocks != c.blocks || m.DBlock != c.d || m.FFNHidden != c.hidden || m.Heads != 8 ||
			m.AttentionDropout != c.att || m.FFNDropout != c.ffn || m.ResidualDropout != 0 {
			t.Errorf("defaults(%d) = %+v", c.blocks, m)
		}
	}
	for _, bad := range []int{0, 7, -1} {
		if _, err := models.FTTransformerDefaults(bad); err == nil || !strings.Contains(err.Error(), "1 to 6") {
			t.Errorf("defaults(%d): err = %v, want one naming the valid range", bad, err)
		}
	}
}

// TestFTTransformerStructure checks FOB's tabular model (n_blocks 3, 8 features): rtdl's 53
// parameter tensors with 894,913 values, the parameter groups (embeddings, biases and LayerNorm
// parameters without weight decay), rtdl's initialisation, determinism per seed, and the
// dropout sites the trainer will feed.
func TestFTTransformerStructure(t *testing.T) {
	m, _ := models.FTTransformerDefaults(3)
	m.NFeatures, m.DOut, m.Input, m.Output = 8, 1, "X", "prediction"
	p1, err := m.Build("ft", 1)
	if err != nil {
		t.Fatal(err)
	}
	inits := p1.Graph.Initializer
	total := 0
	var infos []optim.ParamInfo
	values := map[string]tensor.Tensor{}
	for _, tp := range inits {
		v, err := onnx.TensorOf(tp)
		if err != nil {
			t.Fatal(err)
		}
		values[tp.GetName()] = v
		total += v.Size()
		infos = append(infos, optim.ParamInfo{Name: tp.GetName(), Shape: v.Shape})
	}
	if len(inits) != 53 || total != 894913 {
		t.Errorf("%d parameter tensors with %d values; rtdl's FTTransformer(n_blocks=3) has 53 with 894913", len(inits), total)
	}
	noDecay := map[string]bool{}
	for _, g := range optim.DefaultGroups(infos) {
		for _, n := range g.Params {
			noDecay[n] = g.WDMultiplier == 0
		}
	}
	for _, p := range infos {
		want := !strings.HasSuffix(p.Name, ".weight") || strings.Contains(p.Name, "embedding") || strings.Contains(p.Name, "normalization")
		if noDecay[p.Name] != want {
			t.Errorf("%s: no weight decay = %v, want %v", p.Name, noDecay[p.Name], want)
		}
	}

	bound := 1 / math.Sqrt(192)
	checks := []struct {
		name     string
		lo, hi   float64 // every value within [lo, hi]
		spanFrac float64 // and spread over at least this fraction of it (0: constant)
	}{
		{"cls_embedding.weight", -bound, bound, 0.9},
		{"cont_embeddings.weight", -bound, bound, 0.9},
		{"cont_embeddings.bias", -bound, bound, 0.9},
		{"backbone.blocks.1.attention.W_k.weight", -bound, bound, 0.9},
		{"backbone.blocks.1.attention.W_k.bias", 0, 0, 0},
		{"backbone.blocks.2.attention.W_out.bias", 0, 0, 0},
		{"backbone.blocks.0.ffn.linear1.bias", -bound, bound, 0.9},
		{"backbone.blocks.0.ffn.linear2.weight", -1 / math.Sqrt(256), 1 / math.Sqrt(256), 0.9},
		{"backbone.blocks.1.attention_normalization.weight", 1, 1, 0},
		{"backbone.blocks.1.ffn_normalization.bias", 0, 0, 0},
		{"backbone.output.linear.weight", -bound, bound, 0.7},
	}
	for _, c := range checks {
		v, ok := values[c.name]
		if !ok {
			t.Errorf("no parameter %s", c.name)
			continue
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, x := range v.F32 {
			lo, hi = math.Min(lo, float64(x)), math.Max(hi, float64(x))
		}
		if lo < c.lo-1e-7 || hi > c.hi+1e-7 || (hi-lo) < c.spanFrac*(c.hi-c.lo) {
			t.Errorf("%s: values in [%g, %g], want within [%g, %g] spread over %.0f%%", c.name, lo, hi, c.lo, c.hi, 100*c.spanFrac)
		}
	}
	if _, ok := values["backbone.blocks.0.attention_normalization.weight"]; ok {
		t.Error("block 0 has an attention LayerNorm; rtdl skips the very first normalisation")
	}

	again, _ := m.Build("ft", 1)
	other, _ := m.Build("ft", 2)
	same, differ := true, false
	for i, tp := range again.Graph.Initializer {
		a, _ := onnx.TensorOf(tp)
		b, _ := onnx.TensorOf(other.Graph.Initializer[i])
		c := values[tp.GetName()]
		for j := range a.F32 {
			same = same && a.F32[j] == c.F32[j]
			differ = differ || a.F32[j] != b.F32[j]
		}
	}
	if !same || !differ {
		t.Errorf("seeded init: same seed reproduces = %v, another seed differs = %v; want both", same, differ)
	}

	_, sites, err := onnx.ForImport(p1, onnx.ImportOptions{Dropout: onnx.DropoutMasks})
	if err != nil {
		t.Fatal(err)
	}
	ratios := map[float64]int{}
	for _, s := range sites {
		ratios[math.Round(s.Ratio*100)/100]++
	}
	if len(sites) != 6 || ratios[0.2] != 3 || ratios[0.1] != 3 {
		t.Errorf("dropout sites %+v; want 3 attention (0.2) and 3 FFN (0.1)", sites)
	}
}

// TestFTTransformerErrors checks that bad settings fail with a message naming the problem.
func TestFTTransformerErrors(t *testing.T) {
	ok := models.FTTransformer{NFeatures: 2, DOut: 1, NBlocks: 1, DBlock: 8, Heads: 2, FFNHidden: 4, Input: "X", Output: "y"}
	cases := []struct {
		name string
		edit func(*models.FTTransformer)
		want string
	}{
		{"heads do not divide d_block", func(m *models.FTTransformer) { m.Heads = 3 }, "multiple of the 3 heads"},
		{"no features", func(m *models.FTTransformer) { m.NFeatures = 0 }, "NFeatures"},
		{"dropout 1", func(m *models.FTTransformer) { m.FFNDropout = 1 }, "dropout 1 outside"},
		{"no output name", func(m *models.FTTransformer) { m.Output = "" }, "Output"},
	}
	for _, c := range cases {
		m := ok
		c.edit(&m)
		if _, err := m.Build("ft", 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
		}
	}
	if _, err := ok.Build("ft", 1); err != nil {
		t.Errorf("valid config: %v", err)
	}
}
