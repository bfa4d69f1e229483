package config

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
)

// EngineDefaultYAML is engine.yaml: every engine key with its default (docs/fob-behaviour.md §1.8, plus fob's
// backend and data_mirror).
//
//go:embed engine.yaml
var EngineDefaultYAML []byte

// EvaluationDefaultYAML is evaluation.yaml: the plotting defaults (docs/fob-behaviour.md §6.1).
//
//go:embed evaluation.yaml
var EvaluationDefaultYAML []byte

// KeyError is a config value that fob cannot use: an unknown key or a value of the wrong type.
type KeyError struct {
	Key string // dotted, e.g. "engine.seed"
	Msg string // e.g. "want integer, got 'abc'"
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Msg }

type valueKind struct {
	want string
	ok   func(v any) bool
}

func isNull(v any) bool   { return v == nil }
func isBool(v any) bool   { _, ok := v.(bool); return ok }
func isString(v any) bool { _, ok := v.(string); return ok }
func isMap(v any) bool {
	switch v.(type) {
	case Map, *Ordered:
		return true
	}
	return false
}
func isInt(v any) bool {
	switch x := v.(type) {
	case int, int64:
		return true
	case float64:
		return x == float64(int64(x))
	}
	return false
}
func isNumber(v any) bool {
	switch v.(type) {
	case int, int64, float64:
		return true
	}
	return false
}
func oneOf(fs ...func(any) bool) func(any) bool {
	return func(v any) bool {
		for _, f := range fs {
			if f(v) {
				return true
			}
		}
		return false
	}
}
func isWord(words ...string) func(any) bool {
	return func(v any) bool {
		s, ok := v.(string)
		if !ok {
			return false
		}
		for _, w := range words {
			if s == w {
				return true
			}
		}
		return false
	}
}

var (
	kBool       = valueKind{"true or false", isBool}
	kInt        = valueKind{"integer", isInt}
	kNullInt    = valueKind{"integer or null", oneOf(isNull, isInt)}
	kNumber     = valueKind{"number", isNumber}
	kNullNumber = valueKind{"number or null", oneOf(isNull, isNumber)}
	kString     = valueKind{"string", isString}
	kNullString = valueKind{"string or null", oneOf(isNull, isString)}
)

// engineSchema is the type of every engine key; any other key under engine is an error.
var engineSchema = map[string]valueKind{
	"accelerator":            {"gpu or cpu", isString},
	"backend":                kNullString,
	"check_finite":           kBool,
	"data_dir":               kString,
	"data_mirror":            kNullString,
	"deterministic":          {"true, false or warn", oneOf(isBool, isWord("warn"))},
	"detect_anomaly":         kBool,
	"devices":                kNullInt,
	"early_stopping":         kNullInt,
	"early_stopping_metric":  kNullString,
	"gradient_clip_alg":      {"norm or value", isWord("norm", "value")},
	"gradient_clip_val":      kNullNumber,
	"log_extra":              {"true, false or a map of logging options", oneOf(isBool, isMap)},
	"logging_interval":       kInt,
	"optimize_memory":        kBool,
	"output_dir":             kString,
	"plot":                   kBool,
	"precision":              {"precision string such as bf16-mixed or 32-true", oneOf(isString, isInt)},
	"restrict_train_epochs":  kNullInt,
	"resume":                 {"true, false or a checkpoint path", oneOf(isBool, isString)},
	"run_scheduler":          {"sequential, single:N, slurm_array or slurm_jobs", isString},
	"save_sbatch_scripts":    kNullString,
	"sbatch_time_factor":     kNumber,
	"sbatch_args":            {"map of sbatch options", isMap},
	"sbatch_script_template": kNullString,
	"slurm_log_dir":          kNullString,
	"seed":                   kInt,
	"seed_mode":              {"fixed", isWord("fixed")},
	"silent":                 kBool,
	"test":                   kBool,
	"train":                  kBool,
	"validate":               kBool,
	"workers":                kInt,
}

// EngineKeys lists the known engine keys, sorted.
func EngineKeys() []string {
	keys := make([]string, 0, len(engineSchema))
	for k := range engineSchema {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// KnownEngineKey reports whether key is an engine key.
func KnownEngineKey(key string) bool {
	_, ok := engineSchema[key]
	return ok
}

// CheckEngineKey checks one engine value: the key must be known and the value of its type.
// Errors read "engine.seed: want integer, got 'abc'" or "engine.foo: unknown engine key;
// valid keys: ...".
func CheckEngineKey(key string, v any) error {
	kind, ok := engineSchema[key]
	if !ok {
		return UnknownKey("engine."+key, "engine key", EngineKeys())
	}
	if !kind.ok(v) {
		return &KeyError{Key: "engine." + key, Msg: fmt.Sprintf("want %s, got %s", kind.want, PyRepr(ToPlain(v)))}
	}
	return nil
}

// CheckEngine checks every key of a resolved engine section.
func CheckEngine(engine Map) error {
	keys := make([]string, 0, len(engine))
	for k := range engine {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := CheckEngineKey(k, engine[k]); err != nil {
			return err
		}
	}
	return nil
}

// UnknownKey is the error for a key that is not among the valid ones: "task.max_epoch: unknown
// key of task mnist; valid keys: batch_size, max_epochs, ... (did you mean max_epochs?)". path is
// the dotted key as written, what names the kind of key ("engine key", "key of task mnist").
func UnknownKey(path, what string, valid []string) *KeyError {
	valid = append([]string(nil), valid...)
	sort.Strings(valid)
	msg := "unknown " + what + "; valid keys: " + strings.Join(valid, ", ")
	if s := closest(path[strings.LastIndexByte(path, '.')+1:], valid); s != "" {
		msg += " (did you mean " + s + "?)"
	}
	return &KeyError{Key: path, Msg: msg}
}

// closest returns the valid key nearest to key (at most a third of its letters changed, at
// least one), or "".
func closest(key string, valid []string) string {
	best, bestD := "", max(1, len(key)/3)+1
	for _, v := range valid {
		if d := editDistance(key, v, bestD); d < bestD {
			best, bestD = v, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, or bound when it is at least bound.
func editDistance(a, b string, bound int) int {
	if d := len(a) - len(b); d >= bound || -d >= bound {
		return bound
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], bound)
}
