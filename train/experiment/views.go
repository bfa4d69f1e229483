package experiment

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/fob-go/fob/train/config"
)

// Scheduler is a parsed engine.run_scheduler.
type Scheduler struct {
	// Kind is "sequential", "single", "slurm_array" or "slurm_jobs".
	Kind string
	// N is the 1-based run of single:N (0 otherwise).
	N int
}

func (s Scheduler) String() string {
	if s.Kind == "single" {
		return "single:" + strconv.Itoa(s.N)
	}
	return s.Kind
}

// ParseScheduler reads "sequential", "single:N" (N ≥ 1), "slurm_array" or "slurm_jobs".
func ParseScheduler(s string) (Scheduler, error) {
	switch s {
	case "sequential", "slurm_array", "slurm_jobs":
		return Scheduler{Kind: s}, nil
	}
	if rest, ok := strings.CutPrefix(s, "single:"); ok {
		n, err := strconv.Atoi(rest)
		if err == nil && n >= 1 {
			return Scheduler{Kind: "single", N: n}, nil
		}
	}
	return Scheduler{}, &config.KeyError{Key: "engine.run_scheduler", Msg: fmt.Sprintf(
		"want sequential, single:N (N from 1), slurm_array or slurm_jobs, got %s", config.PyRepr(s))}
}

// Resume is engine.resume: resume from checkpoints/last (Enabled, no Path), from a given
// checkpoint (Path, absolute), or not at all.
type Resume struct {
	Enabled bool
	Path    string
}

// SbatchArg is one sbatch option; Value is formatted as Python's str() would.
type SbatchArg struct {
	Key, Value string
}

// EngineConfig is the typed engine section of a resolved run (docs/fob-behaviour.md §1.6, §1.8).
type EngineConfig struct {
	Accelerator string
	// Backend is the GoMLX backend: engine.backend, else $GOMLX_BACKEND, else "go".
	Backend     string
	CheckFinite bool
	// DataDir is engine.data_dir made absolute.
	DataDir string
	// DataMirror is engine.data_mirror, else $FOB_DATA_MIRROR ("" = none); absolute.
	DataMirror string
	// Deterministic is "true", "false" or "warn".
	Deterministic string
	DetectAnomaly bool
	// Devices is engine.devices; null means 1.
	Devices int
	// EarlyStopping is the patience in epochs; nil disables early stopping.
	EarlyStopping *int
	// EarlyStoppingMetric defaults to task.target_metric.
	EarlyStoppingMetric string
	// GradientClipAlg is "norm" or "value".
	GradientClipAlg string
	// GradientClipVal is nil for no clipping.
	GradientClipVal *float64
	// LogExtra is nil when off, an empty map for true, else the options map.
	LogExtra        config.Map
	LoggingInterval int
	OptimizeMemory  bool
	// OutputDir is engine.output_dir made absolute.
	OutputDir           string
	Plot                bool
	Precision           string
	RestrictTrainEpochs *int
	Resume              Resume
	RunScheduler        Scheduler
	// SaveSbatchScripts is an absolute folder, or "" for a temporary one.
	SaveSbatchScripts string
	SbatchTimeFactor  float64
	// SbatchArgs in FOB's order: the engine defaults' keys (nodes, mem-per-cpu, time) first, then
	// the others sorted, as the merge of sorted experiment maps leaves them.
	SbatchArgs []SbatchArg
	// SbatchScriptTemplate is an absolute file, or "".
	SbatchScriptTemplate string
	// SlurmLogDir is absolute, or "" for the scheduler's default.
	SlurmLogDir string
	Seed        int64
	SeedMode    string
	Silent      bool
	Test        bool
	Train       bool
	Validate    bool
	Workers     int
	// MaxSteps is task.max_steps (nil until derived).
	MaxSteps *int
}

// TaskConfig is the typed task section of a resolved run.
type TaskConfig struct {
	Name          string
	OutputDirName string
	BatchSize     int
	MaxEpochs     int
	// MaxSteps is nil until derived (MaxSteps) or when set by the user.
	MaxSteps     *int
	TargetMetric string
	// TargetMetricMode is "min" or "max".
	TargetMetricMode string
	// DataDir is engine.data_dir made absolute; the task keeps its files in DataDir/Name.
	DataDir string
	Workers int
}

// MaxSteps is FOB's step budget: ceil(trainLen / batchSize / devices) × maxEpochs, with the
// divisions in floating point as Python does.
func MaxSteps(trainLen, batchSize, devices, maxEpochs int) int {
	return int(math.Ceil(float64(trainLen)/float64(batchSize)/float64(devices))) * maxEpochs
}

