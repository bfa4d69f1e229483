package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/fob-go/fob/train/experiment"
)

// Files a run writes at its end.
const (
	ScoresFile  = "scores.json"
	TimingFile  = "timing.json"
	ResultsLast = "results_final_model.json"
	ResultsBest = "results_best_model.json"
)

// finished reports whether a run has done all it was asked and written every result file:
// training to its end (timing.json says finished; restrict_train_epochs or an interruption
// leave it unfinished); when asked, testing (results_final_model.json, and
// results_best_model.json whenever there is a best checkpoint to score) and validation; and
// scores.json, written last. Dry runs never count as finished.
func finished(run experiment.Run) bool {
	e, err := experiment.Engine(run.Config)
	if err != nil || !e.Train && !e.Test {
		return false
	}
	if e.Train {
		b, err := os.ReadFile(filepath.Join(run.Dir, TimingFile))
		var t struct{ Finished bool }
		if err != nil || json.Unmarshal(b, &t) != nil || !t.Finished {
			return false
		}
	}
	if e.Test {
		if _, err := os.Stat(filepath.Join(run.Dir, ResultsLast)); err != nil {
			return false
		}
		if _, err := os.Stat(filepath.Join(run.Dir, "checkpoints", "best.onnx")); err == nil {
			if _, err := os.Stat(filepath.Join(run.Dir, ResultsBest)); err != nil {
				return false
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(run.Dir, ScoresFile))
	if err != nil {
		return false
	}
	if e.Validate {
		var s Scores
		if json.Unmarshal(b, &s) != nil || len(s.Validation) == 0 {
			return false
		}
	}
	return true
}

// Outcome says what happened to one run of an experiment.
type Outcome struct {
	Run     experiment.Run
	Scores  *Scores
	Skipped string // why the run was skipped ("" when it ran)
	Err     error
}

// Execute runs an experiment's runs in this process as its scheduler says: every run in grid
// order (sequential) or run N only (single:N). A finished run is skipped, and so is a run that
// another process holds the lock of (two `fob run` on one experiment share the work). A failing
// run's error is in its Outcome and the others go on, as the original does for runtime errors;
// cancellation stops at once.
func Execute(ctx context.Context, exp *experiment.Experiment, o Options) ([]Outcome, error) {
	runs := exp.Runs
	switch exp.Scheduler.Kind {
	case "sequential":
	case "single":
		if exp.Scheduler.N > len(runs) {
			return nil, fmt.Errorf("engine.run_scheduler=single:%d: the experiment has %d runs (valid: single:1 to single:%d)",
				exp.Scheduler.N, len(runs), len(runs))
		}
		runs = runs[exp.Scheduler.N-1 : exp.Scheduler.N]
	default:
		return nil, fmt.Errorf("engine.run_scheduler=%s submits to SLURM; Execute runs in-process schedulers only", exp.Scheduler)
	}
	if o.Log == nil {
		o.Log = defaultLog()
	}
	var out []Outcome
	for i, run := range runs {
		o.Log.Info(fmt.Sprintf("starting run %d/%d", i+1, len(runs)), "dir", run.Dir)
		oc := executeOne(ctx, exp, run, o)
		out = append(out, oc)
		switch {
		case oc.Skipped != "":
			o.Log.Info("skipped run", "dir", run.Dir, "why", oc.Skipped)
		case oc.Err != nil && ctx.Err() != nil:
			return out, oc.Err
		}
	}
	return out, nil
}

func executeOne(ctx context.Context, exp *experiment.Experiment, run experiment.Run, o Options) Outcome {
	oc := Outcome{Run: run}
	if finished(run) {
		oc.Skipped = "finished (delete " + TimingFile + " to run it again)"
		return oc
	}
	if err := os.MkdirAll(run.Dir, 0o755); err != nil {
		oc.Err = err
		return oc
	}
	unlock, err := lockDir(run.Dir)
	if err != nil {
		oc.Skipped = err.Error()
		return oc
	}
	defer unlock()
	// Checked again under the lock: another process may have finished it meanwhile.
	if finished(run) {
		oc.Skipped = "finished by another process"
		return oc
	}
	if exp.Scheduler.Kind == "single" {
		err = experiment.WriteConfig(run)
	} else {
		err = experiment.WriteRunFiles(run, exp)
	}
	if err != nil {
		oc.Err = err
		return oc
	}
	oc.Scores, oc.Err = Run(ctx, run.Config, run.Dir, o)
	return oc
}

// errLocked reports a run folder in use by another process.
var errLocked = errors.New("in progress in another process (its lock is held)")

// lockDir takes an exclusive, non-blocking lock on <dir>/.lock; the kernel releases it when the
// process dies, so a killed run never leaves a stale lock.
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, errLocked
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
