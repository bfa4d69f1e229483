package config

import (
	"context"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// YAMLError is a malformed or unsupported YAML value, with where it was written.
type YAMLError struct {
	Pos Pos
	Msg string
}

func (e *YAMLError) Error() string { return e.Pos.String() + ": " + e.Msg }

// LiteralTag marks a list that grid expansion keeps as one value: `key: !literal [80, 10, 10]`.
const LiteralTag = "!literal"

// MaxYAMLValues is the most values (maps, lists and scalars) one YAML text may hold once its
// aliases (*name) and merge keys (<<) are expanded. An experiment file holds a few hundred; the
// cap refuses "billion laughs" files, whose aliases of aliases multiply a few lines into
// billions of values, after little work and memory.
const MaxYAMLValues = 1_000_000

// DecodeOrdered parses YAML text into config values, keeping key order and positions: maps are
// *Ordered, lists []any, lists tagged !literal Literal, scalars string, bool, int, float64 or
// nil. file names the source in errors. Scalars resolve as documented in ResolveScalar.
func DecodeOrdered(data []byte, file string) (any, error) {
	return DecodeOrderedContext(context.Background(), data, file)
}

// DecodeOrderedContext is DecodeOrdered that stops when ctx is done. A text that expands to
// more than MaxYAMLValues values is an error naming file.
func DecodeOrderedContext(ctx context.Context, data []byte, file string) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(err, file)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil // empty document, like PyYAML's safe_load
	}
	d := decoder{file: file, ctx: ctx}
	return d.node(doc.Content[0])
}

// Decode parses YAML text into plain config values (Map, []any, scalars).
func Decode(data []byte, file string) (any, error) {
	v, err := DecodeOrdered(data, file)
	if err != nil {
		return nil, err
	}
	return ToPlain(v), nil
}

// ParseMap parses YAML text whose top level must be a map; an empty document gives an empty map.
func ParseMap(data []byte, file string) (Map, error) {
	o, err := ParseOrderedMap(data, file)
	if err != nil {
		return nil, err
	}
	return ToPlain(o).(Map), nil
}

// ParseOrderedMap is ParseMap keeping key order and positions.
func ParseOrderedMap(data []byte, file string) (*Ordered, error) {
	return ParseOrderedMapContext(context.Background(), data, file)
}

// ParseOrderedMapContext is ParseOrderedMap that stops when ctx is done.
func ParseOrderedMapContext(ctx context.Context, data []byte, file string) (*Ordered, error) {
	v, err := DecodeOrderedContext(ctx, data, file)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case nil:
		return NewOrdered(), nil
	case *Ordered:
		return x, nil
	}
	return nil, &YAMLError{Pos{File: file, Line: 1}, fmt.Sprintf("the top level must be a map of sections (task:, optimizer:, engine:, ...), got %s", PyRepr(ToPlain(v)))}
}

// LoadMap reads a YAML file whose top level is a map.
func LoadMap(path string) (Map, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseMap(data, path)
}

var yamlLineRE = regexp.MustCompile(`line (\d+): (.*)`)

// syntaxError turns a yaml.v3 error ("yaml: line 3: did not find expected key") into
// "file:3: malformed YAML: did not find expected key".
func syntaxError(err error, file string) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if strings.HasPrefix(m[2], "did not find expected") {
			// yaml.v3 reports parser (not scanner) errors with 0-based lines.
			line++
		}
		return &YAMLError{Pos{File: file, Line: line}, "malformed YAML: " + m[2] + "; check the indentation and quoting on this line or the one before"}
	}
	return &YAMLError{Pos{File: file}, "malformed YAML: " + msg}
}

type decoder struct {
	file   string
	ctx    context.Context
	depth  int
	values int // values decoded so far, aliases expanded
}

func (d *decoder) errf(n *yaml.Node, format string, args ...any) error {
	return &YAMLError{Pos{File: d.file, Line: n.Line}, fmt.Sprintf(format, args...)}
}

