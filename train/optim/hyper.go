package optim

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/fob-go/fob/train/config"
	"gopkg.in/yaml.v3"
)

// commonKeys are optimizer-section keys every optimizer accepts: the name, the run-folder
// name, the schedule section and the run length the engine copies in.
var commonKeys = []string{"name", "output_dir_name", "lr_scheduler", "max_steps", "max_epochs"}

// ParseDefaults returns the `optimizer:` map of a default.yaml.
func ParseDefaults(defaultYAML []byte) (config.Map, error) {
	var root config.Map
	if err := yaml.Unmarshal(defaultYAML, &root); err != nil {
		return nil, fmt.Errorf("optimizer default.yaml: %w", err)
	}
	m, ok := root["optimizer"].(config.Map)
	if !ok {
		return nil, errors.New("optimizer default.yaml: no `optimizer:` map at the top level")
	}
	return m, nil
}

// otherOptimizerKeys lists hyperparameter names of every registered optimizer. A task default
// may set hyperparameters for its default optimizer (e.g. weight_decay) that then reach any
// optimizer the user picks (docs/fob-behaviour.md §1.1); such keys are ignored rather than rejected.
func otherOptimizerKeys() map[string]bool {
	keys := map[string]bool{}
	for _, name := range Names() {
		e, _ := Get(name)
		m, err := ParseDefaults(e.DefaultYAML)
		if err != nil {
			continue
		}
		for k := range m {
			keys[k] = true
		}
	}
	return keys
}

// Range is an interval of valid values for a float hyperparameter.
type Range struct {
	Lo, Hi         float64
	LoOpen, HiOpen bool
}

// Common ranges.
var (
	NonNegative = Range{Lo: 0, Hi: math.Inf(1), HiOpen: true}
	Positive    = Range{Lo: 0, Hi: math.Inf(1), LoOpen: true, HiOpen: true}
	// Beta is [0, 1): moving-average coefficients.
	Beta = Range{Lo: 0, Hi: 1, HiOpen: true}
	// Fraction is [0, 1].
	Fraction = Range{Lo: 0, Hi: 1}
	AnyReal  = Range{Lo: math.Inf(-1), Hi: math.Inf(1), LoOpen: true, HiOpen: true}
)

func (r Range) contains(v float64) bool {
	if math.IsNaN(v) {
		return false
	}
	if v < r.Lo || (r.LoOpen && v == r.Lo) {
		return false
	}
	if v > r.Hi || (r.HiOpen && v == r.Hi) {
		return false
	}
	return true
}

// String writes the interval, e.g. "[0, 1)".
func (r Range) String() string {
	lb, rb := "[", "]"
	if r.LoOpen {
		lb = "("
	}
	if r.HiOpen {
		rb = ")"
	}
	f := func(x float64) string {
		switch {
		case math.IsInf(x, 1):
			return "inf"
		case math.IsInf(x, -1):
			return "-inf"
		}
		return fmt.Sprint(x)
	}
	return lb + f(r.Lo) + ", " + f(r.Hi) + rb
}

// Hyper reads an optimizer's hyperparameters: values from Settings.Config (and, for a group
// view, the group's Options) over the optimizer's own default.yaml. Getters record errors that
// name the key and the valid values; Err returns them all, so a Factory reports every bad key
// at once before training starts.
type Hyper struct {
	name  string
	cfg   config.Map
	known map[string]bool
	errs  *[]error
}

// NewHyper checks s.Config for unknown keys (keys of neither this optimizer's default.yaml,
// the common keys, nor another registered optimizer) and returns a reader over it.
func NewHyper(s Settings, defaultYAML []byte) (*Hyper, error) {
	defaults, err := ParseDefaults(defaultYAML)
	if err != nil {
		return nil, err
	}
	name, _ := defaults["name"].(string)
	known := map[string]bool{}
	for k := range defaults {
		known[k] = true
	}
	for _, k := range commonKeys {
		known[k] = true
	}
	others := otherOptimizerKeys()
	h := &Hyper{name: name, cfg: config.Map{}, known: known, errs: new([]error)}
	for k, v := range defaults {
		h.cfg[k] = v
	}
	var unknown []string
	for k, v := range s.Config {
		if !known[k] {
			if !others[k] {
				unknown = append(unknown, k)
			}
			continue
		}
		h.cfg[k] = v
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		h.fail("unknown hyperparameter %q; valid keys: %s", k, strings.Join(h.ownKeys(), ", "))
	}
	return h, nil
}

