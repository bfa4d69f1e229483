// Package train runs one FOB run: it builds or loads the task's ONNX model, trains it in GoMLX
// with the configured optimizer and schedule, validates every epoch, writes checkpoints (ONNX
// plus optimizer state), CSV logs and timings, and finally scores the best and last checkpoints
// on the test split in onnxruntime.
package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/fob-go/fob/eval"
	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/experiment"
	"github.com/fob-go/fob/train/lrsched"
	"github.com/fob-go/fob/train/optim"
	gctx "github.com/gomlx/gomlx/pkg/ml/context"
	gonnx "github.com/gomlx/onnx-gomlx/onnx"
	"gopkg.in/yaml.v3"
)

// ErrNonFinite is returned (wrapped) when the loss or the early-stopping metric is NaN or infinite.
var ErrNonFinite = errors.New("non-finite value")

// Options are the process-level settings of a run (not part of its config).
type Options struct {
	// Progress receives progress bars or lines; nil means os.Stderr.
	Progress io.Writer
	// Log receives structured logs; nil means slog.Default().
	Log *slog.Logger
}

// Scores is what a finished run reports (and writes to scores.json).
type Scores struct {
	MeanStepMS   float64              `json:"mean_optimizer_time_ms"`
	MedianStepMS float64              `json:"median_optimizer_time_ms"`
	TrainSeconds float64              `json:"train_time_s"`
	Steps        int                  `json:"steps"`
	Validation   []map[string]float64 `json:"validation,omitempty"`
	TestFinal    []map[string]float64 `json:"test_final,omitempty"`
	TestBest     []map[string]float64 `json:"test_best,omitempty"`
}

func modelScopeName() string { return gonnx.ModelScope }

func defaultLog() *slog.Logger { return slog.Default() }

// Run executes the run whose resolved config is cfg in folder dir.
func Run(ctx context.Context, cfg config.Map, dir string, o Options) (scores *Scores, err error) {
	if o.Progress == nil {
		o.Progress = os.Stderr
	}
	if o.Log == nil {
		o.Log = defaultLog()
	}
	s, err := readSettings(cfg)
	if err != nil {
		return nil, err
	}
	task, err := tasks.Get(s.task)
	if err != nil {
		return nil, err
	}
	if nb, ok := task.(tasks.NotBuilt); ok && (s.train || s.test || s.validate) {
		return nil, fmt.Errorf("tasks/%s: %s", s.task, nb.NotBuilt())
	}
	if task, err = tasks.Configure(task, config.Sub(cfg, "task")); err != nil {
		return nil, fmt.Errorf("tasks/%s: %w", s.task, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, s: s, dir: dir, task: task, o: o}
	scores = &Scores{}
	if s.train || s.test || s.validate {
		if err := r.setupData(ctx); err != nil {
			return nil, fmt.Errorf("tasks/%s: %w", s.task, err)
		}
	}
	if s.train {
		if err := r.train(ctx, scores); err != nil {
			return nil, err
		}
	}
	if s.validate {
		v, err := r.scoreSplit(ctx, "val", r.lastPath())
		if err != nil {
			return nil, err
		}
		scores.Validation = []map[string]float64{v}
	}
	if s.test {
		if err := r.test(ctx, scores); err != nil {
			return nil, err
		}
	}
	b, _ := json.MarshalIndent(scores, "", "    ")
	return scores, config.WriteFileAtomic(filepath.Join(dir, ScoresFile), b)
}

type runner struct {
	cfg  config.Map
	s    settings
	dir  string
	task tasks.Task
	o    Options
	dm   tasks.DataModule
	env  tasks.DataEnv
}

func (r *runner) ckptDir() string  { return filepath.Join(r.dir, "checkpoints") }
func (r *runner) lastPath() string { return filepath.Join(r.ckptDir(), "last.onnx") }
func (r *runner) bestPath() string { return filepath.Join(r.ckptDir(), "best.onnx") }

func (r *runner) setupData(ctx context.Context) error {
	r.env = tasks.DataEnv{DataDir: r.s.dataDir, Mirror: r.s.mirror, Workers: r.s.workers}
	dm, err := r.task.NewData(r.env, config.Sub(r.cfg, "task"))
	if err != nil {
		return err
	}
	if err := dm.Prepare(ctx); err != nil {
		return err
	}
	if err := dm.Setup(ctx, r.s.seed); err != nil {
		return err
	}
	r.dm = dm
	return nil
}

// initialModel returns the graph to train: an external file (task.model.onnx) after its
// signature is checked, or the task's own builder.
func (r *runner) initialModel() (*onnxpb.ModelProto, error) {
	if r.s.externalModel != "" {
		m, err := onnx.Load(r.s.externalModel)
		if err != nil {
			return nil, err
		}
		renames, err := r.task.Signature().AdaptNames(m)
		if err != nil {
			return nil, fmt.Errorf("external model %s does not fit task %s: %w", r.s.externalModel, r.s.task, err)
		}
		for _, rn := range renames {
			r.o.Log.Info("external model: "+rn.Kind+" renamed to the task's", "model", r.s.externalModel, "from", rn.From, "to", rn.To)
		}
		got, err := onnx.SignatureOf(m)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.s.externalModel, err)
		}
		if err := r.task.Signature().Check(got); err != nil {
			return nil, fmt.Errorf("external model %s does not fit task %s: %w", r.s.externalModel, r.s.task, err)
		}
		return m, nil
	}
	return r.task.BuildModel(config.Sub(r.cfg, "task"), r.s.seed)
}