func (d *decoder) node(n *yaml.Node) (any, error) {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > 200 {
		return nil, d.errf(n, "YAML nested too deeply (recursive alias?)")
	}
	if err := d.count(n, 1); err != nil {
		return nil, err
	}
	explicit := n.Style&yaml.TaggedStyle != 0
	switch n.Kind {
	case yaml.AliasNode:
		return d.node(n.Alias)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return d.node(n.Content[0])
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := d.node(c)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		if explicit && n.Tag == LiteralTag {
			return Literal(l), nil
		}
		if explicit && n.Tag != "!!seq" {
			return nil, d.errf(n, "unsupported tag %s on a list; only %s is known", n.Tag, LiteralTag)
		}
		return l, nil
	case yaml.MappingNode:
		if explicit && n.Tag != "!!map" {
			return nil, d.errf(n, "unsupported tag %s on a map", n.Tag)
		}
		return d.mapping(n)
	case yaml.ScalarNode:
		if explicit {
			return d.tagged(n)
		}
		if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			return n.Value, nil
		}
		v, err := ResolveScalar(n.Value)
		if err != nil {
			return nil, d.errf(n, "%v", err)
		}
		return v, nil
	}
	return nil, d.errf(n, "unsupported YAML node")
}

func (d *decoder) mapping(n *yaml.Node) (*Ordered, error) {
	o := NewOrdered()
	seen := map[string]int{}
	var merges []*Ordered
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind == yaml.ScalarNode && kn.Tag == "!!merge" {
			// "<<: *base" merges the aliased map(s) beneath this one's own keys.
			src := vn
			if src.Kind == yaml.AliasNode {
				src = src.Alias
			}
			var list []*yaml.Node
			if src.Kind == yaml.SequenceNode {
				list = src.Content
			} else {
				list = []*yaml.Node{vn}
			}
			for _, e := range list {
				v, err := d.node(e)
				if err != nil {
					return nil, err
				}
				m, ok := v.(*Ordered)
				if !ok {
					return nil, d.errf(e, "a merge key (<<) needs a map or a list of maps")
				}
				merges = append(merges, m)
			}
			continue
		}
		if kn.Kind != yaml.ScalarNode {
			return nil, d.errf(kn, "map keys must be plain names, not lists or maps")
		}
		key := kn.Value
		if prev, dup := seen[key]; dup {
			return nil, d.errf(kn, "key %q is defined twice (first on line %d); keep one", key, prev)
		}
		seen[key] = kn.Line
		v, err := d.node(vn)
		if err != nil {
			return nil, err
		}
		o.SetPos(key, v, Pos{File: d.file, Line: kn.Line})
	}
	for _, m := range merges {
		for _, k := range m.keys {
			if _, ok := o.vals[k]; !ok {
				// The copy costs as much as decoding the value again: count it.
				if err := d.count(n, CountValues(m.vals[k], MaxYAMLValues+1)); err != nil {
					return nil, err
				}
				o.SetPos(k, Clone(m.vals[k]), m.pos[k])
			}
		}
	}
	return o, nil
}

// count adds k values to the decoded total: an error past MaxYAMLValues, or when ctx is done
// (checked every few thousand values).
func (d *decoder) count(n *yaml.Node, k int) error {
	before := d.values
	d.values += k
	if d.values > MaxYAMLValues {
		return d.errf(n, "the YAML holds more than %d values once its aliases (*name) and merge keys (<<) are expanded; "+
			"an experiment needs far fewer: write the values out, or check for anchors whose aliases refer to other aliases (a \"billion laughs\" file)",
			MaxYAMLValues)
	}
	if d.ctx != nil && before>>12 != d.values>>12 {
		return d.ctx.Err()
	}
	return nil
}

