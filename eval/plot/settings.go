package plot

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/experiment"
)

// settings are the evaluation keys the plot reads, from the first run (docs/fob-behaviour.md §6.1).
type settings struct {
	checkpoints     []string
	outputTypes     []string
	outputDir       string // absolute
	experimentName  string // "" = derived from the runs
	splitAll        bool   // split_groups: true
	splitList       []string
	splitListed     bool // split_groups is a list
	aggregateGroups []string
	columnSplitKey  string // "" = one column
	columnOrder     []any  // nil = sorted group values
	xAxis, yAxis    []string
	std             bool
	aggfunc         string
	fontSize        float64
	matrixFontSize  float64
	scale           float64
	palette         string
	dpi             float64
	ignoreKeys      []string // engine keys that never split rows, and output_dir_name
}

// evalKeyError names an evaluation key, what is wrong and the fix.
func evalKeyError(key string, v any, want string) error {
	return fmt.Errorf("evaluation.%s: got %s; %s", key, config.PyRepr(v), want)
}

// readSettings reads the first run's evaluation section.
func readSettings(cfg config.Map) (*settings, error) {
	ev := config.Sub(cfg, "evaluation")
	get := func(key string) any { v, _ := config.Get(ev, key); return v }
	s := &settings{}
	var err error

	if s.checkpoints, err = stringList(get("checkpoints"), "checkpoints", "give a list of best and/or last"); err != nil {
		return nil, err
	}
	for _, m := range s.checkpoints {
		if _, err := ResultFile(m); err != nil {
			return nil, err
		}
	}
	if s.outputTypes, err = stringList(get("output_types"), "output_types", "give a list of png, pdf, svg and/or csv"); err != nil {
		return nil, err
	}

	switch v := get("output_dir").(type) {
	case nil:
		out, err := config.String(cfg, "engine.output_dir")
		if err != nil {
			return nil, fmt.Errorf("evaluation.output_dir is null and %w", err)
		}
		s.outputDir = filepath.Join(out, "plots")
	case string:
		s.outputDir = v
	default:
		return nil, evalKeyError("output_dir", v, "give a folder path or null (= <engine.output_dir>/plots)")
	}
	if s.outputDir, err = filepath.Abs(s.outputDir); err != nil {
		return nil, err
	}
	switch v := get("experiment_name").(type) {
	case nil:
	case string:
		s.experimentName = v
	default:
		s.experimentName = config.PyStr(v)
	}

	switch v := get("split_groups").(type) {
	case bool:
		s.splitAll = v
	case nil:
	default:
		if s.splitList, err = stringList(v, "split_groups", "give true, false or a list of dotted keys"); err != nil {
			return nil, err
		}
		s.splitListed = true
	}
	if v := get("aggregate_groups"); v != nil {
		if s.aggregateGroups, err = stringList(v, "aggregate_groups", "give a list of dotted keys (e.g. [engine.seed])"); err != nil {
			return nil, err
		}
	}
	switch v := get("column_split_key").(type) {
	case nil:
	case string:
		s.columnSplitKey = v
	default:
		return nil, evalKeyError("column_split_key", v, "give a dotted key such as optimizer.name, or null for one column")
	}
	switch v := get("column_split_order").(type) {
	case nil:
	case []any:
		s.columnOrder = v
	case config.Literal:
		s.columnOrder = v
	default:
		s.columnOrder = []any{v}
	}

	if s.xAxis, err = stringList(get("plot.x_axis"), "plot.x_axis", "give a dotted key or a list of them, one per column (e.g. [optimizer.weight_decay])"); err != nil {
		return nil, err
	}
	if s.yAxis, err = stringList(get("plot.y_axis"), "plot.y_axis", "give a dotted key (e.g. [optimizer.learning_rate])"); err != nil {
		return nil, err
	}
	if len(s.xAxis) == 0 || len(s.yAxis) == 0 {
		return nil, fmt.Errorf("evaluation.plot.x_axis and y_axis need at least one dotted key each (e.g. optimizer.weight_decay, optimizer.learning_rate)")
	}
	if s.std, err = boolKey(get("plot.std"), "plot.std", true); err != nil {
		return nil, err
	}
	switch v := get("plot.aggfunc").(type) {
	case nil:
		s.aggfunc = "std"
	case string:
		s.aggfunc = v
	default:
		return nil, evalKeyError("plot.aggfunc", v, "use std, var or sem")
	}
	if _, ok := spreadFuncs[s.aggfunc]; !ok && s.std {
		return nil, evalKeyError("plot.aggfunc", s.aggfunc, "use std, var or sem")
	}
	single, err := boolKey(get("plot.single_file"), "plot.single_file", true)
	if err != nil {
		return nil, err
	}
	if !single {
		return nil, fmt.Errorf("evaluation.plot.single_file: false is not supported (FOB has no such mode either); set it to true")
	}

	num := func(key string, def float64) (float64, error) {
		v := get(key)
		if v == nil {
			return def, nil
		}
		f, ok := number(v)
		if !ok || f <= 0 {
			return 0, evalKeyError(key, v, "give a positive number")
		}
		return f, nil
	}
	if s.fontSize, err = num("plotstyle.font.size", 14); err != nil {
		return nil, err
	}
	if s.matrixFontSize, err = num("plotstyle.matrix_font.size", 12); err != nil {
		return nil, err
	}
	if s.scale, err = num("plotstyle.scale", 1); err != nil {
		return nil, err
	}
	if s.dpi, err = num("plotstyle.dpi", 300); err != nil {
		return nil, err
	}
	switch v := get("plotstyle.color_palette").(type) {
	case nil:
		s.palette = "rocket"
	case string:
		s.palette = v
	default:
		return nil, evalKeyError("plotstyle.color_palette", v, "use rocket")
	}
	if _, err := newColormap(s.palette, false); err != nil {
		return nil, err
	}

	// Engine keys that do not name run folders never split rows (FOB's ignore_keys).
	relevant := map[string]bool{}
	for _, k := range experiment.NameRelevantEngineKeys {
		relevant[k] = true
	}
	for k := range config.Sub(cfg, "engine") {
		if !relevant[k] {
			s.ignoreKeys = append(s.ignoreKeys, "engine."+k)
		}
	}
	s.ignoreKeys = append(s.ignoreKeys, "task.output_dir_name", "optimizer.output_dir_name")
	return s, nil
}

// stringList reads a list of strings; a single string is a one-element list.
func stringList(v any, key, want string) ([]string, error) {
	var list []any
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{x}, nil
	case []any:
		list = x
	case config.Literal:
		list = x
	default:
		return nil, evalKeyError(key, v, want)
	}
	out := make([]string, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, evalKeyError(key, v, want)
		}
		out[i] = s
	}
	return out, nil
}

// boolKey reads a boolean, def when null.
func boolKey(v any, key string, def bool) (bool, error) {
	switch x := v.(type) {
	case nil:
		return def, nil
	case bool:
		return x, nil
	}
	return false, evalKeyError(key, v, "use true or false")
}

// ignored reports whether a column is an ignore key or lies beneath one.
func (s *settings) ignored(col string) bool {
	for _, k := range s.ignoreKeys {
		if col == k || strings.HasPrefix(col, k+".") {
			return true
		}
	}
	return false
}
