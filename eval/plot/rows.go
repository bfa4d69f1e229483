package plot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/experiment"
)

// Row is one run as a table row: its resolved config flattened to dotted column names
// ("optimizer.learning_rate", "engine.seed", "evaluation.plot.metric") holding the config
// values, plus one column named after the run's evaluation.plot.metric holding the float64
// result read from the run folder.
type Row map[string]any

// ResultFiles maps each checkpoint mode to the result file a run writes for it.
var ResultFiles = map[string]string{
	"best": "results_best_model.json",
	"last": "results_final_model.json",
}

// ResultFile is the result file name of a checkpoint mode ("best" or "last").
func ResultFile(mode string) (string, error) {
	f, ok := ResultFiles[mode]
	if !ok {
		return "", fmt.Errorf("evaluation.checkpoints: unknown checkpoint %q; use best or last", mode)
	}
	return f, nil
}

// Runs loads one row per run of exp that has a result for the checkpoint mode ("best" reads
// results_best_model.json, "last" results_final_model.json): the flattened config plus the
// value of the run's evaluation.plot.metric from the file's first map. A run whose file is
// missing, empty or lacks the metric is skipped with a warning; no rows at all is an error that
// says what was looked for. A nil logger means slog.Default().
func Runs(exp *experiment.Experiment, mode string, logger *slog.Logger) ([]Row, error) {
	if logger == nil {
		logger = slog.Default()
	}
	file, err := ResultFile(mode)
	if err != nil {
		return nil, err
	}
	var rows []Row
	for _, run := range exp.Runs {
		metricV, _ := config.Get(run.Config, "evaluation.plot.metric")
		metric, ok := metricV.(string)
		if !ok || metric == "" {
			return nil, fmt.Errorf("run %d (%s): evaluation.plot.metric is %s; set it to the name of a test metric (e.g. test_acc) in the experiment's evaluation.plot section",
				run.Index, run.Dir, config.PyRepr(metricV))
		}
		path := filepath.Join(run.Dir, file)
		results, err := readResults(path)
		if errors.Is(err, fs.ErrNotExist) {
			logger.Warn("result file not found, skipping this hyperparameter setting", "file", path, "run", run.Index)
			continue
		}
		if err != nil {
			return nil, err
		}
		if len(results) == 0 {
			logger.Warn("result file holds no results, skipping this hyperparameter setting", "file", path, "run", run.Index)
			continue
		}
		v, ok := results[0][metric]
		if !ok {
			logger.Warn("metric not found in result file, skipping this hyperparameter setting", "metric", metric, "file", path, "run", run.Index)
			continue
		}
		f, ok := v.(float64)
		if !ok {
			logger.Warn("metric is not a number in result file, skipping this hyperparameter setting", "metric", metric, "value", config.PyRepr(v), "file", path, "run", run.Index)
			continue
		}
		row := Row{}
		flattenInto(row, run.Config, "")
		row[metric] = f
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		example := ""
		if len(exp.Runs) > 0 {
			example = " (e.g. " + filepath.Join(exp.Runs[0].Dir, file) + ")"
		}
		return nil, fmt.Errorf("%s: nothing to plot for checkpoint %q: none of its %d run folders has %s holding the metric%s; run the experiment first, or check engine.output_dir",
			experimentLabel(exp), mode, len(exp.Runs), file, example)
	}
	return rows, nil
}

// readResults reads a result file: a JSON list of maps metric -> number. Python's json writes
// NaN and Infinity as bare words, so those are accepted too.
func readResults(path string) ([]map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw []map[string]any
	if err := json.Unmarshal(quoteNonFinite(data), &raw); err != nil {
		return nil, fmt.Errorf("%s: not a JSON list of metric maps (%v); rerun the test of that run or delete the file", path, err)
	}
	for _, m := range raw {
		for k, v := range m {
			if s, ok := v.(string); ok {
				switch s {
				case nanWord:
					m[k] = math.NaN()
				case infWord:
					m[k] = math.Inf(1)
				case "-" + infWord:
					m[k] = math.Inf(-1)
				}
			}
		}
	}
	return raw, nil
}

const (
	nanWord = "NaN"
	infWord = "Infinity"
)

