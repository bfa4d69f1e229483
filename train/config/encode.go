package config

import (
	"bytes"
	"fmt"
	"github.com/fob-go/fob/internal/atomicfile"
	"math"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Marshal writes config values as YAML: Map keys sorted (as PyYAML's safe_dump does), *Ordered
// keys in their order, !literal lists tagged, floats in Python repr with a dot ("1.0",
// "1.0e-05", as PyYAML writes them) so that they read back as floats, and strings quoted
// whenever they would read back as something else ("1e-3", "yes", "1:00:00").
func Marshal(v any) ([]byte, error) {
	n, err := toNode(v)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func scalar(tag, value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}

func toNode(v any) (*yaml.Node, error) {
	switch x := v.(type) {
	case nil:
		return scalar("!!null", "null"), nil
	case bool:
		return scalar("!!bool", strconv.FormatBool(x)), nil
	case int:
		return scalar("!!int", strconv.Itoa(x)), nil
	case int64:
		return scalar("!!int", strconv.FormatInt(x, 10)), nil
	case float64:
		return scalar("!!float", yamlFloat(x)), nil
	case string:
		n := scalar("!!str", x)
		if needsQuotes(x) {
			n.Style = yaml.DoubleQuotedStyle
		}
		return n, nil
	case Map:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return mappingNode(keys, func(k string) any { return x[k] })
	case *Ordered:
		return mappingNode(x.Keys(), func(k string) any { return x.vals[k] })
	case Literal:
		n, err := seqNode(x)
		if err != nil {
			return nil, err
		}
		n.Tag, n.Style = LiteralTag, yaml.FlowStyle
		return n, nil
	case []any:
		return seqNode(x)
	}
	return nil, fmt.Errorf("config: cannot write a %T as YAML", v)
}

func mappingNode(keys []string, get func(string) any) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, k := range keys {
		kn, _ := toNode(k)
		vn, err := toNode(get(k))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		n.Content = append(n.Content, kn, vn)
	}
	return n, nil
}

func seqNode(l []any) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
	for _, e := range l {
		en, err := toNode(e)
		if err != nil {
			return nil, err
		}
		if en.Kind != yaml.ScalarNode {
			n.Style = 0 // lists of maps or lists read better in block style
		}
		n.Content = append(n.Content, en)
	}
	return n, nil
}

// yamlFloat writes a float as PyYAML does: repr, with ".0" added before a bare exponent.
func yamlFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	case math.IsNaN(f):
		return ".nan"
	}
	s := FormatFloat(f)
	if !strings.Contains(s, ".") && strings.Contains(s, "e") {
		s = strings.Replace(s, "e", ".0e", 1)
	}
	return s
}

// needsQuotes reports whether a plain string would read back as another type, here or in
// PyYAML (base-60 numbers), or holds control characters (which only double quotes keep exact).
func needsQuotes(s string) bool {
	for _, r := range s {
		// yaml.v3 writes such strings as block scalars, some of which read back differently
		// ("\n" as "|2+" reads back empty); double quotes escape them exactly.
		if r < 0x20 || r == 0x7f || r == '\u0085' || r == '\u2028' || r == '\u2029' || r == '\ufeff' {
			return true
		}
	}
	v, err := ResolveScalar(s)
	if err != nil {
		return true
	}
	if _, ok := v.(string); !ok {
		return true
	}
	return reSexagesimal.MatchString(s)
}

// WriteFileAtomic writes data to path through a temporary file in the same folder and a rename,
// so that readers never see a half-written file.
func WriteFileAtomic(path string, data []byte) error { return atomicfile.Write(path, data) }
