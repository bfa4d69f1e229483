// Package experiment turns an experiment file into runs, as FOB's run_experiment does:
// command-line overrides, named-dict shorthands, grid expansion, defaults filled beneath every
// run, run-folder names, typed views of the engine and task sections, the files written into
// each run folder, and SLURM submission.
package experiment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fob-go/fob/train/config"
)

// Sections are the top-level keys an experiment may have.
var Sections = []string{"engine", "evaluation", "optimizer", "task"}

// Experiment is a parsed experiment: its normalised form and its runs in grid order.
type Experiment struct {
	// File is the absolute path of the experiment file ("" when parsed from bytes).
	File string
	// Normalized is the experiment after overrides, shorthands and key sorting, evaluation
	// included: what experiment.yaml holds. Maps inside lists keep their written key order.
	Normalized *config.Ordered
	// Runs are the runs in grid order; Runs[i].Index == i+1.
	Runs []Run
	// Scheduler is engine.run_scheduler, which is the same for every run.
	Scheduler Scheduler
}

// Run is one fully resolved run.
type Run struct {
	// Index is the 1-based position in grid order (the N of single:N).
	Index int
	// Config is the resolved config: task, optimizer, engine and evaluation sections with all
	// defaults filled in (what config.yaml holds).
	Config config.Map
	// Default is the run's default config: its task and optimizer names through the same
	// defaults. Config's differences from it name the folder.
	Default config.Map
	// Dir is the absolute run folder.
	Dir string
}

// SetMaxSteps records the derived task.max_steps in the run (and in its default config where
// that is still null), as FOB does once the training set size is known.
func (r *Run) SetMaxSteps(n int) {
	config.Set(r.Config, "task.max_steps", n)
	if config.IsNull(r.Default, "task.max_steps") {
		config.Set(r.Default, "task.max_steps", n)
	}
}

// Parse reads an experiment file and resolves its runs (docs/fob-behaviour.md §1.2): overrides ("a.b[0].c=value",
// values read as YAML) are applied to the file's content, optimizer and task maps keyed by names
// become lists, keys are sorted, evaluation is set aside, the rest is grid-expanded, and
// defaults are filled beneath every run (task, optimizer, lr scheduler, engine, evaluation).
func Parse(path string, overrides []string, cat Catalog) (*Experiment, error) {
	return ParseContext(context.Background(), path, overrides, cat)
}

// ParseContext is Parse that stops with ctx's error when ctx is done (SIGINT, SIGTERM): every
// phase (reading YAML, expanding the grid, removing duplicates, resolving runs and folders)
// checks it.
func ParseContext(ctx context.Context, path string, overrides []string, cat Catalog) (*Experiment, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	exp, err := ParseBytesContext(ctx, data, path, overrides, cat)
	if err != nil {
		return nil, err
	}
	exp.File = abs
	return exp, nil
}

// MaxFileBytes is the largest experiment file fob reads (an experiment file is a few
// kilobytes; this refuses devices and runaway files before they fill the memory).
const MaxFileBytes = 16 << 20

// ReadFile reads an experiment file of at most MaxFileBytes.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading experiment: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading experiment %s: %w", path, err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("reading experiment %s: larger than %d MiB; an experiment file is a few kilobytes of YAML, give that file instead",
			path, MaxFileBytes>>20)
	}
	return data, nil
}

// ParseBytes is Parse on the file's content; name labels errors.
func ParseBytes(data []byte, name string, overrides []string, cat Catalog) (*Experiment, error) {
	return ParseBytesContext(context.Background(), data, name, overrides, cat)
}

