package plot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/experiment"
)

// testCatalog serves two small tasks and two optimizers so that tests parse real experiments
// without linking the task and optimizer packages.
type testCatalog struct{}

var testTasks = map[string]string{
	"mnist": `task: {name: mnist, output_dir_name: mnist, batch_size: 512, max_epochs: 30, max_steps: null,
  target_metric: val_acc, target_metric_mode: max}
engine: {devices: 1}
optimizer: {name: adamw_baseline, learning_rate: 1.0e-2, weight_decay: 0.1}
evaluation: {plot: {metric: test_acc, test_metric_mode: max, format: "2.2", limits: [85, 100]}}
`,
	"tabular": `task: {name: tabular, output_dir_name: tabular, batch_size: 128, max_epochs: 10, max_steps: null,
  target_metric: val_loss, target_metric_mode: min}
engine: {devices: 1}
optimizer: {name: adamw_baseline}
evaluation: {plot: {metric: test_rmse, test_metric_mode: min, format: "0.3", limits: [0.38, 0.48]}}
`,
}

var testOptims = map[string]string{
	"adamw_baseline": "optimizer: {name: adamw_baseline, learning_rate: 1.0e-3, weight_decay: 0.01, beta1: 0.9}\n",
	"sgd_baseline":   "optimizer: {name: sgd_baseline, learning_rate: 1.0e-3, weight_decay: 0.01, momentum: 0.9}\n",
}

func (testCatalog) TaskDefault(n string) ([]byte, error)      { return []byte(testTasks[n]), nil }
func (testCatalog) OptimizerDefault(n string) ([]byte, error) { return []byte(testOptims[n]), nil }
func (testCatalog) TaskNames() []string                       { return []string{"mnist", "tabular"} }
func (testCatalog) OptimizerNames() []string                  { return []string{"adamw_baseline", "sgd_baseline"} }
func (testCatalog) LRSchedulerDefault() []byte {
	return []byte("optimizer: {lr_scheduler: {scheduler: cosine, warmup_factor: 0.01}}\n")
}

// gridYAML is 2 optimizers × 2 learning rates × 2 weight decays × 2 seeds on mnist.
const gridYAML = `task: mnist
optimizer:
  - name: adamw_baseline
    learning_rate: [1.0e-2, 1.0e-3]
    weight_decay: [0.1, 0.01]
  - name: sgd_baseline
    learning_rate: [1.0e-2, 1.0e-3]
    weight_decay: [0.1, 0.01]
engine:
  seed: [1, 2]
  output_dir: OUT
evaluation:
  checkpoints: [best]
  output_types: [png, pdf, csv]
  plotstyle: {dpi: 40}
`

// score is the known result of a run: optimizer base + 0.02 for the larger learning rate
// + 0.005 for the smaller weight decay, ∓0.005 for seed 1 / 2 (so the seed mean is exact and
// the std is 0.01/√2). tabular scores are RMSEs around 0.4.
func score(cfg config.Map) float64 {
	v := 0.90
	if config.PyStr(config.Sub(cfg, "optimizer")["name"]) == "adamw_baseline" {
		v = 0.95
	}
	if lr, _ := config.Float(cfg, "optimizer.learning_rate"); lr == 0.01 {
		v += 0.02
	}
	if wd, _ := config.Float(cfg, "optimizer.weight_decay"); wd == 0.01 {
		v += 0.005
	}
	if seed, _ := config.Int(cfg, "engine.seed"); seed == 1 {
		v -= 0.005
	} else {
		v += 0.005
	}
	if config.PyStr(config.Sub(cfg, "task")["name"]) == "tabular" {
		v -= 0.5
	}
	return v
}

// newExperiment parses yaml (OUT replaced by a temporary folder) with overrides and writes
// every run's result files from score.
func newExperiment(t *testing.T, yaml string, overrides ...string) *experiment.Experiment {
	t.Helper()
	out := t.TempDir()
	yaml = strings.ReplaceAll(yaml, "OUT", out)
	exp, err := experiment.ParseBytes([]byte(yaml), "test.yaml", overrides, testCatalog{})
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range exp.Runs {
		v := score(run.Config)
		metric, _ := config.String(run.Config, "evaluation.plot.metric")
		writeJSON(t, filepath.Join(run.Dir, "results_best_model.json"), []map[string]float64{{metric: v, "test_loss": 0.1}})
		writeJSON(t, filepath.Join(run.Dir, "results_final_model.json"), []map[string]float64{{metric: v - 0.01, "test_loss": 0.2}})
	}
	return exp
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// figureOf loads the rows of mode and builds the figure with the first run's settings.
func figureOf(t *testing.T, exp *experiment.Experiment, mode string, logger *slog.Logger) *figure {
	t.Helper()
	if logger == nil {
		logger = quietLogger(nil)
	}
	s, err := readSettings(exp.Runs[0].Config)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := Runs(exp, mode, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := loadFont(); err != nil {
		t.Fatal(err)
	}
	fig, err := buildFigure(rows, s, logger)
	if err != nil {
		t.Fatal(err)
	}
	return fig
}

// quietLogger logs into buf (or nowhere).
func quietLogger(buf *bytes.Buffer) *slog.Logger {
	if buf == nil {
		buf = &bytes.Buffer{}
	}
	return slog.New(slog.NewTextHandler(buf, nil))
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9*math.Max(1, math.Abs(b)) }

func fmtGrid(g [][]float64) string { return fmt.Sprint(g) }
