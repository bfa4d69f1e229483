package optim

import (
	"reflect"
	"strings"
	"testing"
)

func ptr(v float64) *float64 { return &v }

func names(gs []Group) map[string][]string {
	m := map[string][]string{}
	for _, g := range gs {
		m[g.Name] = g.Params
	}
	return m
}

func TestDefaultGroups(t *testing.T) {
	for _, c := range []struct {
		name              string
		params            []ParamInfo
		decay, noDecay    []string
		wantGroupsInOrder []string
	}{
		{
			name: "pytorch MLP",
			params: []ParamInfo{
				{Name: "fc1.weight", Shape: []int{512, 784}}, {Name: "fc1.bias", Shape: []int{512}},
				{Name: "fc2.weight", Shape: []int{10, 512}}, {Name: "fc2.bias", Shape: []int{10}},
			},
			decay:             []string{"fc1.weight", "fc2.weight"},
			noDecay:           []string{"fc1.bias", "fc2.bias"},
			wantGroupsInOrder: []string{"decay", "no_decay"},
		},
		{
			name: "exported with anonymous initializers",
			params: []ParamInfo{
				{Name: "onnx::MatMul_12", Shape: []int{784, 128}}, {Name: "onnx::Add_13", Shape: []int{128}},
				{Name: "onnx::MatMul_14", Shape: []int{128, 10}}, {Name: "/layer/Constant_output_0", Shape: []int{}},
			},
			decay:             []string{"onnx::MatMul_12", "onnx::MatMul_14"},
			noDecay:           []string{"/layer/Constant_output_0", "onnx::Add_13"},
			wantGroupsInOrder: []string{"decay", "no_decay"},
		},
		{
			name: "FT-Transformer style",
			params: []ParamInfo{
				{Name: "cls_embedding.weight", Shape: []int{1, 192}},
				{Name: "feature_tokenizer.weight", Shape: []int{8, 192}, Role: "embedding"},
				{Name: "blocks.0.attention.W_q.weight", Shape: []int{192, 192}},
				{Name: "blocks.0.attention.W_q.bias", Shape: []int{192}},
				{Name: "blocks.0.attention_normalization.weight", Shape: []int{192}},
				{Name: "blocks.0.ffn.linear_first.weight", Shape: []int{512, 192}},
				{Name: "head.ln.weight", Shape: []int{192}},
				{Name: "head.linear.weight", Shape: []int{1, 192}},
			},
			decay: []string{"blocks.0.attention.W_q.weight", "blocks.0.ffn.linear_first.weight", "head.linear.weight"},
			noDecay: []string{"blocks.0.attention.W_q.bias", "blocks.0.attention_normalization.weight",
				"cls_embedding.weight", "feature_tokenizer.weight", "head.ln.weight"},
			wantGroupsInOrder: []string{"decay", "no_decay"},
		},
		{
			name: "transformer names",
			params: []ParamInfo{
				{Name: "encoder.LayerNorm.weight", Shape: []int{64}},
				{Name: "encoder.layer_norm_1.gamma", Shape: []int{64}},
				{Name: "bn2.running_scale", Shape: []int{64}},
				{Name: "ln_f.weight", Shape: []int{64}},
				{Name: "pos_embed", Shape: []int{1, 16, 64}},
				{Name: "shared.weight", Shape: []int{32000, 64}, Role: "embedding"},
				{Name: "kiln.weight", Shape: []int{64, 64}}, // "ln" only as a whole token
				{Name: "conv1.weight", Shape: []int{64, 3, 3, 3}},
				{Name: "gin.eps", Shape: []int{1}, Role: "weight"},
			},
			decay: []string{"conv1.weight", "gin.eps", "kiln.weight"},
			noDecay: []string{"bn2.running_scale", "encoder.LayerNorm.weight", "encoder.layer_norm_1.gamma",
				"ln_f.weight", "pos_embed", "shared.weight"},
			wantGroupsInOrder: []string{"decay", "no_decay"},
		},
		{
			name:              "only matrices",
			params:            []ParamInfo{{Name: "w", Shape: []int{2, 2}}},
			decay:             []string{"w"},
			wantGroupsInOrder: []string{"decay"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			gs := DefaultGroups(c.params)
			var order []string
			for _, g := range gs {
				order = append(order, g.Name)
				switch g.Name {
				case GroupDecay:
					if g.WDMultiplier != 1 || g.LRMultiplier != 1 {
						t.Errorf("decay multipliers %v %v", g.LRMultiplier, g.WDMultiplier)
					}
				case GroupNoDecay:
					if g.WDMultiplier != 0 || g.LRMultiplier != 1 {
						t.Errorf("no_decay multipliers %v %v", g.LRMultiplier, g.WDMultiplier)
					}
				}
			}
			if !reflect.DeepEqual(order, c.wantGroupsInOrder) {
				t.Errorf("groups %v, want %v", order, c.wantGroupsInOrder)
			}
			n := names(gs)
			if !reflect.DeepEqual(n[GroupDecay], c.decay) {
				t.Errorf("decay %v, want %v", n[GroupDecay], c.decay)
			}
			if !reflect.DeepEqual(n[GroupNoDecay], c.noDecay) {
				t.Errorf("no_decay %v, want %v", n[GroupNoDecay], c.noDecay)
			}
		})
	}
}