// ParseBytesContext is ParseBytes that stops with ctx's error when ctx is done.
func ParseBytesContext(ctx context.Context, data []byte, name string, overrides []string, cat Catalog) (*Experiment, error) {
	root, err := config.ParseOrderedMapContext(ctx, data, name)
	if err != nil {
		return nil, err
	}
	for _, arg := range overrides {
		if err := applyOverride(ctx, root, arg); err != nil {
			return nil, err
		}
	}
	resolveTaskAliases(root, cat)
	p := &parser{ctx: ctx, name: name, cat: cat, defaults: map[string]config.Map{}}
	taskNames, optNames := cat.TaskNames(), cat.OptimizerNames()
	if err := namedDictToList(root, "optimizer", optNames); err != nil {
		return nil, err
	}
	if err := namedDictToList(root, "task", taskNames); err != nil {
		return nil, err
	}
	root = config.SortKeys(root).(*config.Ordered)
	for _, sec := range []string{"engine", "optimizer", "evaluation"} {
		// "engine:" with every line commented out is null: take it as absent.
		if v, ok := root.Get(sec); ok && v == nil {
			root.Delete(sec)
		}
	}
	if err := p.check(root); err != nil {
		return nil, err
	}
	exp := &Experiment{Normalized: config.Clone(root).(*config.Ordered)}

	eval := config.Map{}
	if ev, ok := root.Get("evaluation"); ok {
		switch x := config.ToPlain(ev).(type) {
		case nil:
		case config.Map:
			eval = x
		default:
			return nil, fmt.Errorf("%s: evaluation: want a map of plot settings, got %s", root.Pos("evaluation"), config.PyRepr(x))
		}
		root.Delete("evaluation")
	}

	grid, err := Expand(ctx, root, maxRuns)
	var tooLarge *GridTooLargeError
	if errors.As(err, &tooLarge) && tooLarge.Runs == 0 {
		err, grid = nil, nil // an empty list elsewhere: say that instead
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(grid) == 0 {
		return nil, emptyGridError(name, root)
	}
	values := 0
	for i, g := range grid {
		n := i + 1
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%s: resolving run %d of %d: %w", name, n, len(grid), err)
		}
		if values += config.CountValues(g, maxGridValues+1); values > maxGridValues {
			return nil, fmt.Errorf("%s: the experiment's %d runs hold more than %d settings in all (a long !literal list in every run?); split it into several files or shorten the lists",
				name, len(grid), maxGridValues)
		}
		run := config.ToPlain(g).(config.Map)
		run["evaluation"] = config.Clone(eval)
		cfg, err := p.fill(run)
		if err != nil {
			return nil, fmt.Errorf("%s: run %d: %w", name, n, err)
		}
		def, err := p.defaultConfig(config.Sub(cfg, "task")["name"], config.Sub(cfg, "optimizer")["name"])
		if err != nil {
			return nil, fmt.Errorf("%s: run %d: default config: %w", name, n, err)
		}
		if _, err := Engine(cfg); err != nil {
			return nil, fmt.Errorf("%s: run %d: %w", name, n, err)
		}
		if _, err := Task(cfg); err != nil {
			return nil, fmt.Errorf("%s: run %d: %w", name, n, err)
		}
		dir, err := RunDir(cfg, def)
		if err != nil {
			return nil, fmt.Errorf("%s: run %d: %w", name, n, err)
		}
		exp.Runs = append(exp.Runs, Run{Index: n, Config: cfg, Default: def, Dir: dir})
	}
	if err := exp.checkScheduler(name); err != nil {
		return nil, err
	}
	return exp, nil
}

// checkScheduler requires one run_scheduler for all runs and single:N within the runs.
func (e *Experiment) checkScheduler(name string) error {
	first := config.Sub(e.Runs[0].Config, "engine")["run_scheduler"]
	for _, r := range e.Runs[1:] {
		if v := config.Sub(r.Config, "engine")["run_scheduler"]; !config.Equal(v, first) {
			return fmt.Errorf("%s: engine.run_scheduler differs between runs (run 1: %s, run %d: %s); it cannot be a grid axis, give one value",
				name, config.PyStr(first), r.Index, config.PyStr(v))
		}
	}
	s, err := ParseScheduler(config.PyStr(first))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if s.Kind == "single" && s.N > len(e.Runs) {
		return fmt.Errorf("%s: engine.run_scheduler: single:%d is out of range: the experiment has %d run(s); pick N from 1 to %d",
			name, s.N, len(e.Runs), len(e.Runs))
	}
	e.Scheduler = s
	return nil
}

// parser holds the catalog and the parsed default files of one Parse call.
type parser struct {
	ctx      context.Context
	name     string
	cat      Catalog
	defaults map[string]config.Map
	// defConfigs caches defaultConfig by task and optimizer name.
	defConfigs map[[2]string]config.Map
}

// defaultMap parses (once) and returns a copy of a default file.
func (p *parser) defaultMap(key, label string, load func() ([]byte, error)) (config.Map, error) {
	m, ok := p.defaults[key]
	if !ok {
		data, err := load()
		if err != nil {
			return nil, err
		}
		if m, err = config.ParseMap(data, label); err != nil {
			return nil, err
		}
		p.defaults[key] = m
	}
	return config.Clone(m).(config.Map), nil
}

