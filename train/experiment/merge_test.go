package experiment_test

import (
	"testing"

	"github.com/fob-go/fob/train/config"
)

// TestTaskOptimizerSettings: the merge order is engine and lr-scheduler defaults < optimizer
// default < task default < experiment < command line, so the optimizer settings a task's
// default.yaml writes (mnist: learning_rate 0.01, weight_decay 0.1; graph: eta_min_factor 1.0)
// apply to whatever optimizer runs, as FOB intends; every key the task does not write keeps the
// optimizer's own default, and the user's values beat both. Documented in
// docs/fob-behaviour.md §1.1 and train/experiment/README.md.
func TestTaskOptimizerSettings(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		overrides  []string
		want       map[string]any
	}{
		{"task keys over lion's", "task: mnist\noptimizer: lion\n", nil, map[string]any{
			"optimizer.learning_rate":          0.01, // mnist, not lion's 1e-4
			"optimizer.weight_decay":           0.1,  // mnist, not lion's 0.0
			"optimizer.beta1":                  0.9,  // lion
			"optimizer.beta2":                  0.999,
			"optimizer.decoupled_weight_decay": false,
			"optimizer.lr_scheduler.scheduler": "cosine", // lr-scheduler default
		}},
		{"task sets none", "task: tabular\noptimizer: lion\n", nil, map[string]any{
			"optimizer.learning_rate": 1e-4, // tabular writes no optimizer values: lion's own
			"optimizer.weight_decay":  0.0,
		}},
		{"nested scheduler keys merge key by key", "task: graph\noptimizer: sgd_stepwise\n", nil, map[string]any{
			"optimizer.lr_scheduler.eta_min_factor": 1.0,        // graph
			"optimizer.lr_scheduler.scheduler":      "stepwise", // sgd_stepwise
			"optimizer.lr_scheduler.interval":       "epoch",    // sgd_stepwise
			"optimizer.lr_scheduler.warmup_steps":   0,          // sgd_stepwise over the null default
			"optimizer.lr_scheduler.gamma":          0.1,        // lr-scheduler default
			"optimizer.weight_decay":                0,          // graph, not sgd_stepwise's 1e-4
			"optimizer.momentum":                    0.9,        // sgd_stepwise
		}},
		{"user beats task", "task: mnist\noptimizer: {name: lion, weight_decay: 0.5}\n", []string{"optimizer.learning_rate=3.e-4"}, map[string]any{
			"optimizer.learning_rate": 3e-4,
			"optimizer.weight_decay":  0.5,
		}},
		{"the task's optimizer name only when none is given", "task: mnist\n", nil, map[string]any{
			"optimizer.name":    "adamw_baseline",
			"optimizer.epsilon": 1e-8,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp, err := parseText(t, tc.text, tc.overrides...)
			if err != nil {
				t.Fatal(err)
			}
			for key, want := range tc.want {
				got, ok := config.Get(exp.Runs[0].Config, key)
				if !ok || !config.Equal(got, want) {
					t.Errorf("%s = %v, want %v", key, got, want)
				}
			}
		})
	}
}
