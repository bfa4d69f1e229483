package optim

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/fob-go/fob/train/config"
)

// ParamInfo describes one trainable initializer for grouping.
type ParamInfo struct {
	Name  string
	Shape []int
	// Role is an optional hint from the task: "weight", "bias", "norm", "embedding" or "".
	Role string
}

// Default group names.
const (
	GroupDecay   = "decay"
	GroupNoDecay = "no_decay"
)

// noDecayWords are name fragments of parameters that get no weight decay; tokens are compared
// after lower-casing, so "LayerNorm", "norm1" and "fc.bias" all match.
var noDecayWords = []string{"bias", "norm"}

// noDecayTokens must match a whole token (digits stripped): "ln_1", "bn2", but not "kiln".
var noDecayTokens = []string{"ln", "bn"}

// IsNoDecay decides whether a parameter is exempt from weight decay (docs/fob-behaviour.md §3, adapted to ONNX
// names): the task's Role wins; otherwise a name token containing bias or norm, or equal to
// ln/bn (digits ignored: "bn2"), means no decay, and so does a token containing embed unless
// the parameter is a convolution kernel (rank ≥ 4, e.g. a patch-embedding projection); then
// rank ≤ 1 (biases, norm scales, scalars) means no decay and rank ≥ 2 (matrices, kernels)
// means decay.
func IsNoDecay(p ParamInfo) bool {
	switch strings.ToLower(p.Role) {
	case "bias", "norm", "embedding":
		return true
	case "weight":
		return false
	}
	for _, tok := range nameTokens(p.Name) {
		for _, w := range noDecayWords {
			if strings.Contains(tok, w) {
				return true
			}
		}
		if strings.Contains(tok, "embed") && len(p.Shape) < 4 {
			return true
		}
		bare := strings.TrimRightFunc(tok, unicode.IsDigit)
		for _, w := range noDecayTokens {
			if bare == w {
				return true
			}
		}
	}
	return len(p.Shape) <= 1
}

// nameTokens splits a name on non-alphanumerics and lower-cases it.
func nameTokens(name string) []string {
	return strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// DefaultGroups is the standard weight-decay split: "decay" (multipliers 1) and "no_decay"
// (weight decay multiplier 0), decided by IsNoDecay; empty groups are left out.
func DefaultGroups(params []ParamInfo) []Group {
	decay := Group{Name: GroupDecay, LRMultiplier: 1, WDMultiplier: 1}
	noDecay := Group{Name: GroupNoDecay, LRMultiplier: 1, WDMultiplier: 0}
	for _, p := range params {
		if IsNoDecay(p) {
			noDecay.Params = append(noDecay.Params, p.Name)
		} else {
			decay.Params = append(decay.Params, p.Name)
		}
	}
	var out []Group
	for _, g := range []Group{decay, noDecay} {
		if len(g.Params) > 0 {
			sort.Strings(g.Params)
			out = append(out, g)
		}
	}
	return out
}

// DefaultGroupOf is DefaultGroups' decision for one parameter, usable as a GroupsByRules
// fallback.
func DefaultGroupOf(p ParamInfo) string {
	if IsNoDecay(p) {
		return GroupNoDecay
	}
	return GroupDecay
}

// Rule assigns the parameters whose name matches Match to Group.
type Rule struct {
	// Match is a glob over the whole name ("*" any run of characters, "?" one character,
	// e.g. "segformer.*", "*.bias"), or a regular expression when prefixed "re:" (unanchored;
	// write ^…$ to anchor).
	Match string
	// Group names the group; rules naming the same group add to it.
	Group string
	// LRMultiplier and WDMultiplier set the group's multipliers (1 when no rule sets them).
	LRMultiplier, WDMultiplier *float64
}

func compileRule(r Rule) (*regexp.Regexp, error) {
	if r.Group == "" {
		return nil, fmt.Errorf("parameter group rule %q: empty group name", r.Match)
	}
	if r.LRMultiplier != nil && *r.LRMultiplier < 0 {
		return nil, fmt.Errorf("parameter group rule %q: lr multiplier %v is negative; valid range [0, inf)", r.Match, *r.LRMultiplier)
	}
	if r.WDMultiplier != nil && *r.WDMultiplier < 0 {
		return nil, fmt.Errorf("parameter group rule %q: weight decay multiplier %v is negative; valid range [0, inf)", r.Match, *r.WDMultiplier)
	}
	if expr, ok := strings.CutPrefix(r.Match, "re:"); ok {
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("parameter group rule %q: bad regular expression: %w", r.Match, err)
		}
		return re, nil
	}
	var b strings.Builder
	b.WriteString("^")
	for _, c := range r.Match {
		switch c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String()), nil
}