// view reads typed values from one section, keeping the first error.
type view struct {
	m       config.Map
	section string
	err     error
}

func (v *view) fail(key, format string, args ...any) {
	if v.err == nil {
		v.err = &config.KeyError{Key: v.section + "." + key, Msg: fmt.Sprintf(format, args...)}
	}
}

func (v *view) got(key string) string { return config.PyRepr(v.m[key]) }

func (v *view) str(key string) string {
	s, ok := v.m[key].(string)
	if !ok {
		v.fail(key, "want string, got %s", v.got(key))
	}
	return s
}

func (v *view) optStr(key string) string {
	if v.m[key] == nil {
		return ""
	}
	return v.str(key)
}

func (v *view) boolean(key string) bool {
	b, ok := v.m[key].(bool)
	if !ok {
		v.fail(key, "want true or false, got %s", v.got(key))
	}
	return b
}

func (v *view) integer(key string, min int) int {
	var n int
	switch x := v.m[key].(type) {
	case int:
		n = x
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			v.fail(key, "want integer, got %s", v.got(key))
			return 0
		}
		n = int(x)
	default:
		v.fail(key, "want integer, got %s", v.got(key))
		return 0
	}
	if n < min {
		v.fail(key, "want integer ≥ %d, got %d", min, n)
	}
	return n
}

func (v *view) optInt(key string, min int) *int {
	if v.m[key] == nil {
		return nil
	}
	n := v.integer(key, min)
	return &n
}