// defaultConfig is the default config of a task and optimizer pair ({task: {name},
// optimizer: {name}} through the defaults), computed once per pair and copied for each run.
func (p *parser) defaultConfig(task, opt any) (config.Map, error) {
	key := [2]string{config.PyStr(task), config.PyStr(opt)}
	def, ok := p.defConfigs[key]
	if !ok {
		var err error
		def, err = p.fill(config.Map{"task": config.Map{"name": task}, "optimizer": config.Map{"name": opt}})
		if err != nil {
			return nil, err
		}
		if p.defConfigs == nil {
			p.defConfigs = map[[2]string]config.Map{}
		}
		p.defConfigs[key] = def
	}
	return config.Clone(def).(config.Map), nil
}

// fill merges the defaults beneath a run: task, optimizer, lr scheduler, engine, evaluation.
// A task or optimizer given as a bare name becomes {name: ...} first, so task-level optimizer
// settings apply whatever optimizer is named (FOB loses them for a bare name, docs/fob-behaviour.md §8, defect 9).
func (p *parser) fill(run config.Map) (config.Map, error) {
	for _, sec := range []string{"task", "optimizer"} {
		if s, ok := run[sec].(string); ok {
			run[sec] = config.Map{"name": s}
		}
	}
	task, err := p.sectionName(run, "task", p.cat.TaskNames())
	if err != nil {
		return nil, err
	}
	td, err := p.defaultMap("task/"+task, "tasks/"+task+"/default.yaml", func() ([]byte, error) { return p.cat.TaskDefault(task) })
	if err != nil {
		return nil, err
	}
	run = config.Merge(td, run)
	if _, ok := run["optimizer"]; !ok {
		return nil, fmt.Errorf("no optimizer: task %s has no default optimizer; add `optimizer: <name>` (valid: %s)",
			task, strings.Join(p.cat.OptimizerNames(), ", "))
	}
	opt, err := p.sectionName(run, "optimizer", p.cat.OptimizerNames())
	if err != nil {
		return nil, err
	}
	od, err := p.defaultMap("optim/"+opt, "optimizer "+opt+" default.yaml", func() ([]byte, error) { return p.cat.OptimizerDefault(opt) })
	if err != nil {
		return nil, err
	}
	run = config.Merge(od, run)
	for _, d := range []struct {
		key, label string
		data       []byte
	}{
		{"lrsched", "train/lrsched/default.yaml", p.cat.LRSchedulerDefault()},
		{"engine", "train/config/engine.yaml", config.EngineDefaultYAML},
		{"evaluation", "train/config/evaluation.yaml", config.EvaluationDefaultYAML},
	} {
		dm, err := p.defaultMap(d.key, d.label, func() ([]byte, error) { return d.data, nil })
		if err != nil {
			return nil, err
		}
		run = config.Merge(dm, run)
	}
	for _, sec := range []string{"engine", "evaluation"} {
		if _, ok := run[sec].(config.Map); !ok {
			return nil, fmt.Errorf("%s: want a map of settings, got %s", sec, config.PyRepr(run[sec]))
		}
	}
	if err := config.CheckEngine(config.Sub(run, "engine")); err != nil {
		return nil, err
	}
	return run, nil
}

// sectionName returns section.name, checking it against the valid names.
func (p *parser) sectionName(run config.Map, sec string, valid []string) (string, error) {
	v, ok := run[sec]
	if !ok {
		return "", fmt.Errorf("no %s: add `%s: <name>` (valid: %s)", sec, sec, strings.Join(valid, ", "))
	}
	m, ok := v.(config.Map)
	if !ok {
		return "", fmt.Errorf("%s: want a name or a map with a name, got %s", sec, config.PyRepr(v))
	}
	name, ok := m["name"].(string)
	if !ok {
		return "", fmt.Errorf("%s.name: want one of %s, got %s", sec, strings.Join(valid, ", "), config.PyRepr(m["name"]))
	}
	if !contains(valid, name) {
		return "", fmt.Errorf("%s.name: %w", sec, unknownName(sec, name, valid))
	}
	return name, nil
}

