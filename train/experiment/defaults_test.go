package experiment_test

import (
	"testing"

	"github.com/fob-go/fob/train/config"
)

// TestTaskDefaults checks every task's default.yaml against the task table of docs/fob-behaviour.md §5.1 and the
// model settings of §5.2-5.11.
func TestTaskDefaults(t *testing.T) {
	cat := testCatalog(t)
	for _, tc := range []struct {
		task   string
		values map[string]any
	}{
		{"mnist", map[string]any{"task.batch_size": 512, "task.max_epochs": 30, "engine.devices": 1, "engine.sbatch_args.time": "00:05:00",
			"task.target_metric": "val_acc", "task.target_metric_mode": "max", "evaluation.plot.metric": "test_acc",
			"evaluation.plot.test_metric_mode": "max", "evaluation.plot.format": "2.2", "evaluation.plot.limits": []any{85, 100},
			"optimizer.name": "adamw_baseline", "optimizer.learning_rate": 0.01, "optimizer.weight_decay": 0.1,
			"task.model.num_hidden": 128, "task.model.activation": "Sigmoid"}},
		{"classification", map[string]any{"task.batch_size": 512, "task.max_epochs": 80, "engine.devices": 4, "engine.sbatch_args.time": "05:00:00",
			"task.target_metric": "val_top5_err", "task.target_metric_mode": "min", "evaluation.plot.metric": "test_top1_acc",
			"evaluation.plot.test_metric_mode": "max", "evaluation.plot.format": "2.2", "evaluation.plot.limits": []any{55, 72},
			"optimizer.name": "adamw_baseline", "optimizer.weight_decay": 1.0, "task.model.name": "wide_resnet50_2", "task.label_smoothing": 0.0}},
		{"classification_small", map[string]any{"task.batch_size": 128, "task.max_epochs": 50, "engine.devices": 1, "engine.sbatch_args.time": "00:15:00",
			"task.target_metric": "val_acc", "task.target_metric_mode": "max", "evaluation.plot.metric": "test_acc",
			"evaluation.plot.test_metric_mode": "max", "evaluation.plot.format": "2.2", "evaluation.plot.limits": []any{60, 80},
			"optimizer.name": "adamw_baseline", "optimizer.learning_rate": 0.01, "optimizer.weight_decay": 0.1,
			"task.model.hidden_channel": 64, "task.model.maxpool": false}},
		{"segmentation", map[string]any{"task.batch_size": 16, "task.max_epochs": 32, "engine.devices": 4, "engine.sbatch_args.time": "05:00:00",
			"task.target_metric": "val_mIoU", "task.target_metric_mode": "max", "evaluation.plot.metric": "test_mIoU",
			"evaluation.plot.test_metric_mode": "max", "evaluation.plot.format": "0.2", "evaluation.plot.limits": []any{30, 38},
			"optimizer.name": "adamw_baseline", "task.model.name": "nvidia/mit-b0"}},
		{"graph", map[string]any{"task.batch_size": 128, "task.max_epochs": 100, "engine.devices": 1, "engine.sbatch_args.time": "00:30:00",
			"task.target_metric": "val_rocauc", "task.target_metric_mode": "max", "evaluation.plot.metric": "test_rocauc",
			"evaluation.plot.test_metric_mode": "max", "evaluation.plot.format": "2.2", "evaluation.plot.limits": []any{65, 80},
			"optimizer.name": "adamw_baseline", "optimizer.weight_decay": 0, "optimizer.lr_scheduler.eta_min_factor": 1.0,
			"task.model.hidden_channels": 300, "task.model.num_layers": 5}},
		{"graph_tiny", map[string]any{"task.batch_size": 1, "task.max_epochs": 50, "engine.devices": 1, "engine.sbatch_args.time": "00:05:00",
			"task.target_metric": "val_acc", "task.target_metric_mode": "max", "evaluation.plot.metric": "test_acc",
			"evaluation.plot.test_metric_mode": "max", "evaluation.plot.format": "2.2", "evaluation.plot.limits": []any{70, 85},
			"optimizer.name": "adamw_baseline", "optimizer.learning_rate": 0.1, "optimizer.weight_decay": 0.001,
			"task.dataset_split": "public", "task.model.hidden_channels": 64, "task.model.num_layers": 2, "task.model.dropout": 0.5,
			"task.model.cached": false, "task.model.normalize": true, "task.model.reset_params": false}},
		{"tabular", map[string]any{"task.batch_size": 256, "task.max_epochs": 50, "engine.devices": 1, "engine.sbatch_args.time": "00:05:00",
			"task.target_metric": "val_loss", "task.target_metric_mode": "min", "evaluation.plot.metric": "test_rmse",
			"evaluation.plot.test_metric_mode": "min", "evaluation.plot.format": "0.3", "evaluation.plot.limits": []any{0.38, 0.48},
			"optimizer.name": "adamw_baseline", "task.model.n_blocks": 3, "task.train_transforms.normalizer": "quantile",
			"task.train_transforms.noise": 0.001, "task.train_size": 13209, "task.val_size": 3303, "task.test_size": 4128}},
		{"translation", map[string]any{"task.batch_size": 128, "task.max_epochs": 12, "engine.devices": 4, "engine.sbatch_args.time": "07:00:00",
			"task.target_metric": "val_loss", "task.target_metric_mode": "min", "evaluation.plot.metric": "test_bleu",
			"evaluation.plot.test_metric_mode": "max", "evaluation.plot.format": "0.2", "evaluation.plot.limits": []any{20, 34},
			"optimizer.name": "adamw_baseline", "optimizer.learning_rate": 0.001, "optimizer.weight_decay": 0.1,
			"optimizer.epsilon": 1e-9, "optimizer.beta2": 0.98, "task.model.translation_direction": "en-de"}},
		{"detection", map[string]any{"task.batch_size": 8, "task.max_epochs": 26, "engine.devices": 4, "engine.sbatch_args.time": "05:00:00",
			"task.target_metric": "val_AP", "task.target_metric_mode": "max", "evaluation.plot.metric": "test_AP",
			"evaluation.plot.test_metric_mode": "max", "evaluation.plot.format": "2.1", "evaluation.plot.limits": []any{0, 100},
			"task.model.pretrained": true}},
		{"template", map[string]any{"task.batch_size": 10, "task.max_epochs": 15, "engine.devices": 1, "engine.sbatch_args.time": "00:05:00",
			"task.target_metric": "val_loss", "task.target_metric_mode": "min", "evaluation.plot.metric": "test_loss",
			"evaluation.plot.test_metric_mode": "min", "evaluation.plot.format": "2.1", "evaluation.plot.limits": []any{0, 100},
			"optimizer.name": "adamw_baseline", "optimizer.learning_rate": 0.001, "task.dataset_split_lengths": []any{80, 10, 10},
			"task.model.hidden_channels": 10, "task.model.activation": "relu"}},
	} {
		data, err := cat.TaskDefault(tc.task)
		if err != nil {
			t.Fatal(err)
		}
		m, err := config.ParseMap(data, tc.task)
		if err != nil {
			t.Fatal(err)
		}
		for _, common := range []string{"task.name", "task.output_dir_name"} {
			if got, _ := config.String(m, common); got != tc.task {
				t.Errorf("%s: %s = %q", tc.task, common, got)
			}
		}
		if v, ok := config.Get(m, "task.max_steps"); !ok || v != nil {
			t.Errorf("%s: task.max_steps must be present and null", tc.task)
		}
		for path, want := range tc.values {
			got, ok := config.Get(m, path)
			if !ok || !config.Equal(got, want) {
				t.Errorf("%s: %s = %s, want %s", tc.task, path, config.PyRepr(got), config.PyRepr(want))
			}
		}
		if tc.task == "detection" {
			if _, ok := m["optimizer"]; ok {
				t.Error("detection must have no default optimizer")
			}
		}
	}
}
