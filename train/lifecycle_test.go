package train_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fob-go/fob/train"
	"github.com/fob-go/fob/train/experiment"
)

// template runs are tiny (8 steps per epoch), so lifecycle rules can be checked in seconds.
func templateRun(t *testing.T, dir string, extra ...string) experiment.Run {
	t.Helper()
	return resolve(t, append([]string{"task.name=template", "optimizer.name=adamw_baseline",
		"engine.output_dir=" + dir, "engine.silent=true", "engine.logging_interval=1"}, extra...)...)
}

func timing(t *testing.T, dir string) (epochs, steps int, finished bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, train.TimingFile))
	if err != nil {
		t.Fatal(err)
	}
	var tm struct {
		Epochs, Steps int
		Finished      bool
	}
	if err := json.Unmarshal(b, &tm); err != nil {
		t.Fatal(err)
	}
	return tm.Epochs, tm.Steps, tm.Finished
}

func TestRestrictTrainEpochsResumes(t *testing.T) {
	dir := t.TempDir()
	run := templateRun(t, dir, "task.max_epochs=5", "engine.restrict_train_epochs=2", "engine.test=false")
	ctx := context.Background()
	for i, want := range []int{2, 4, 5} {
		if _, err := train.Run(ctx, run.Config, run.Dir, quiet()); err != nil {
			t.Fatal(err)
		}
		epochs, steps, finished := timing(t, run.Dir)
		if epochs != want || steps != want*8 || finished != (want == 5) {
			t.Errorf("invocation %d: epochs %d steps %d finished %v, want %d epochs", i+1, epochs, steps, finished, want)
		}
	}
}

func TestEarlyStopping(t *testing.T) {
	dir := t.TempDir()
	// A learning rate of 0 never improves val_loss after the first epoch: patience 2 stops at 3.
	run := templateRun(t, dir, "task.max_epochs=10", "engine.early_stopping=2", "optimizer.learning_rate=0",
		"engine.test=false")
	if _, err := train.Run(context.Background(), run.Config, run.Dir, quiet()); err != nil {
		t.Fatal(err)
	}
	if epochs, _, finished := timing(t, run.Dir); epochs != 3 || !finished {
		t.Errorf("stopped after %d epochs (finished %v), want 3", epochs, finished)
	}
}

func TestResumeFromPathAndValidate(t *testing.T) {
	dir := t.TempDir()
	first := templateRun(t, dir, "task.max_epochs=2", "engine.test=false")
	if _, err := train.Run(context.Background(), first.Config, first.Dir, quiet()); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(first.Dir, "checkpoints", "last.onnx")
	// A new run folder starting from another run's checkpoint continues from its epoch 2.
	second := templateRun(t, dir, "task.max_epochs=3", "engine.resume="+ckpt, "engine.validate=true", "engine.seed=5")
	scores, err := train.Run(context.Background(), second.Config, second.Dir, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if epochs, steps, _ := timing(t, second.Dir); epochs != 3 || steps != 24 {
		t.Errorf("resumed run: %d epochs %d steps, want 3 and 24", epochs, steps)
	}
	if len(scores.Validation) != 1 || scores.Validation[0]["val_loss"] <= 0 {
		t.Errorf("engine.validate=true gave %v", scores.Validation)
	}
	if len(scores.TestFinal) != 1 {
		t.Errorf("no test scores: %+v", scores)
	}
}

func TestTwoProcessesShareAGrid(t *testing.T) {
	dir := t.TempDir()
	exp, err := experiment.ParseBytes([]byte("task: template\noptimizer: {name: adamw_baseline, learning_rate: [0.01, 0.001]}\n"),
		"grid.yaml", []string{"engine.output_dir=" + dir, "engine.silent=true", "task.max_epochs=1"}, experiment.RegistryCatalog())
	if err != nil {
		t.Fatal(err)
	}
	// Another process holds run 1's lock: this one must skip it and train run 2.
	os.MkdirAll(exp.Runs[0].Dir, 0o755)
	release := holdLock(t, exp.Runs[0].Dir)
	out, err := train.Execute(context.Background(), exp, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out[0].Skipped, "in progress") || out[1].Skipped != "" || out[1].Err != nil {
		t.Errorf("outcomes: %+v / %+v", out[0], out[1])
	}
	release()
	// Run again: run 2 is finished and skipped, run 1 trains now.
	out, err = train.Execute(context.Background(), exp, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Skipped != "" || out[0].Err != nil || !strings.HasPrefix(out[1].Skipped, "finished") {
		t.Errorf("second pass: %+v / %+v", out[0], out[1])
	}
}

func holdLock(t *testing.T, dir string) func() {
	t.Helper()
	unlock, err := train.LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return unlock
}
