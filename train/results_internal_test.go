package train

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/fob-go/fob/tasks/template"
	"github.com/fob-go/fob/train/experiment"
	_ "github.com/fob-go/fob/train/optim/adamw_baseline"
)

// TestFinishedNeedsEveryResult: a run counts as finished only with every file it should have.
// Before, a run with results_final_model.json but no results_best_model.json (stopped between
// the two writes) was skipped as finished for good.
func TestFinishedNeedsEveryResult(t *testing.T) {
	const (
		timingDone = `{"finished": true}`
		timingOpen = `{"finished": false}`
	)
	for _, tc := range []struct {
		name      string
		overrides []string
		files     map[string]string
		want      bool
	}{
		{"everything", nil, map[string]string{TimingFile: timingDone, ResultsLast: "[]", ResultsBest: "[]", "checkpoints/best.onnx": "", ScoresFile: "{}"}, true},
		{"no best results though a best checkpoint", nil, map[string]string{TimingFile: timingDone, ResultsLast: "[]", "checkpoints/best.onnx": "", ScoresFile: "{}"}, false},
		{"no best checkpoint, so no best results", nil, map[string]string{TimingFile: timingDone, ResultsLast: "[]", ScoresFile: "{}"}, true},
		{"no final results", nil, map[string]string{TimingFile: timingDone, ResultsBest: "[]", "checkpoints/best.onnx": "", ScoresFile: "{}"}, false},
		{"no scores", nil, map[string]string{TimingFile: timingDone, ResultsLast: "[]", ResultsBest: "[]", "checkpoints/best.onnx": ""}, false},
		{"training unfinished", nil, map[string]string{TimingFile: timingOpen, ResultsLast: "[]", ResultsBest: "[]", "checkpoints/best.onnx": "", ScoresFile: "{}"}, false},
		{"no test asked", []string{"engine.test=false"}, map[string]string{TimingFile: timingDone, "checkpoints/best.onnx": "", ScoresFile: "{}"}, true},
		{"validation asked, not in scores", []string{"engine.validate=true"}, map[string]string{TimingFile: timingDone, ResultsLast: "[]", ScoresFile: "{}"}, false},
		{"validation asked and done", []string{"engine.validate=true"}, map[string]string{TimingFile: timingDone, ResultsLast: "[]", ScoresFile: `{"validation": [{"val_loss": 1}]}`}, true},
		{"dry run", []string{"engine.train=false", "engine.test=false"}, map[string]string{TimingFile: timingDone, ScoresFile: "{}"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := templateExperiment(t, t.TempDir(), tc.overrides...).Runs[0]
			for name, content := range tc.files {
				p := filepath.Join(run.Dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := finished(run); got != tc.want {
				t.Errorf("finished = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestStoppedBetweenResultFiles: the best model's results are written before the final
// model's, and a run stopped between the two is tested again by the next `fob run` instead of
// being skipped without results_best_model.json.
func TestStoppedBetweenResultFiles(t *testing.T) {
	exp := templateExperiment(t, t.TempDir(), "task.max_epochs=2")
	run := exp.Runs[0]
	var order []string
	stop := errors.New("stopped between the result files")
	resultWriter = func(path string, m map[string]float64) error {
		order = append(order, filepath.Base(path))
		if filepath.Base(path) == ResultsLast {
			return stop
		}
		return writeResults(path, m)
	}
	defer func() { resultWriter = writeResults }()
	o := Options{Progress: discardWriter{}, Log: slog.New(slog.NewTextHandler(discardWriter{}, nil))}
	out, err := Execute(context.Background(), exp, o)
	if err != nil || len(out) != 1 || !errors.Is(out[0].Err, stop) {
		t.Fatalf("first pass: %v %+v", err, out)
	}
	if strings.Join(order, ",") != ResultsBest+","+ResultsLast {
		t.Errorf("result files written in the order %v, want %s first", order, ResultsBest)
	}
	resultWriter = writeResults
	out, err = Execute(context.Background(), exp, o)
	if err != nil || out[0].Err != nil || out[0].Skipped != "" {
		t.Fatalf("second pass: %v %+v (want the run tested again)", err, out)
	}
	for _, f := range []string{ResultsBest, ResultsLast, ScoresFile} {
		if _, err := os.Stat(filepath.Join(run.Dir, f)); err != nil {
			t.Errorf("after the second pass: %v", err)
		}
	}
	if out, _ = Execute(context.Background(), exp, o); !strings.HasPrefix(out[0].Skipped, "finished") {
		t.Errorf("third pass: %+v, want skipped as finished", out[0])
	}
}

// templateExperiment resolves a one-run template experiment (8 steps an epoch) into dir.
func templateExperiment(t *testing.T, dir string, extra ...string) *experiment.Experiment {
	t.Helper()
	exp, err := experiment.ParseBytes([]byte("{}"), "test", append([]string{"task.name=template", "optimizer.name=adamw_baseline",
		"engine.output_dir=" + dir, "engine.silent=true", "engine.plot=false"}, extra...), experiment.RegistryCatalog())
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

type discardWriter struct{}

func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