// check validates the normalised experiment where positions are still known: top-level
// sections, task and optimizer names, the keys of the task and evaluation sections, and every
// engine key and value (each grid value).
func (p *parser) check(root *config.Ordered) error {
	for _, k := range root.Keys() {
		if !contains(Sections, k) {
			return fmt.Errorf("%s: %s: unknown section; valid sections: %s", root.Pos(k), k, strings.Join(Sections, ", "))
		}
	}
	for _, sec := range []struct {
		key   string
		names []string
	}{{"task", p.cat.TaskNames()}, {"optimizer", p.cat.OptimizerNames()}} {
		v, ok := root.Get(sec.key)
		if !ok {
			continue
		}
		cands, err := Expand(p.ctx, v, maxRuns)
		if tl := (*GridTooLargeError)(nil); errors.As(err, &tl) {
			continue // the whole grid is refused after these checks, with its full count
		}
		if err != nil {
			return fmt.Errorf("%s: %s: %w", root.Pos(sec.key), sec.key, err)
		}
		for _, c := range cands {
			pos := root.Pos(sec.key)
			var name any
			switch x := c.(type) {
			case string:
				name = x
			case *config.Ordered:
				n, ok := x.Get("name")
				if !ok {
					continue // the task default may name the optimizer; checked after merging
				}
				name, pos = n, x.Pos("name")
			default:
				return fmt.Errorf("%s: %s: want a name or a map with a name, got %s", pos, sec.key, config.PyRepr(config.ToPlain(c)))
			}
			s, ok := name.(string)
			if !ok || !contains(sec.names, s) {
				return fmt.Errorf("%s: %s.name: %w", pos, sec.key, unknownName(sec.key, config.PyStr(name), sec.names))
			}
		}
	}
	if v, ok := root.Get("task"); ok {
		if err := p.checkTaskKeys(v); err != nil {
			return err
		}
	}
	if v, ok := root.Get("evaluation"); ok {
		if err := p.checkEvaluationKeys(v); err != nil {
			return err
		}
	}
	if v, ok := root.Get("engine"); ok {
		return p.checkEngineSection(v, root.Pos("engine"))
	}
	return nil
}

