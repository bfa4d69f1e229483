package experiment_test

import (
	"strings"
	"testing"

	"github.com/fob-go/fob/train/experiment"
)

// TestSafeName: plain names are kept as they are (FOB's names); anything that is not one folder
// name becomes one, with a hash of the original so that different values keep apart.
func TestSafeName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"default", "default"},
		{"tabular_quantile", "tabular_quantile"},
		{"engine.seed=1,optimizer.learning_rate=0.001", "engine.seed=1,optimizer.learning_rate=0.001"},
		{"task.dataset_split_lengths=[70, 20, 10]", "task.dataset_split_lengths=[70, 20, 10]"},
		{"a..b", "a..b"},
		{"a/b", "a_b~"},
		{`a\b`, "a_b~"},
		{"../../etc", "___.._etc~"}, // ".." inside a name is harmless
		{"..", "__~"},
		{".", "_~"},
		{".hidden", "_hidden~"},
		{"", "_~"},
		{"a\x00b", "a_b~"},
		{"a\nb\tc\x7f", "a_b_c_~"},
		{"\xff\xfe", "_~"},
		{strings.Repeat("é", 200), strings.Repeat("é", 123) + "~"},
	} {
		got := experiment.SafeName(tc.in)
		if tc.want == tc.in {
			if got != tc.in {
				t.Errorf("SafeName(%q) = %q, want it unchanged", tc.in, got)
			}
			continue
		}
		// Changed names end in ~ and eight hex digits.
		if !strings.HasPrefix(got, tc.want) || len(got) != len(tc.want)+8 || len(got) > 255 {
			t.Errorf("SafeName(%q) = %q, want %q + 8 hex digits", tc.in, got, tc.want)
		}
	}
	if experiment.SafeName("a/b") == experiment.SafeName("a_b") || experiment.SafeName("a/b") == experiment.SafeName(`a\b`) {
		t.Error("different values share a folder")
	}
}

// TestRunFoldersStayInOutputDir: task and optimizer output_dir_name, values with path
// separators (of known or external-model keys) and control characters never place a run
// outside engine.output_dir or in nested folders; every run folder is exactly three plain
// names below it.
func TestRunFoldersStayInOutputDir(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		overrides  []string
		want       string // the folder relative to output_dir ("" = only check the shape)
	}{
		{"task output_dir_name", "task: {name: mnist, output_dir_name: ../../escape}\n", nil, ""},
		{"absolute output_dir_name", "task: mnist\noptimizer: {name: template, output_dir_name: /etc}\n", nil, ""},
		{"dot names", "task: {name: mnist, output_dir_name: ..}\noptimizer: {name: template, output_dir_name: .}\n", nil, ""},
		{"empty name", "task: {name: mnist, output_dir_name: ''}\n", nil, ""},
		{"value with slashes", "task: mnist\n", []string{"task.model.activation=../../../x"}, ""},
		{"segmentation-style model name", "task: segmentation\noptimizer: adamw_baseline\n", []string{"task.model.name=nvidia/mit-b1"}, ""},
		{"newline", "task: mnist\n", []string{`task.model.activation="a\nb"`}, ""},
		{"external model", "task: mnist\n", []string{"task.model.onnx=/home/me/models/my_mlp.onnx"}, "mnist/adamw_baseline/task.model.onnx=my_mlp.onnx~"},
		{"external model, windows path", "task: mnist\n", []string{`task.model.onnx='C:\models\my_mlp.onnx'`}, "mnist/adamw_baseline/task.model.onnx=my_mlp.onnx~"},
		{"external model, relative", "task: mnist\n", []string{"task.model.onnx=my_mlp.onnx"}, "mnist/adamw_baseline/task.model.onnx=my_mlp.onnx"},
		{"long multibyte value", "task: mnist\n", []string{"task.model.activation=" + strings.Repeat("é", 150)}, ""},
		{"normal names unchanged", "task: {name: tabular, output_dir_name: tabular_quantile}\noptimizer: {name: adamw_baseline, learning_rate: 0.01}\n", nil,
			"tabular_quantile/adamw_baseline/optimizer.learning_rate=0.01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp, err := parseText(t, tc.text, tc.overrides...)
			if err != nil {
				t.Fatal(err)
			}
			rel := relDir(t, exp.Runs[0])
			parts := strings.Split(rel, "/")
			if len(parts) != 3 {
				t.Fatalf("folder %q is not three names below output_dir", rel)
			}
			for _, p := range parts {
				if p != experiment.SafeName(p) || len(p) > 255 {
					t.Errorf("folder %q: %q is not a plain name", rel, p)
				}
			}
			if tc.want != "" && !strings.HasPrefix(rel, tc.want) {
				t.Errorf("folder %q, want %q", rel, tc.want)
			}
			if tc.want != "" && strings.HasSuffix(tc.want, "~") && len(rel) != len(tc.want)+8 {
				t.Errorf("folder %q, want %q + 8 hex digits", rel, tc.want)
			}
		})
	}
	// Two models with the same base name get different folders.
	a, _ := parseText(t, "task: mnist\n", "task.model.onnx=/a/m.onnx")
	b, _ := parseText(t, "task: mnist\n", "task.model.onnx=/b/m.onnx")
	if a == nil || b == nil || a.Runs[0].Dir == b.Runs[0].Dir {
		t.Error("models /a/m.onnx and /b/m.onnx share a run folder")
	}
}