// ValidateRules checks rules (e.g. read from a config) and returns an error naming the bad one.
func ValidateRules(rules []Rule) error {
	var errs []error
	for _, r := range rules {
		if _, err := compileRule(r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// GroupsByRules puts every parameter in the group of the first rule that matches its name, or
// in fallback(p) when none does (fallback nil: DefaultGroupOf). Groups appear in the order
// rules name them, then fallback groups in order of first use; empty groups are left out and
// parameter names are sorted. A fallback group named "no_decay" gets WDMultiplier 0 unless a
// rule sets it. It panics on an invalid rule; check config-sourced rules with ValidateRules.
func GroupsByRules(params []ParamInfo, rules []Rule, fallback func(ParamInfo) string) []Group {
	if fallback == nil {
		fallback = DefaultGroupOf
	}
	res := make([]*regexp.Regexp, len(rules))
	for i, r := range rules {
		re, err := compileRule(r)
		if err != nil {
			panic(err)
		}
		res[i] = re
	}
	var order []string
	byName := map[string]*Group{}
	get := func(name string) *Group {
		if g, ok := byName[name]; ok {
			return g
		}
		g := &Group{Name: name, LRMultiplier: 1, WDMultiplier: 1}
		if name == GroupNoDecay {
			g.WDMultiplier = 0
		}
		byName[name] = g
		order = append(order, name)
		return g
	}
	// Multipliers come from the first rule that sets them, whatever it matches.
	lrSet, wdSet := map[string]bool{}, map[string]bool{}
	for _, r := range rules {
		g := get(r.Group)
		if r.LRMultiplier != nil && !lrSet[r.Group] {
			g.LRMultiplier, lrSet[r.Group] = *r.LRMultiplier, true
		}
		if r.WDMultiplier != nil && !wdSet[r.Group] {
			g.WDMultiplier, wdSet[r.Group] = *r.WDMultiplier, true
		}
	}
	for _, p := range params {
		name := ""
		for i, re := range res {
			if re.MatchString(p.Name) {
				name = rules[i].Group
				break
			}
		}
		if name == "" {
			name = fallback(p)
		}
		g := get(name)
		g.Params = append(g.Params, p.Name)
	}
	var out []Group
	for _, n := range order {
		g := byName[n]
		if len(g.Params) == 0 {
			continue
		}
		sort.Strings(g.Params)
		out = append(out, *g)
	}
	return out
}

// MergeGroups intersects two splits of the same parameters (FOB's merge_parameter_splits):
// every non-empty a∩b, a in the outer loop, named "<a>_<b>". Multipliers compose by product
// (a backbone at lr×0.1 intersected with no_decay at wd×0 is lr×0.1, wd×0); per-group
// Options are merged with b's winning.
func MergeGroups(a, b []Group) []Group {
	var out []Group
	for _, ga := range a {
		in := map[string]bool{}
		for _, n := range ga.Params {
			in[n] = true
		}
		for _, gb := range b {
			var names []string
			for _, n := range gb.Params {
				if in[n] {
					names = append(names, n)
				}
			}
			if len(names) == 0 {
				continue
			}
			sort.Strings(names)
			var opts config.Map
			if len(ga.Options)+len(gb.Options) > 0 {
				opts = config.Map{}
				for k, v := range ga.Options {
					opts[k] = v
				}
				for k, v := range gb.Options {
					opts[k] = v
				}
			}
			out = append(out, Group{
				Name:         ga.Name + "_" + gb.Name,
				LRMultiplier: ga.LRMultiplier * gb.LRMultiplier,
				WDMultiplier: ga.WDMultiplier * gb.WDMultiplier,
				Options:      opts,
				Params:       names,
			})
		}
	}
	return out
}

// AssignGroups returns, for each name, the index of the group that holds it; it is an error
// for a parameter to be in no group or in two.
func AssignGroups(groups []Group, names []string) ([]int, error) {
	where := map[string]int{}
	for gi, g := range groups {
		for _, n := range g.Params {
			if prev, dup := where[n]; dup {
				return nil, fmt.Errorf("parameter %q is in groups %q and %q; each parameter must be in exactly one group", n, groups[prev].Name, g.Name)
			}
			where[n] = gi
		}
	}
	idx := make([]int, len(names))
	var missing []string
	for i, n := range names {
		gi, ok := where[n]
		if !ok {
			missing = append(missing, n)
			continue
		}
		idx[i] = gi
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("parameters in no group: %s", strings.Join(missing, ", "))
	}
	return idx, nil
}