func (r *runner) meta(loop LoopState) map[string]string {
	taskYAML, _ := yaml.Marshal(config.Sub(r.cfg, "task"))
	return map[string]string{
		"fob.task":   r.s.task,
		"fob.config": string(taskYAML),
		"fob.seed":   fmt.Sprint(r.s.seed),
		"fob.epoch":  fmt.Sprint(loop.Epoch),
		"fob.step":   fmt.Sprint(loop.Step),
	}
}

func (r *runner) train(ctx context.Context, scores *Scores) error {
	trainSet, err := r.dm.Split("train")
	if err != nil {
		return err
	}
	valSet, err := r.dm.Split("val")
	if err != nil {
		return err
	}
	stepsPerEpoch := (trainSet.Len() + r.s.batchSize - 1) / r.s.batchSize
	maxSteps := r.s.maxSteps
	if maxSteps <= 0 {
		maxSteps = experiment.MaxSteps(trainSet.Len(), r.s.batchSize, r.s.devices, r.s.maxEpochs)
	}

	backend, err := runtime.NewBackend(r.s.backend)
	if err != nil {
		return err
	}
	gc := gctx.New()
	if err := gc.SetRNGStateFromSeed(r.s.seed); err != nil {
		return err
	}

	// Resume from the last checkpoint when asked and present.
	var loop LoopState
	var proto *onnxpb.ModelProto
	resumeFrom := r.resumePath()
	if resumeFrom != "" {
		if proto, err = onnx.Load(resumeFrom + ".onnx"); err != nil {
			return err
		}
		if loop, err = LoadState(resumeFrom+".state", gc); err != nil {
			return err
		}
		r.o.Log.Info("resuming", "checkpoint", resumeFrom+".onnx", "epoch", loop.Epoch, "step", loop.Step)
		loop.Finished = loop.EarlyStopped || loop.Epoch >= r.s.maxEpochs || loop.Step >= maxSteps
		if loop.Finished {
			return r.finishScores(scores, loop)
		}
	} else {
		if !r.s.resumeFalse {
			r.o.Log.Debug("no checkpoint to resume from; starting from scratch")
		}
		if proto, err = r.initialModel(); err != nil {
			return err
		}
	}
	model, err := LoadModel(gc, proto)
	if err != nil {
		return err
	}

	// Optimizer, parameter groups and schedule.
	optCfg := config.Sub(r.cfg, "optimizer")
	optCfg["max_steps"], optCfg["max_epochs"] = maxSteps, r.s.maxEpochs
	groups, params, err := taskGroups(r.task, model)
	if err != nil {
		return err
	}
	entry, err := optim.Get(r.s.optimizer)
	if err != nil {
		return err
	}
	opt, err := entry.New(optim.Settings{Config: optCfg, Groups: groups})
	if err != nil {
		return err // the factory's error names the optimizer and the key
	}
	// Self-scheduling optimizers (adam_plus) get their groups' multipliers as "learning rate".
	sched := lrsched.Constant(1)
	if !optim.IsSelfScheduling(opt) {
		if sched, err = lrsched.New(optCfg, stepsPerEpoch); err != nil {
			return fmt.Errorf("optimizer.lr_scheduler: %w", err)
		}
	}
	if r.s.clipVal > 0 {
		if err := optim.ValidateClip(r.s.clipAlg, r.s.clipVal); err != nil {
			return fmt.Errorf("engine.gradient_clip_*: %w", err)
		}
	}
	mults := optim.Multipliers(groups)

	st, err := NewStepper(StepperConfig{Backend: backend, Context: gc, Model: model, Task: r.task,
		Optimizer: opt, Params: params, ClipAlg: r.s.clipAlg, ClipVal: r.s.clipVal})
	if err != nil {
		return err
	}

	metricCols := append(append(metricNames(r.task.NewMetrics("train")), "train_loss"), metricNames(r.task.NewMetrics("val"))...)
	for i := range groups {
		metricCols = append(metricCols, lrColumn(groups, i))
	}
	sort.Strings(metricCols)
	metricCols = dedup(metricCols)
	csvLog, err := OpenCSVLog(filepath.Join(r.dir, "csv_logs", "metrics.csv"), metricCols, loop.CSVBytes)
	if err != nil {
		return err
	}

	epochsThisRun := 0
	bar := NewProgress(r.o.Progress, fmt.Sprintf("%s/%s", r.s.task, r.s.optimizer), maxSteps, "steps", r.s.silent)
	for loop.Epoch < r.s.maxEpochs && loop.Step < maxSteps {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted after epoch %d (step %d); run again to resume: %w", loop.Epoch, loop.Step, err)
		}
		if r.s.restrictEpochs > 0 && epochsThisRun >= r.s.restrictEpochs {
			r.o.Log.Info("restrict_train_epochs reached", "epochs", epochsThisRun)
			break
		}
		epochStart := time.Now()
		trainM := r.task.NewMetrics("train")
		var lossSum float64
		var lossN int
		for _, idx := range data.Batches(trainSet.Len(), r.s.batchSize, true, r.s.seed, loop.Epoch) {
			if loop.Step >= maxSteps {
				break
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("interrupted in epoch %d; the last checkpoint is epoch %d, run again to resume: %w", loop.Epoch+1, loop.Epoch, err)
			}
			b, err := tasks.ReadBatch(trainSet, idx)
			if err != nil {
				return fmt.Errorf("epoch %d: %w", loop.Epoch+1, err)
			}
			groupLR := sched.LR(loop.Step, mults)
			t0 := time.Now()
			res, err := st.Step(b, loop.Step+1, groupLR)
			if err != nil {
				return err
			}
			if !res.Compiled {
				loop.StepTimes = append(loop.StepTimes, time.Since(t0).Seconds())
			}
			loop.Step++
			if math.IsNaN(res.Loss) || math.IsInf(res.Loss, 0) {
				return fmt.Errorf("training loss is %v at step %d (epoch %d); the run stopped, checkpoints up to epoch %d are kept in %s (try a lower learning rate or engine.gradient_clip_val): %w",
					res.Loss, loop.Step, loop.Epoch+1, loop.Epoch, r.ckptDir(), ErrNonFinite)
			}
			trainM.Add(res.Outputs, b)
			lossSum += res.Loss
			lossN++
			if loop.Step%r.s.loggingInterval == 0 {
				row := trainM.Result()
				row["train_loss"] = lossSum / float64(lossN)
				for i, v := range groupLR {
					row[lrColumn(groups, i)] = v
				}
				if loop.CSVBytes, err = csvLog.Append(loop.Epoch, loop.Step, row); err != nil {
					return err
				}
				trainM, lossSum, lossN = r.task.NewMetrics("train"), 0, 0
			}
			bar.Update(loop.Step, fmt.Sprintf("epoch %d loss %.4f", loop.Epoch+1, res.Loss))
		}
		loop.Epoch++
		epochsThisRun++
		loop.TrainSeconds += time.Since(epochStart).Seconds()

		val, err := r.validate(ctx, st, valSet, gc, model)
		if err != nil {
			return err
		}
		if loop.CSVBytes, err = csvLog.Append(loop.Epoch-1, loop.Step, val); err != nil {
			return err
		}
		if !r.s.silent {
			r.o.Log.Info("epoch done", "epoch", loop.Epoch, "step", loop.Step, "metrics", fmtMetrics(val))
		}
		target, ok := val[r.s.targetMetric]
		if !ok {
			return fmt.Errorf("task.target_metric %q is not a validation metric of %s; it logs:%s", r.s.targetMetric, r.s.task, fmtMetrics(val))
		}
		if r.better(target, loop.Best) {
			loop.Best, loop.BestEpoch = &target, loop.Epoch
			if err := SaveCheckpoint(r.ckptDir(), "best", gc, model, loop, r.meta(loop)); err != nil {
				return err
			}
		}
		stop := false
		if r.s.earlyStopping > 0 {
			esv, ok := val[r.s.esMetric]
			if !ok {
				return fmt.Errorf("engine.early_stopping_metric %q is not a validation metric; available:%s", r.s.esMetric, fmtMetrics(val))
			}
			if r.s.checkFinite && (math.IsNaN(esv) || math.IsInf(esv, 0)) {
				return fmt.Errorf("%s is %v after epoch %d: %w", r.s.esMetric, esv, loop.Epoch, ErrNonFinite)
			}
			if r.better(esv, loop.ESBest) {
				loop.ESBest, loop.Stale = &esv, 0
			} else if loop.Stale++; loop.Stale >= r.s.earlyStopping {
				r.o.Log.Info("early stopping", "metric", r.s.esMetric, "patience", r.s.earlyStopping, "epoch", loop.Epoch)
				stop, loop.EarlyStopped = true, true
			}
		}
		loop.Finished = stop || loop.Epoch >= r.s.maxEpochs || loop.Step >= maxSteps
		if err := SaveCheckpoint(r.ckptDir(), "last", gc, model, loop, r.meta(loop)); err != nil {
			return err
		}
		if stop {
			break
		}
	}
	return r.finishScores(scores, loop)
}

