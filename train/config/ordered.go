package config

import (
	"fmt"
	"math"
	"sort"
)

// Pos says where a value was written: a file and line, or a command-line argument.
type Pos struct {
	File string // file name, or "command line"
	Line int    // 1-based; 0 when unknown
	Arg  string // the command-line argument, when the value came from one
}

func (p Pos) String() string {
	switch {
	case p.Arg != "":
		return fmt.Sprintf("command-line argument %q", p.Arg)
	case p.Line > 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return p.File
}

// Ordered is a YAML mapping that keeps its keys in the order they were written, with the
// position of each key. The experiment parser needs the order: grid expansion varies the
// last key of a map fastest, and maps inside lists are not sorted (docs/fob-behaviour.md §1.4).
type Ordered struct {
	keys []string
	vals map[string]any
	pos  map[string]Pos
}

// NewOrdered returns an empty ordered map.
func NewOrdered() *Ordered {
	return &Ordered{vals: map[string]any{}, pos: map[string]Pos{}}
}

// Len is the number of keys.
func (o *Ordered) Len() int { return len(o.keys) }

// Keys returns the keys in order (the slice must not be modified).
func (o *Ordered) Keys() []string { return o.keys }

// Get returns the value of key.
func (o *Ordered) Get(key string) (any, bool) {
	v, ok := o.vals[key]
	return v, ok
}

// Pos returns where key was written.
func (o *Ordered) Pos(key string) Pos { return o.pos[key] }

// Set assigns key; a new key goes last, an existing one keeps its place (as Python dicts do).
func (o *Ordered) Set(key string, v any) {
	if _, ok := o.vals[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.vals[key] = v
}

// SetPos assigns key and records where it was written.
func (o *Ordered) SetPos(key string, v any, p Pos) {
	o.Set(key, v)
	o.pos[key] = p
}

// Delete removes key.
func (o *Ordered) Delete(key string) {
	if _, ok := o.vals[key]; !ok {
		return
	}
	delete(o.vals, key)
	delete(o.pos, key)
	for i, k := range o.keys {
		if k == key {
			o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
			break
		}
	}
}

// Literal is a list given with the !literal tag: grid expansion takes it as one value instead
// of an axis, so a list-valued setting (e.g. dataset_split_lengths) can be written in an
// experiment file.
type Literal []any

// ToPlain converts ordered maps to Map and literal lists to []any, deeply, copying everything.
func ToPlain(v any) any {
	switch x := v.(type) {
	case *Ordered:
		m := make(Map, x.Len())
		for _, k := range x.keys {
			m[k] = ToPlain(x.vals[k])
		}
		return m
	case Map:
		m := make(Map, len(x))
		for k, e := range x {
			m[k] = ToPlain(e)
		}
		return m
	case Literal:
		return ToPlain([]any(x))
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = ToPlain(e)
		}
		return l
	}
	return v
}

// Clone deep-copies a config value, keeping ordered maps and literals as they are.
func Clone(v any) any {
	switch x := v.(type) {
	case *Ordered:
		c := NewOrdered()
		for _, k := range x.keys {
			c.SetPos(k, Clone(x.vals[k]), x.pos[k])
		}
		return c
	case Map:
		m := make(Map, len(x))
		for k, e := range x {
			m[k] = Clone(e)
		}
		return m
	case Literal:
		return Literal(Clone([]any(x)).([]any))
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = Clone(e)
		}
		return l
	}
	return v
}

// SortKeys returns v with every map's keys sorted, recursively, but leaves maps inside lists
// (and everything below them) in written order, as FOB's normalisation does (docs/fob-behaviour.md §1.2 step 4).
func SortKeys(v any) any {
	o, ok := v.(*Ordered)
	if !ok {
		return v
	}
	keys := append([]string(nil), o.keys...)
	sort.Strings(keys)
	c := NewOrdered()
	for _, k := range keys {
		c.SetPos(k, SortKeys(o.vals[k]), o.pos[k])
	}
	return c
}

// Equal compares config values as Python's == does: numbers by value across int, float and
// bool (1 == 1.0 == True), lists element-wise, maps by key set and values regardless of order.
// Grid deduplication and run-folder naming rely on it.
func Equal(a, b any) bool {
	if an, ok := pyNumber(a); ok {
		bn, ok := pyNumber(b)
		return ok && an == bn
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case Literal:
		return Equal([]any(x), b)
	case []any:
		var y []any
		switch yy := b.(type) {
		case []any:
			y = yy
		case Literal:
			y = yy
		default:
			return false
		}
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case Map, *Ordered:
		ka, ga, _ := mapView(a)
		kb, gb, ok := mapView(b)
		if !ok || len(ka) != len(kb) {
			return false
		}
		for _, k := range ka {
			bv, ok := gb(k)
			if !ok {
				return false
			}
			av, _ := ga(k)
			if !Equal(av, bv) {
				return false
			}
		}
		return true
	}
	return false
}

// pyNumber maps bools and numbers to float64 for Python-style numeric equality.
func pyNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		if math.IsNaN(x) {
			return x, true // NaN != NaN, as in Python
		}
		return x, true
	}
	return 0, false
}

// mapView gives a uniform key list and lookup over Map and *Ordered.
func mapView(v any) ([]string, func(string) (any, bool), bool) {
	switch x := v.(type) {
	case Map:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		return keys, func(k string) (any, bool) { e, ok := x[k]; return e, ok }, true
	case *Ordered:
		return x.keys, x.Get, true
	}
	return nil, nil, false
}