// Segmentation-style groups: backbone (lr ×0.1) / head by rules, intersected with the
// decay split, as FOB's merge_parameter_splits.
func TestRulesAndMerge(t *testing.T) {
	params := []ParamInfo{
		{Name: "segformer.encoder.patch_embeddings.0.proj.weight", Shape: []int{32, 3, 7, 7}},
		{Name: "segformer.encoder.patch_embeddings.0.proj.bias", Shape: []int{32}},
		{Name: "segformer.encoder.layer_norm.0.weight", Shape: []int{32}},
		{Name: "segformer.encoder.block.0.0.attention.self.query.weight", Shape: []int{32, 32}},
		{Name: "decode_head.linear_fuse.weight", Shape: []int{256, 1024, 1, 1}},
		{Name: "decode_head.batch_norm.weight", Shape: []int{256}},
		{Name: "decode_head.classifier.bias", Shape: []int{150}},
	}
	split1 := GroupsByRules(params, []Rule{
		{Match: "segformer.*", Group: "backbone", LRMultiplier: ptr(0.1)},
		{Match: "re:^decode_head\\.", Group: "head"},
	}, func(ParamInfo) string { return "other" })
	if len(split1) != 2 || split1[0].Name != "backbone" || split1[0].LRMultiplier != 0.1 || split1[1].Name != "head" || split1[1].LRMultiplier != 1 {
		t.Fatalf("split1 = %+v", split1)
	}
	merged := MergeGroups(split1, DefaultGroups(params))
	type g struct {
		name   string
		lr, wd float64
		params []string
	}
	var got []g
	for _, m := range merged {
		got = append(got, g{m.Name, m.LRMultiplier, m.WDMultiplier, m.Params})
	}
	want := []g{
		{"backbone_decay", 0.1, 1, []string{"segformer.encoder.block.0.0.attention.self.query.weight", "segformer.encoder.patch_embeddings.0.proj.weight"}},
		{"backbone_no_decay", 0.1, 0, []string{"segformer.encoder.layer_norm.0.weight", "segformer.encoder.patch_embeddings.0.proj.bias"}},
		{"head_decay", 1, 1, []string{"decode_head.linear_fuse.weight"}},
		{"head_no_decay", 1, 0, []string{"decode_head.batch_norm.weight", "decode_head.classifier.bias"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged\n got %+v\nwant %+v", got, want)
	}
	var all []string
	for _, p := range params {
		all = append(all, p.Name)
	}
	idx, err := AssignGroups(merged, all)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(idx, []int{0, 1, 1, 0, 2, 3, 3}) {
		t.Errorf("AssignGroups = %v", idx)
	}
}

func TestGroupsByRulesFallbackAndMultipliers(t *testing.T) {
	params := []ParamInfo{
		{Name: "num_embeddings.weight", Shape: []int{8, 16}},
		{Name: "blocks.0.linear.weight", Shape: []int{16, 16}},
		{Name: "blocks.0.linear.bias", Shape: []int{16}},
		{Name: "blocks.0.ffn_normalization.weight", Shape: []int{16}},
		{Name: "head.weight", Shape: []int{1, 16}},
	}
	// Tabular-style rules: embeddings and biases without decay; the rest by the default rule,
	// except that this task wants its *_normalization weights decayed.
	gs := GroupsByRules(params, []Rule{
		{Match: "num_embeddings.*", Group: GroupNoDecay},
		{Match: "*.bias", Group: GroupNoDecay},
		{Match: "*_normalization.weight", Group: GroupDecay, WDMultiplier: ptr(1)},
		{Match: "head.*", Group: "head", LRMultiplier: ptr(2), WDMultiplier: ptr(0.5)},
	}, nil)
	got := map[string]Group{}
	for _, g := range gs {
		got[g.Name] = g
	}
	if g := got[GroupNoDecay]; g.WDMultiplier != 0 || !reflect.DeepEqual(g.Params, []string{"blocks.0.linear.bias", "num_embeddings.weight"}) {
		t.Errorf("no_decay = %+v", g)
	}
	if g := got[GroupDecay]; g.WDMultiplier != 1 || !reflect.DeepEqual(g.Params, []string{"blocks.0.ffn_normalization.weight", "blocks.0.linear.weight"}) {
		t.Errorf("decay = %+v", g)
	}
	if g := got["head"]; g.LRMultiplier != 2 || g.WDMultiplier != 0.5 || !reflect.DeepEqual(g.Params, []string{"head.weight"}) {
		t.Errorf("head = %+v", g)
	}
	if gs[0].Name != GroupNoDecay || gs[1].Name != GroupDecay || gs[2].Name != "head" {
		t.Errorf("order %v %v %v, want rule order", gs[0].Name, gs[1].Name, gs[2].Name)
	}
}

func TestRuleErrors(t *testing.T) {
	for _, c := range []struct {
		rule Rule
		want string
	}{
		{Rule{Match: "re:([", Group: "g"}, "bad regular expression"},
		{Rule{Match: "*", Group: ""}, "empty group name"},
		{Rule{Match: "*", Group: "g", LRMultiplier: ptr(-1)}, "lr multiplier -1 is negative"},
		{Rule{Match: "*", Group: "g", WDMultiplier: ptr(-0.5)}, "weight decay multiplier -0.5"},
	} {
		err := ValidateRules([]Rule{c.rule})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.rule, err, c.want)
		}
	}
	if err := ValidateRules([]Rule{{Match: "a.*", Group: "g"}}); err != nil {
		t.Errorf("valid rule rejected: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("GroupsByRules accepted an invalid rule")
		}
	}()
	GroupsByRules(nil, []Rule{{Match: "re:(", Group: "g"}}, nil)
}

func TestAssignGroupsErrors(t *testing.T) {
	gs := []Group{{Name: "a", Params: []string{"x", "y"}}, {Name: "b", Params: []string{"y"}}}
	if _, err := AssignGroups(gs, []string{"x", "y"}); err == nil || !strings.Contains(err.Error(), `"y" is in groups "a" and "b"`) {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := AssignGroups(gs[:1], []string{"x", "z"}); err == nil || !strings.Contains(err.Error(), "in no group: z") {
		t.Errorf("missing: %v", err)
	}
}

func TestEscapeName(t *testing.T) {
	seen := map[string]string{}
	for _, n := range []string{"fc1.weight", "/layer/w", "_layer_w", "%2Flayer%2Fw", "onnx::MatMul_12", ""} {
		e := EscapeName(n)
		if strings.Contains(e, "/") || e == "" {
			t.Errorf("EscapeName(%q) = %q", n, e)
		}
		if prev, dup := seen[e]; dup {
			t.Errorf("EscapeName(%q) = EscapeName(%q) = %q", n, prev, e)
		}
		seen[e] = n
	}
}
