package experiment_test

import (
	"strings"
	"testing"
)

// TestUnknownTaskAndEvaluationKeys: a key that the task's default.yaml (or the evaluation
// defaults) does not have is an error naming where it was written, the dotted key, the valid
// keys and the closest one, from a file and from the command line alike. task.max_epoch=1
// used to train the default 30 epochs without a word.
func TestUnknownTaskAndEvaluationKeys(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		overrides  []string
		want       []string // substrings of the error; none: no error
	}{
		{"override", "task: mnist\n", []string{"task.max_epoch=1"},
			[]string{`command-line argument "task.max_epoch=1": task.max_epoch: unknown key of task mnist; valid keys: batch_size, max_epochs, max_steps, model, name, output_dir_name, target_metric, target_metric_mode (did you mean max_epochs?)`}},
		{"file", "task:\n  name: mnist\n  max_epoch: 1\n", nil,
			[]string{"exp.yaml:3: task.max_epoch: unknown key of task mnist", "did you mean max_epochs?"}},
		{"model key", "task:\n  name: tabular\n  model:\n    num_hidden: 42\n", nil,
			[]string{"exp.yaml:4: task.model.num_hidden: unknown key of task tabular under task.model; valid keys: n_blocks, onnx"}},
		{"model key override", "task: mnist\n", []string{"task.model.num_hiden=3"},
			[]string{"task.model.num_hiden: unknown key of task mnist under task.model; valid keys: activation, num_hidden, onnx (did you mean num_hidden?)"}},
		{"nested", "task:\n  name: tabular\n  train_transforms: {normaliser: standard}\n", nil,
			[]string{"exp.yaml:3: task.train_transforms.normaliser: unknown key of task tabular under task.train_transforms; valid keys: noise, normalizer (did you mean normalizer?)"}},
		{"in a grid axis of maps", "task:\n  name: mnist\n  model: [{num_hidden: 64}, {hidden: 32}]\n", nil,
			[]string{"task.model.hidden: unknown key of task mnist under task.model"}},
		{"valid for one task of a list only", "task:\n  name: [mnist, tabular]\n  model: {num_hidden: 64}\n", nil,
			[]string{"task.model.num_hidden: unknown key of task tabular"}},
		{"named dict", "task:\n  mnist: {max_epochs: 1}\n  tabular: {max_epoch: 1}\n", nil,
			[]string{"exp.yaml:3: task.max_epoch: unknown key of task tabular"}},
		{"list entry", "task:\n  - mnist\n  - {name: template, hidden_channels: 4}\n", nil,
			[]string{"task.hidden_channels: unknown key of task template"}},
		{"evaluation", "task: mnist\nevaluation:\n  plot:\n    metrc: test_loss\n", nil,
			[]string{"exp.yaml:4: evaluation.plot.metrc: unknown evaluation key under evaluation.plot; valid keys: aggfunc, format, limits, metric,", "(did you mean metric?)"}},
		{"evaluation top", "task: mnist\n", []string{"evaluation.output_types=[png]", "evaluation.outputs=x"},
			[]string{`command-line argument "evaluation.outputs=x": evaluation.outputs: unknown evaluation key; valid keys: aggregate_groups, checkpoints,`}},
		// Valid keys: the task's own, the generic ones, what task defaults add to evaluation.
		{"valid", "task:\n  name: tabular\n  output_dir_name: tab\n  max_steps: 10\n  model: {n_blocks: 2, onnx: null}\n  train_transforms: {normalizer: standard}\n" +
			"evaluation:\n  plot: {test_metric_mode: max, metric: test_rmse}\n  plotstyle: {font: {size: 9}}\n", []string{"task.model.onnx=/tmp/m.onnx"}, nil},
		{"value maps are not checked", "task:\n  name: template\n  dataset_split_lengths: !literal [70, 20, 10]\n", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseText(t, tc.text, tc.overrides...)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
}