// checkEngineSection checks an experiment's engine value (a map, or a list of maps) key by key.
func (p *parser) checkEngineSection(v any, pos config.Pos) error {
	switch x := v.(type) {
	case *config.Ordered:
		for _, k := range x.Keys() {
			kv, _ := x.Get(k)
			if !config.KnownEngineKey(k) {
				return fmt.Errorf("%s: %w", x.Pos(k), config.CheckEngineKey(k, kv))
			}
			vals, err := Expand(p.ctx, kv, maxRuns)
			if tl := (*GridTooLargeError)(nil); errors.As(err, &tl) {
				continue // refused with the whole grid
			}
			if err != nil {
				return fmt.Errorf("%s: engine.%s: %w", x.Pos(k), k, err)
			}
			for _, c := range vals {
				if err := config.CheckEngineKey(k, c); err != nil {
					return fmt.Errorf("%s: %w", x.Pos(k), err)
				}
			}
		}
		return nil
	case []any:
		for _, e := range x {
			if err := p.checkEngineSection(e, pos); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("%s: engine: want a map of engine settings, got %s", pos, config.PyRepr(config.ToPlain(v)))
}

// namedDictToList rewrites {adamw_baseline: {...}, sgd_baseline: {...}} (all keys valid names)
// as a list of maps with name appended, as FOB does; a null entry means the defaults.
func namedDictToList(root *config.Ordered, key string, names []string) error {
	v, ok := root.Get(key)
	o, isMap := v.(*config.Ordered)
	if !ok || !isMap {
		return nil
	}
	for _, k := range o.Keys() {
		if !contains(names, k) {
			return nil
		}
	}
	list := make([]any, 0, o.Len())
	for _, k := range o.Keys() {
		ev, _ := o.Get(k)
		var entry *config.Ordered
		switch e := ev.(type) {
		case nil:
			entry = config.NewOrdered()
		case *config.Ordered:
			entry = config.Clone(e).(*config.Ordered)
		default:
			return fmt.Errorf("%s: %s.%s: want a map of settings for %s, got %s", o.Pos(k), key, k, k, config.PyRepr(config.ToPlain(ev)))
		}
		entry.SetPos("name", k, o.Pos(k))
		list = append(list, entry)
	}
	root.SetPos(key, list, root.Pos(key))
	return nil
}

var indexRE = regexp.MustCompile(`\[(-?\d+)\]$`)

// overrideStep is one step of an override path: a map key, or a list index.
type overrideStep struct {
	key   string
	index int
	isIdx bool
}

// applyOverride applies "a.b[0].c=value" to the raw experiment (docs/fob-behaviour.md §1.3): the key path
// splits on dots, each part may end in list indices (negative counts from the end), missing
// map keys are created, and the value, everything after the first "=", is read as YAML.
func applyOverride(ctx context.Context, root *config.Ordered, arg string) error {
	keyPath, raw, ok := strings.Cut(arg, "=")
	if !ok || keyPath == "" {
		return fmt.Errorf("command-line argument %q: want key=value, e.g. engine.seed=1 or optimizer[0].learning_rate=0.01", arg)
	}
	if !utf8.ValidString(keyPath) {
		return fmt.Errorf("command-line argument %q: the key is not valid UTF-8 text; write it in UTF-8", arg)
	}
	var steps []overrideStep
	for _, part := range strings.Split(keyPath, ".") {
		var idx []int
		for {
			m := indexRE.FindStringSubmatchIndex(part)
			if m == nil {
				break
			}
			i, err := strconv.Atoi(part[m[2]:m[3]])
			if err != nil {
				return fmt.Errorf("command-line argument %q: bad list index in %q", arg, part)
			}
			idx = append([]int{i}, idx...)
			part = part[:m[0]]
		}
		if part != "" {
			steps = append(steps, overrideStep{key: part})
		} else if len(idx) == 0 {
			return fmt.Errorf("command-line argument %q: empty key between dots", arg)
		}
		for _, i := range idx {
			steps = append(steps, overrideStep{index: i, isIdx: true})
		}
	}
	pos := config.Pos{File: "command line", Arg: arg}
	value, err := config.DecodeOrderedContext(ctx, []byte(raw), fmt.Sprintf("command-line argument %q", arg))
	if err != nil {
		return err
	}
	var cur any = root
	where := ""
	for i, st := range steps {
		last := i == len(steps)-1
		label := where
		if st.isIdx {
			label += "[" + strconv.Itoa(st.index) + "]"
		} else if where != "" {
			label += "." + st.key
		} else {
			label = st.key
		}
		switch c := cur.(type) {
		case *config.Ordered:
			if st.isIdx {
				return fmt.Errorf("command-line argument %q: %s is a map, not a list; drop the [%d]", arg, displayPath(where), st.index)
			}
			if last {
				c.SetPos(st.key, value, pos)
				return nil
			}
			next, ok := c.Get(st.key)
			if s, isStr := next.(string); isStr && c == root && (st.key == "task" || st.key == "optimizer") {
				// "task: mnist" plus task.max_epochs=1 means {name: mnist, max_epochs: 1}.
				named := config.NewOrdered()
				named.SetPos("name", s, root.Pos(st.key))
				next = named
				c.SetPos(st.key, next, root.Pos(st.key))
			}
			if !ok || next == nil {
				next = config.NewOrdered()
				c.SetPos(st.key, next, pos)
			}
			cur = next
		case []any:
			if !st.isIdx {
				return fmt.Errorf("command-line argument %q: %s is a list; index it, e.g. %s[0].%s", arg, displayPath(where), where, st.key)
			}
			j := st.index
			if j < 0 {
				j += len(c)
			}
			if j < 0 || j >= len(c) {
				return fmt.Errorf("command-line argument %q: index %d is out of range: %s has %d entries", arg, st.index, displayPath(where), len(c))
			}
			if last {
				c[j] = value
				return nil
			}
			cur = c[j]
		default:
			return fmt.Errorf("command-line argument %q: %s is %s, not a map or list, so %s cannot be set",
				arg, displayPath(where), config.PyRepr(config.ToPlain(cur)), label)
		}
		where = label
	}
	return nil
}

func displayPath(p string) string {
	if p == "" {
		return "the experiment"
	}
	return p
}

// emptyGridError names the first empty list or name map that empties the grid.
func emptyGridError(name string, root *config.Ordered) error {
	var find func(v any, path string, pos config.Pos) (string, config.Pos, bool)
	find = func(v any, path string, pos config.Pos) (string, config.Pos, bool) {
		switch x := v.(type) {
		case *config.Ordered:
			for _, k := range x.Keys() {
				kv, _ := x.Get(k)
				p := k
				if path != "" {
					p = path + "." + k
				}
				if s, ps, ok := find(kv, p, x.Pos(k)); ok {
					return s, ps, true
				}
			}
		case []any:
			if len(x) == 0 {
				return path, pos, true
			}
			for i, e := range x {
				if s, ps, ok := find(e, fmt.Sprintf("%s[%d]", path, i), pos); ok {
					return s, ps, true
				}
			}
		}
		return "", config.Pos{}, false
	}
	if path, pos, ok := find(root, "", config.Pos{File: name}); ok {
		return fmt.Errorf("%s: %s is an empty list, so the experiment expands to no run; give it at least one value", pos, path)
	}
	return fmt.Errorf("%s: the experiment expands to no run", name)
}
