package experiment_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/fob-go/fob/train/experiment"
)

func TestEngineView(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "")
	t.Setenv("FOB_DATA_MIRROR", "")
	wd, _ := filepath.Abs(".")
	for _, tc := range []struct {
		name  string
		text  string
		env   map[string]string
		check func(t *testing.T, e experiment.EngineConfig)
	}{
		{"defaults", "task: mnist\n", nil, func(t *testing.T, e experiment.EngineConfig) {
			if e.Devices != 1 || e.Seed != 42 || e.Workers != 16 || !e.Train || !e.Test || e.Validate || !e.Plot {
				t.Errorf("%+v", e)
			}
			if e.Backend != "go" || e.DataMirror != "" || e.Deterministic != "warn" || e.Precision != "bf16-mixed" {
				t.Errorf("backend %q mirror %q deterministic %q precision %q", e.Backend, e.DataMirror, e.Deterministic, e.Precision)
			}
			if e.EarlyStopping != nil || e.EarlyStoppingMetric != "val_acc" || e.GradientClipVal != nil || e.LogExtra != nil {
				t.Errorf("early stopping %v %q clip %v log_extra %v", e.EarlyStopping, e.EarlyStoppingMetric, e.GradientClipVal, e.LogExtra)
			}
			if e.DataDir != filepath.Join(wd, "data") || e.OutputDir != filepath.Join(wd, "experiments") {
				t.Errorf("data %s output %s", e.DataDir, e.OutputDir)
			}
			if e.Resume != (experiment.Resume{Enabled: true}) || e.RunScheduler.Kind != "sequential" || e.MaxSteps != nil {
				t.Errorf("resume %+v scheduler %v max_steps %v", e.Resume, e.RunScheduler, e.MaxSteps)
			}
		}},
		{"task devices", "task: classification\noptimizer: adamw_baseline\n", nil, func(t *testing.T, e experiment.EngineConfig) {
			if e.Devices != 4 || e.EarlyStoppingMetric != "val_top5_err" {
				t.Errorf("devices %d metric %s", e.Devices, e.EarlyStoppingMetric)
			}
		}},
		{"environment", "task: mnist\n", map[string]string{"GOMLX_BACKEND": "xla:cuda", "FOB_DATA_MIRROR": "/mirror"}, func(t *testing.T, e experiment.EngineConfig) {
			if e.Backend != "xla:cuda" || e.DataMirror != "/mirror" {
				t.Errorf("backend %q mirror %q", e.Backend, e.DataMirror)
			}
		}},
		{"config beats environment", "task: mnist\nengine: {backend: go, data_mirror: m}\n", map[string]string{"GOMLX_BACKEND": "xla:cuda", "FOB_DATA_MIRROR": "/mirror"}, func(t *testing.T, e experiment.EngineConfig) {
			if e.Backend != "go" || e.DataMirror != filepath.Join(wd, "m") {
				t.Errorf("backend %q mirror %q", e.Backend, e.DataMirror)
			}
		}},
		{"set values", `task: {name: mnist, max_steps: 100}
engine:
  resume: ckpt/last.onnx
  early_stopping: 5
  early_stopping_metric: val_loss
  gradient_clip_val: 1
  deterministic: false
  log_extra: true
  restrict_train_epochs: 2
  run_scheduler: single:1
  seed: 7
  sbatch_time_factor: 1.5
  sbatch_args: {partition: gpu, array: 1-4, time: 3600}
`, nil, func(t *testing.T, e experiment.EngineConfig) {
			if e.Resume != (experiment.Resume{Enabled: true, Path: filepath.Join(wd, "ckpt/last.onnx")}) {
				t.Errorf("resume %+v", e.Resume)
			}
			if *e.EarlyStopping != 5 || e.EarlyStoppingMetric != "val_loss" || *e.GradientClipVal != 1 || e.Deterministic != "false" {
				t.Errorf("%v %q %v %q", *e.EarlyStopping, e.EarlyStoppingMetric, *e.GradientClipVal, e.Deterministic)
			}
			if e.LogExtra == nil || *e.RestrictTrainEpochs != 2 || e.RunScheduler != (experiment.Scheduler{Kind: "single", N: 1}) || e.Seed != 7 {
				t.Errorf("log_extra %v restrict %v scheduler %v seed %d", e.LogExtra, *e.RestrictTrainEpochs, e.RunScheduler, e.Seed)
			}
			if e.MaxSteps == nil || *e.MaxSteps != 100 || e.SbatchTimeFactor != 1.5 {
				t.Errorf("max_steps %v factor %v", e.MaxSteps, e.SbatchTimeFactor)
			}
			var args []string
			for _, a := range e.SbatchArgs {
				args = append(args, a.Key+"="+a.Value)
			}
			// Engine-default keys first (time keeps its place), then the others sorted.
			if got := strings.Join(args, " "); got != "nodes=1 mem-per-cpu=2gb time=3600 array=1-4 partition=gpu" {
				t.Errorf("sbatch args %s", got)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			exp, err := parseText(t, tc.text)
			if err != nil {
				t.Fatal(err)
			}
			e, err := experiment.Engine(exp.Runs[0].Config)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, e)
		})
	}
}