// CountValues is the number of values in v (each map, list and scalar counts one), counting
// at most up to limit.
func CountValues(v any, limit int) int {
	n := 0
	var walk func(v any)
	walk = func(v any) {
		if n >= limit {
			return
		}
		n++
		switch x := v.(type) {
		case *Ordered:
			for _, k := range x.keys {
				walk(x.vals[k])
			}
		case Map:
			for _, e := range x {
				walk(e)
			}
		case Literal:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return min(n, limit)
}

func (d *decoder) tagged(n *yaml.Node) (any, error) {
	s := n.Value
	switch n.Tag {
	case "!!str":
		return s, nil
	case "!!null":
		return nil, nil
	case "!!bool":
		v, err := ResolveScalar(s)
		if b, ok := v.(bool); ok && err == nil {
			return b, nil
		}
		return nil, d.errf(n, "!!bool %q is not a boolean; write true or false", s)
	case "!!int":
		v, err := ResolveScalar(s)
		if i, ok := v.(int); ok && err == nil {
			return i, nil
		}
		return nil, d.errf(n, "!!int %q is not an integer", s)
	case "!!float":
		v, err := ResolveScalar(s)
		if err == nil {
			switch x := v.(type) {
			case float64:
				return x, nil
			case int:
				return float64(x), nil
			}
		}
		return nil, d.errf(n, "!!float %q is not a number", s)
	case LiteralTag:
		return nil, d.errf(n, "%s needs a list, e.g. %s [80, 10, 10]", LiteralTag, LiteralTag)
	}
	return nil, d.errf(n, "unsupported tag %s on %q", n.Tag, s)
}

var (
	reIntDec = regexp.MustCompile(`^[-+]?(0|[1-9][0-9_]*)$`)
	reIntHex = regexp.MustCompile(`^[-+]?0x[0-9a-fA-F_]+$`)
	reIntOct = regexp.MustCompile(`^[-+]?0o?[0-7_]+$`)
	reIntBin = regexp.MustCompile(`^[-+]?0b[01_]+$`)
	// A float has a dot or an exponent (YAML 1.2 core: 1e-3, 1.5E3) or PyYAML 1.1's forms
	// (1.e-3, .5, 1_000.5).
	reFloatDot = regexp.MustCompile(`^[-+]?([0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)([eE][-+]?[0-9]+)?$`)
	reFloatExp = regexp.MustCompile(`^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$`)
	reInf      = regexp.MustCompile(`^[-+]?\.(inf|Inf|INF)$`)
	reNaN      = regexp.MustCompile(`^\.(nan|NaN|NAN)$`)
	// Base-60 numbers that PyYAML reads as ints (1:00:00 → 3600); fob keeps them strings.
	reSexagesimal = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$`)
)

// ResolveScalar gives the value of a plain (unquoted, untagged) YAML scalar. The rules are
// YAML 1.2's core schema plus the PyYAML (YAML 1.1) forms FOB files use:
//   - null: empty, ~, null, Null, NULL
//   - bool: true/false, and as in PyYAML yes/no/on/off, in lower, Title or UPPER case
//   - int: 42, -7, 1_000 (underscores as PyYAML), 0x1f, 0o17 or 017 (octal), 0b101
//   - float: anything with a dot or an exponent: 1.0, 1.e-3, 1e-3, .5, .inf, .nan.
//     Unlike PyYAML, 1e-3 (no dot) is a float here, as YAML 1.2 says.
//   - everything else is a string, including base-60 forms like 1:00:00 and dates.
func ResolveScalar(s string) (any, error) {
	switch s {
	case "", "~", "null", "Null", "NULL":
		return nil, nil
	case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON":
		return true, nil
	case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF":
		return false, nil
	}
	c := s[0]
	if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.') {
		return s, nil
	}
	clean := strings.ReplaceAll(s, "_", "")
	neg := strings.HasPrefix(clean, "-")
	digits := strings.TrimLeft(clean, "+-")
	parseInt := func(body string, base int) (any, error) {
		u, err := strconv.ParseUint(body, base, 64)
		if err != nil || (!neg && u > math.MaxInt64) || (neg && u > 1<<63) {
			return nil, fmt.Errorf("integer %s is out of range (at most 64 bits)", s)
		}
		if neg {
			return int(-int64(u)), nil
		}
		return int(u), nil
	}
	switch {
	case reIntDec.MatchString(s):
		return parseInt(digits, 10)
	case reIntHex.MatchString(s):
		return parseInt(digits[2:], 16)
	case reIntBin.MatchString(s):
		return parseInt(digits[2:], 2)
	case reIntOct.MatchString(s):
		return parseInt(strings.TrimPrefix(digits[1:], "o"), 8)
	case reFloatDot.MatchString(s) || reFloatExp.MatchString(s):
		f, err := strconv.ParseFloat(clean, 64)
		if err != nil && !math.IsInf(f, 0) {
			return nil, fmt.Errorf("number %s cannot be read: %v", s, err)
		}
		return f, nil
	case reInf.MatchString(s):
		if neg {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	case reNaN.MatchString(s):
		return math.NaN(), nil
	}
	return s, nil
}