func (r *runner) finishScores(scores *Scores, loop LoopState) error {
	scores.Steps = loop.Step
	scores.TrainSeconds = loop.TrainSeconds
	scores.MeanStepMS, scores.MedianStepMS = meanMedianMS(loop.StepTimes)
	timing := map[string]any{
		"mean_step_ms":   scores.MeanStepMS,
		"median_step_ms": scores.MedianStepMS,
		"steps":          loop.Step,
		"train_time_s":   loop.TrainSeconds,
		"epochs":         loop.Epoch,
		"finished":       loop.Finished,
	}
	b, _ := json.MarshalIndent(timing, "", "    ")
	return config.WriteFileAtomic(filepath.Join(r.dir, TimingFile), b)
}

func (r *runner) validate(ctx context.Context, st *Stepper, ds tasks.Dataset, gc *gctx.Context, model *Model) (map[string]float64, error) {
	m := r.task.NewMetrics("val")
	for _, idx := range data.Batches(ds.Len(), r.s.batchSize, false, 0, 0) {
		b, err := tasks.ReadBatch(ds, idx)
		if err != nil {
			return nil, fmt.Errorf("validation: %w", err)
		}
		out, err := st.Forward(b)
		if err != nil {
			return nil, err
		}
		m.Add(out, b)
	}
	res := m.Result()
	if gen, ok := r.task.(tasks.Generator); ok {
		// Decoding metrics (BLEU) come from the current weights exported to ONNX and run in
		// onnxruntime, as the test split's do.
		exported, err := model.Export(gc, nil)
		if err != nil {
			return nil, err
		}
		extra, err := gen.GenerateMetrics(ctx, exported, r.dm, "val")
		if err != nil {
			return nil, fmt.Errorf("validation decoding: %w", err)
		}
		maps.Copy(res, extra)
	}
	return res, nil
}