func TestTaskView(t *testing.T) {
	exp, err := parseText(t, "task: [mnist, {name: tabular, output_dir_name: tab}]\nengine: {data_dir: d, workers: 2}\n")
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := filepath.Abs(".")
	for i, want := range []experiment.TaskConfig{
		{Name: "mnist", OutputDirName: "mnist", BatchSize: 512, MaxEpochs: 30, TargetMetric: "val_acc", TargetMetricMode: "max", DataDir: filepath.Join(wd, "d"), Workers: 2},
		{Name: "tabular", OutputDirName: "tab", BatchSize: 256, MaxEpochs: 50, TargetMetric: "val_loss", TargetMetricMode: "min", DataDir: filepath.Join(wd, "d"), Workers: 2},
	} {
		got, err := experiment.Task(exp.Runs[i].Config)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("run %d: %+v\nwant %+v", i+1, got, want)
		}
	}
	r := exp.Runs[0]
	r.SetMaxSteps(3240)
	if got, _ := experiment.Task(r.Config); got.MaxSteps == nil || *got.MaxSteps != 3240 {
		t.Errorf("max_steps after SetMaxSteps: %v", got.MaxSteps)
	}
	if name := experiment.RunName(r.Config, r.Default); name != "default" {
		t.Errorf("task.max_steps must not change the folder name, got %s", name)
	}
}

func TestMaxSteps(t *testing.T) {
	for _, tc := range []struct{ n, batch, devices, epochs, want int }{
		{55000, 512, 1, 30, 3240},     // mnist
		{13209, 256, 1, 50, 2600},     // tabular
		{50000, 128, 1, 50, 19550},    // classification_small
		{1281167, 512, 4, 80, 50080},  // classification
		{32901, 128, 1, 100, 25800},   // graph
		{1, 1, 1, 50, 50},             // graph_tiny
		{80, 10, 1, 15, 120},          // template
		{5864155, 128, 4, 12, 137448}, // translation
	} {
		if got := experiment.MaxSteps(tc.n, tc.batch, tc.devices, tc.epochs); got != tc.want {
			t.Errorf("MaxSteps(%d, %d, %d, %d) = %d, want %d", tc.n, tc.batch, tc.devices, tc.epochs, got, tc.want)
		}
	}
}

func TestParseScheduler(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want experiment.Scheduler
		ok   bool
	}{
		{"sequential", experiment.Scheduler{Kind: "sequential"}, true},
		{"single:12", experiment.Scheduler{Kind: "single", N: 12}, true},
		{"slurm_array", experiment.Scheduler{Kind: "slurm_array"}, true},
		{"slurm_jobs", experiment.Scheduler{Kind: "slurm_jobs"}, true},
		{"single:0", experiment.Scheduler{}, false},
		{"single:x", experiment.Scheduler{}, false},
		{"single", experiment.Scheduler{}, false},
		{"parallel", experiment.Scheduler{}, false},
	} {
		got, err := experiment.ParseScheduler(tc.s)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseScheduler(%q) = %+v, %v", tc.s, got, err)
		}
	}
}