// quoteNonFinite turns the bare words NaN, Infinity and -Infinity outside JSON strings into
// strings, so that encoding/json accepts what Python's json.dump writes.
func quoteNonFinite(data []byte) []byte {
	var out []byte
	inString, escaped := false, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			out = append(out, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			out = append(out, c)
			continue
		}
		matched := false
		for _, w := range []string{nanWord, "-" + infWord, infWord} {
			if strings.HasPrefix(string(data[i:min(len(data), i+len(w))]), w) {
				out = append(out, '"')
				out = append(out, w...)
				out = append(out, '"')
				i += len(w) - 1
				matched = true
				break
			}
		}
		if !matched {
			out = append(out, c)
		}
	}
	return out
}

// flattenInto writes m's leaves under dotted keys, as pandas' json_normalize does: maps are
// walked (an empty map leaves no column), everything else is one value.
func flattenInto(row Row, m config.Map, prefix string) {
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		switch x := v.(type) {
		case config.Map:
			flattenInto(row, x, key)
		case config.Literal:
			row[key] = []any(x)
		default:
			row[key] = v
		}
	}
}

// columns lists the union of the rows' column names, sorted.
func columns(rows []Row) []string {
	seen := map[string]bool{}
	var cols []string
	for _, r := range rows {
		for k := range r {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	sort.Strings(cols)
	return cols
}

// colKind is the dtype pandas would give a column built from the rows.
type colKind int

const (
	kindInt    colKind = iota // all rows hold ints
	kindFloat                 // numbers only, some floats or some rows missing (NaN)
	kindObject                // anything else: printed value by value
)

// columnKinds classifies every column of rows.
func columnKinds(rows []Row, cols []string) map[string]colKind {
	kinds := make(map[string]colKind, len(cols))
	for _, c := range cols {
		present, ints, other := 0, 0, 0
		for _, r := range rows {
			v, ok := r[c]
			if !ok {
				continue
			}
			present++
			switch v.(type) {
			case int, int64:
				ints++
			case float64:
			default:
				other++
			}
		}
		switch {
		case other > 0:
			kinds[c] = kindObject
		case ints == len(rows):
			kinds[c] = kindInt
		default:
			kinds[c] = kindFloat
		}
	}
	return kinds
}

// number returns v as a float when it is an int or float.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// missingKey groups missing values and NaN together, as pandas does with dropna=False.
const missingKey = "\x00nan"

// valueKey is a grouping key that treats equal numbers alike whatever their type (1 == 1.0,
// as in pandas) and keeps strings apart from numbers.
func valueKey(v any, present bool) string {
	if !present {
		return missingKey
	}
	if f, ok := number(v); ok {
		if math.IsNaN(f) {
			return missingKey
		}
		return "n:" + config.FormatFloat(f)
	}
	return "o:" + config.PyRepr(v)
}

// display is how a value prints in labels and row names: str() of the pandas value, so floats
// in repr form, ints shown as floats in a float column, and "nan" for missing values.
func display(v any, present bool, kind colKind) string {
	if !present {
		return "nan"
	}
	switch kind {
	case kindInt:
		if f, ok := number(v); ok {
			return strconv.FormatInt(int64(f), 10)
		}
	case kindFloat:
		if f, ok := number(v); ok {
			return config.FormatFloat(f)
		}
	}
	return config.PyStr(v)
}

// csvValue is how pandas' to_csv writes a value: missing and None are empty.
func csvValue(v any, present bool, kind colKind) string {
	if !present || v == nil {
		return ""
	}
	if f, ok := number(v); ok && math.IsNaN(f) {
		return ""
	}
	return display(v, present, kind)
}

// lessValue orders axis and group values: numbers ascending, then everything else by its text.
func lessValue(a, b any) bool {
	fa, na := number(a)
	fb, nb := number(b)
	switch {
	case na && nb:
		return fa < fb
	case na != nb:
		return na
	}
	return config.PyStr(a) < config.PyStr(b)
}

// experimentLabel names exp in messages: its file, else "experiment <optimizers>-<tasks>".
func experimentLabel(exp *experiment.Experiment) string {
	if exp.File != "" {
		return exp.File
	}
	rows := make([]Row, len(exp.Runs))
	for i, r := range exp.Runs {
		rows[i] = Row{"optimizer.name": config.Sub(r.Config, "optimizer")["name"], "task.name": config.Sub(r.Config, "task")["name"]}
	}
	return "experiment " + defaultName(rows)
}