func (r *runner) resumePath() string {
	if r.s.resumeFalse {
		return ""
	}
	if r.s.resumePath != "" {
		p := r.s.resumePath
		return p[:len(p)-len(filepath.Ext(p))]
	}
	last := filepath.Join(r.ckptDir(), "last")
	if _, err := os.Stat(last + ".state"); err == nil {
		return last
	}
	return ""
}

// better reports whether v improves on best (nil: nothing yet) in the task's metric mode.
func (r *runner) better(v float64, best *float64) bool {
	switch {
	case math.IsNaN(v):
		return false
	case best == nil:
		return true
	case r.s.targetMode == "min":
		return v < *best
	}
	return v > *best
}

func (r *runner) scoreSplit(ctx context.Context, split, path string) (map[string]float64, error) {
	return eval.ScoreFile(ctx, eval.Request{Task: r.task, Data: r.dm, Split: split, Path: path, BatchSize: r.s.batchSize})
}

// test scores the last and the best checkpoint on the test split in onnxruntime, writing
// results_final_model.json and results_best_model.json as the original does.
func (r *runner) test(ctx context.Context, scores *Scores) error {
	last := r.lastPath()
	if _, err := os.Stat(last); err != nil {
		r.o.Log.Warn("no trained checkpoint; evaluating the untrained model", "run", r.dir)
		proto, err := r.initialModel()
		if err != nil {
			return err
		}
		if err := os.MkdirAll(r.ckptDir(), 0o755); err != nil {
			return err
		}
		last = filepath.Join(r.ckptDir(), "untrained.onnx")
		if err := onnx.Save(last, proto); err != nil {
			return err
		}
	}
	final, err := r.scoreSplit(ctx, "test", last)
	if err != nil {
		return err
	}
	scores.TestFinal = []map[string]float64{final}
	// Both files are written after both scores, the final model's last: finished() takes
	// results_final_model.json for done, so a run stopped between the two writes is tested
	// again rather than left without results_best_model.json.
	if _, err := os.Stat(r.bestPath()); err == nil {
		best, err := r.scoreSplit(ctx, "test", r.bestPath())
		if err != nil {
			return err
		}
		scores.TestBest = []map[string]float64{best}
		if err := resultWriter(filepath.Join(r.dir, ResultsBest), best); err != nil {
			return err
		}
	} else {
		r.o.Log.Info("no best checkpoint; "+ResultsBest+" not written", "run", r.dir)
	}
	return resultWriter(filepath.Join(r.dir, ResultsLast), final)
}

// resultWriter writes the result files; tests replace it to stop a run between two writes.
var resultWriter = writeResults

// writeResults writes a result file shaped as Lightning's test() output: a list holding one
// map of metric name to value.
func writeResults(path string, m map[string]float64) error {
	b, err := json.MarshalIndent([]map[string]float64{m}, "", "    ")
	if err != nil {
		return err
	}
	return config.WriteFileAtomic(path, append(b, '\n'))
}

func meanMedianMS(ts []float64) (mean, median float64) {
	if len(ts) == 0 {
		return 0, 0
	}
	s := append([]float64(nil), ts...)
	sort.Float64s(s)
	for _, t := range s {
		mean += t
	}
	mean /= float64(len(s))
	median = s[len(s)/2]
	if len(s)%2 == 0 {
		median = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return mean * 1000, median * 1000
}

func metricNames(m tasks.Metrics) []string { return sortedKeys(m.Result()) }

func lrColumn(groups []optim.Group, i int) string {
	if len(groups) == 1 {
		return "lr"
	}
	return fmt.Sprintf("lr-pg%d", i)
}

func dedup(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