func (v *view) number(key string) float64 {
	switch x := v.m[key].(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	v.fail(key, "want number, got %s", v.got(key))
	return 0
}

func (v *view) path(key string) string {
	s := v.optStr(key)
	if s == "" {
		return ""
	}
	abs, err := filepath.Abs(s)
	if err != nil {
		v.fail(key, "cannot make %q absolute: %v", s, err)
	}
	return abs
}

// Engine reads the engine section of a resolved run config, with its null defaults applied.
// Errors name the key and value, e.g. "engine.seed: want integer, got 'abc'".
func Engine(cfg config.Map) (EngineConfig, error) {
	m, ok := cfg["engine"].(config.Map)
	if !ok {
		return EngineConfig{}, fmt.Errorf("engine: want a map of engine settings, got %s", config.PyRepr(cfg["engine"]))
	}
	if err := config.CheckEngine(m); err != nil {
		return EngineConfig{}, err
	}
	v := &view{m: m, section: "engine"}
	e := EngineConfig{
		Accelerator:          v.str("accelerator"),
		Backend:              v.optStr("backend"),
		CheckFinite:          v.boolean("check_finite"),
		DataDir:              v.path("data_dir"),
		DataMirror:           v.optStr("data_mirror"),
		DetectAnomaly:        v.boolean("detect_anomaly"),
		EarlyStopping:        v.optInt("early_stopping", 0),
		EarlyStoppingMetric:  v.optStr("early_stopping_metric"),
		GradientClipAlg:      v.str("gradient_clip_alg"),
		LoggingInterval:      v.integer("logging_interval", 1),
		OptimizeMemory:       v.boolean("optimize_memory"),
		OutputDir:            v.path("output_dir"),
		Plot:                 v.boolean("plot"),
		RestrictTrainEpochs:  v.optInt("restrict_train_epochs", 1),
		SaveSbatchScripts:    v.path("save_sbatch_scripts"),
		SbatchTimeFactor:     v.number("sbatch_time_factor"),
		SbatchScriptTemplate: v.path("sbatch_script_template"),
		SlurmLogDir:          v.path("slurm_log_dir"),
		Seed:                 int64(v.integer("seed", math.MinInt)),
		SeedMode:             v.str("seed_mode"),
		Silent:               v.boolean("silent"),
		Test:                 v.boolean("test"),
		Train:                v.boolean("train"),
		Validate:             v.boolean("validate"),
		Workers:              v.integer("workers", 0),
	}
	if m["data_dir"] == nil || m["data_dir"] == "" {
		v.fail("data_dir", "want a folder, got %s", v.got("data_dir"))
	}
	if m["output_dir"] == nil || m["output_dir"] == "" {
		v.fail("output_dir", "want a folder, got %s", v.got("output_dir"))
	}
	if e.Backend == "" {
		e.Backend = os.Getenv("GOMLX_BACKEND")
	}
	if e.Backend == "" {
		e.Backend = "go"
	}
	if e.DataMirror == "" {
		e.DataMirror = os.Getenv("FOB_DATA_MIRROR")
	}
	if e.DataMirror != "" {
		if abs, err := filepath.Abs(e.DataMirror); err == nil {
			e.DataMirror = abs
		}
	}
	switch d := m["deterministic"].(type) {
	case bool:
		e.Deterministic = strconv.FormatBool(d)
	case string:
		e.Deterministic = d
	}
	e.Devices = 1
	if m["devices"] != nil {
		e.Devices = v.integer("devices", 1)
	}
	if e.EarlyStoppingMetric == "" {
		e.EarlyStoppingMetric, _ = config.Sub(cfg, "task")["target_metric"].(string)
	}
	if m["gradient_clip_val"] != nil {
		g := v.number("gradient_clip_val")
		if g < 0 {
			v.fail("gradient_clip_val", "want a number ≥ 0 or null, got %s", v.got("gradient_clip_val"))
		}
		e.GradientClipVal = &g
	}
	switch x := m["log_extra"].(type) {
	case bool:
		if x {
			e.LogExtra = config.Map{}
		}
	case config.Map:
		e.LogExtra = x
	}
	e.Precision = config.PyStr(m["precision"])
	switch r := m["resume"].(type) {
	case bool:
		e.Resume = Resume{Enabled: r}
	case string:
		abs, err := filepath.Abs(r)
		if err != nil || r == "" {
			v.fail("resume", "want true, false or a checkpoint path, got %s", v.got("resume"))
		}
		e.Resume = Resume{Enabled: true, Path: abs}
	}
	if s, ok := m["run_scheduler"].(string); ok {
		sched, err := ParseScheduler(s)
		if err != nil && v.err == nil {
			v.err = err
		}
		e.RunScheduler = sched
	}
	if e.SbatchTimeFactor <= 0 && v.err == nil {
		v.fail("sbatch_time_factor", "want a number > 0, got %s", v.got("sbatch_time_factor"))
	}
	if args, ok := m["sbatch_args"].(config.Map); ok {
		e.SbatchArgs = orderedSbatchArgs(args)
	}
	if ms, ok := config.Sub(cfg, "task")["max_steps"]; ok && ms != nil {
		tv := &view{m: config.Sub(cfg, "task"), section: "task"}
		n := tv.integer("max_steps", 1)
		if tv.err != nil && v.err == nil {
			v.err = tv.err
		}
		e.MaxSteps = &n
	}
	return e, v.err
}

// engineSbatchOrder is the key order of engine.yaml's sbatch_args.
var engineSbatchOrder = []string{"nodes", "mem-per-cpu", "time"}

// orderedSbatchArgs orders sbatch options as FOB's merges leave them: engine-default keys in
// their order, then the rest sorted (experiment maps are sorted before merging).
func orderedSbatchArgs(args config.Map) []SbatchArg {
	var out []SbatchArg
	seen := map[string]bool{}
	for _, k := range engineSbatchOrder {
		if v, ok := args[k]; ok {
			out = append(out, SbatchArg{k, config.PyStr(v)})
			seen[k] = true
		}
	}
	rest := make([]string, 0, len(args))
	for k := range args {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		out = append(out, SbatchArg{k, config.PyStr(args[k])})
	}
	return out
}

// Task reads the task section of a resolved run config (docs/fob-behaviour.md §1.6).
func Task(cfg config.Map) (TaskConfig, error) {
	m, ok := cfg["task"].(config.Map)
	if !ok {
		return TaskConfig{}, fmt.Errorf("task: want a map with the task's settings, got %s", config.PyRepr(cfg["task"]))
	}
	v := &view{m: m, section: "task"}
	t := TaskConfig{
		Name:             v.str("name"),
		BatchSize:        v.integer("batch_size", 1),
		MaxEpochs:        v.integer("max_epochs", 1),
		MaxSteps:         v.optInt("max_steps", 1),
		TargetMetric:     v.str("target_metric"),
		TargetMetricMode: v.str("target_metric_mode"),
	}
	if t.TargetMetricMode != "min" && t.TargetMetricMode != "max" && v.err == nil {
		v.fail("target_metric_mode", "want min or max, got %s", v.got("target_metric_mode"))
	}
	t.OutputDirName = outputDirName(cfg, "task")
	ev := &view{m: config.Sub(cfg, "engine"), section: "engine"}
	t.DataDir = ev.path("data_dir")
	t.Workers = ev.integer("workers", 0)
	if v.err == nil {
		v.err = ev.err
	}
	return t, v.err
}