func (h *Hyper) ownKeys() []string {
	keys := make([]string, 0, len(h.known))
	for k := range h.known {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (h *Hyper) fail(format string, args ...any) {
	*h.errs = append(*h.errs, fmt.Errorf("optimizer %s: "+format, append([]any{h.name}, args...)...))
}

// notPerGroup are keys a group cannot override: the learning rate is scheduled on the host
// (use the group's LRMultiplier) and the rest describe the run.
var notPerGroup = map[string]bool{"name": true, "output_dir_name": true, "lr_scheduler": true,
	"max_steps": true, "max_epochs": true, "learning_rate": true}

// Group returns a view whose values are overridden by the group's Options (per-group
// keyword overrides, docs/fob-behaviour.md §3). Errors go to the same list.
func (h *Hyper) Group(g Group) *Hyper {
	v := &Hyper{name: h.name, cfg: config.Map{}, known: h.known, errs: h.errs}
	for k, x := range h.cfg {
		v.cfg[k] = x
	}
	var keys []string
	for k := range g.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !h.known[k] || notPerGroup[k] {
			h.fail("group %q: option %q cannot be set per group; valid keys: %s", g.Name, k, strings.Join(h.ownKeys(), ", "))
			continue
		}
		v.cfg[k] = g.Options[k]
	}
	return v
}

// Err returns all recorded errors joined, or nil.
func (h *Hyper) Err() error {
	// A key read twice (e.g. once per group) must not report its problem twice.
	seen := map[string]bool{}
	var errs []error
	for _, e := range *h.errs {
		if !seen[e.Error()] {
			seen[e.Error()] = true
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}

// Config returns the merged values (defaults beneath the given config).
func (h *Hyper) Config() config.Map { return h.cfg }

// Has reports whether key is present and not null.
func (h *Hyper) Has(key string) bool {
	v, ok := h.cfg[key]
	return ok && v != nil
}

// Float reads a number and checks it lies in r.
func (h *Hyper) Float(key string, r Range) float64 {
	v, err := config.Float(h.cfg, key)
	if err != nil {
		h.fail("%s: want a number in %s, got %v", key, r, h.cfg[key])
		return 0
	}
	if !r.contains(v) {
		h.fail("%s = %v is out of range; valid range %s", key, v, r)
	}
	return v
}

// OptionalFloat reads a number or null; ok is false for null.
func (h *Hyper) OptionalFloat(key string, r Range) (v float64, ok bool) {
	if !h.Has(key) {
		return 0, false
	}
	return h.Float(key, r), true
}

// Int reads an integer ≥ min.
func (h *Hyper) Int(key string, min int) int {
	v, err := config.Int(h.cfg, key)
	if err != nil {
		h.fail("%s: want an integer ≥ %d, got %v", key, min, h.cfg[key])
		return min
	}
	if v < min {
		h.fail("%s = %d is out of range; valid range: integers ≥ %d", key, v, min)
	}
	return v
}

// Bool reads a boolean.
func (h *Hyper) Bool(key string) bool {
	v, err := config.Bool(h.cfg, key)
	if err != nil {
		h.fail("%s: want true or false, got %v", key, h.cfg[key])
	}
	return v
}

// OptionalBool reads a boolean or null (null → false, ok false).
func (h *Hyper) OptionalBool(key string) (v bool, ok bool) {
	if !h.Has(key) {
		return false, false
	}
	return h.Bool(key), true
}

// Choice reads a string that must be one of valid.
func (h *Hyper) Choice(key string, valid ...string) string {
	v, err := config.String(h.cfg, key)
	if err == nil {
		for _, c := range valid {
			if v == c {
				return v
			}
		}
	}
	h.fail("%s = %v is not valid; valid values: %s", key, h.cfg[key], strings.Join(valid, ", "))
	return valid[0]
}

// MaxSteps reads max_steps (copied into the optimizer section by the engine); it must be ≥ 1.
func (h *Hyper) MaxSteps() int {
	if !h.Has("max_steps") {
		h.fail("max_steps is missing; the engine copies task.max_steps (or the steps of max_epochs) into the optimizer section")
		return 1
	}
	return h.Int("max_steps", 1)
}

// Failf records a custom error, prefixed with the optimizer name.
func (h *Hyper) Failf(format string, args ...any) { h.fail(format, args...) }
