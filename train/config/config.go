// Package config holds FOB's nested configuration maps: deep merge, dotted-path access and
// typed getters whose errors name the key and the fix.
package config

import (
	"fmt"
	"strings"
)

// Map is one nested configuration map as read from YAML: values are maps, lists, strings,
// bools, ints, float64s or nil.
type Map = map[string]any

// Get returns the value at a dotted path ("optimizer.lr_scheduler.warmup_steps").
func Get(m Map, path string) (any, bool) {
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := cur.(Map)
		if !ok {
			return nil, false
		}
		cur, ok = mm[k]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// Set assigns a value at a dotted path, creating intermediate maps.
func Set(m Map, path string, v any) {
	keys := strings.Split(path, ".")
	cur := m
	for _, k := range keys[:len(keys)-1] {
		next, ok := cur[k].(Map)
		if !ok {
			next = Map{}
			cur[k] = next
		}
		cur = next
	}
	cur[keys[len(keys)-1]] = v
}

// Sub returns the map at path, or an empty map when it is absent.
func Sub(m Map, path string) Map {
	v, _ := Get(m, path)
	if mm, ok := v.(Map); ok {
		return mm
	}
	return Map{}
}

// TypeError reports a config value of the wrong type.
type TypeError struct {
	Key   string
	Want  string
	Value any
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("config key %s: want %s, got %v (%T); set it to a %s", e.Key, e.Want, e.Value, e.Value, e.Want)
}

// Float reads a number (int or float) at path.
func Float(m Map, path string) (float64, error) {
	v, ok := Get(m, path)
	if !ok {
		return 0, fmt.Errorf("config key %s is missing", path)
	}
	switch x := v.(type) {
	case float64:
		return x, nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	}
	return 0, &TypeError{path, "number", v}
}

// Int reads an integer at path (a float with an integral value is accepted).
func Int(m Map, path string) (int, error) {
	v, ok := Get(m, path)
	if !ok {
		return 0, fmt.Errorf("config key %s is missing", path)
	}
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case float64:
		if x == float64(int(x)) {
			return int(x), nil
		}
	}
	return 0, &TypeError{path, "integer", v}
}

// String reads a string at path.
func String(m Map, path string) (string, error) {
	v, ok := Get(m, path)
	if !ok {
		return "", fmt.Errorf("config key %s is missing", path)
	}
	s, ok := v.(string)
	if !ok {
		return "", &TypeError{path, "string", v}
	}
	return s, nil
}

// Bool reads a boolean at path.
func Bool(m Map, path string) (bool, error) {
	v, ok := Get(m, path)
	if !ok {
		return false, fmt.Errorf("config key %s is missing", path)
	}
	b, ok := v.(bool)
	if !ok {
		return false, &TypeError{path, "boolean (true or false)", v}
	}
	return b, nil
}

// IsNull reports whether path is absent or null.
func IsNull(m Map, path string) bool {
	v, ok := Get(m, path)
	return !ok || v == nil
}
