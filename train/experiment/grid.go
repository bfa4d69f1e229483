package experiment

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/fob-go/fob/train/config"
)

// MaxRuns is the most runs one experiment may expand to. A grid is expanded, resolved and
// named in memory before the first run starts, so a grid of millions of runs would take minutes
// and gigabytes before doing anything; split such a grid into several experiment files.
const MaxRuns = 100_000

// maxRuns is the limit Parse applies: MaxRuns, lowered by the fuzz tests so that each input
// stays quick.
var maxRuns = MaxRuns

// maxGridValues bounds the total size of the expanded grid: the values of all runs together
// (each run's settings counted, defaults excluded). It keeps runs that each carry a large
// literal list from multiplying into hours of resolving.
var maxGridValues = 20_000_000

// Expand returns the grid of an experiment value in FOB's order (docs/fob-behaviour.md §1.4):
//   - a map gives the product of its keys' grids; the last key varies fastest, and each key's
//     values are deduplicated (Python equality: 1, 1.0 and True are one value);
//   - a list is the concatenation of its elements' grids (nested lists flatten);
//   - anything else, including a !literal list, is one value.
//
// An empty list anywhere makes the whole grid empty. Maps in the result are *config.Ordered
// sharing values with v; callers copy (config.ToPlain) before changing them.
//
// Expansion stops with ctx's error when ctx is done, and with a *GridTooLargeError when the grid
// or any part of it holds more than limit entries. Its work is linear in the size of the result.
func Expand(ctx context.Context, v any, limit int) ([]any, error) {
	e := &expander{ctx: ctx, limit: limit}
	grid, err := e.expand(v)
	if err == errTooLarge {
		return nil, tooLarge(ctx, v, limit)
	}
	return grid, err
}

// GridTooLargeError is an experiment whose grid holds more runs than the limit.
type GridTooLargeError struct {
	// Runs is how many runs the grid asks for (duplicate values of a grid axis of maps counted
	// as written); +Inf beyond float64's range.
	Runs float64
	// Limit is the most runs allowed (MaxRuns).
	Limit int
	// Axes are the largest axes ("engine.seed (20000 values)"), largest first.
	Axes []string
}

func (e *GridTooLargeError) Error() string {
	msg := fmt.Sprintf("the experiment asks for %s runs, more than fob runs from one file (%d); split it into several experiment files",
		fmtCount(e.Runs), e.Limit)
	if len(e.Axes) > 0 {
		msg += " along its largest axes: " + strings.Join(e.Axes, ", ")
	}
	return msg + " (e.g. one file per task, optimizer or group of engine.seed values)"
}

// fmtCount prints a run count exactly when it is an integer float64 holds exactly.
func fmtCount(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "more than 1e308"
	case f < 1<<53:
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return "about " + strconv.FormatFloat(f, 'g', 3, 64)
}

// errTooLarge stops an expansion; Expand replaces it with a *GridTooLargeError.
var errTooLarge = fmt.Errorf("grid too large")

// expander holds one expansion's limit and cancellation.
type expander struct {
	ctx   context.Context
	limit int
	steps int
	buf   []byte
}

// tick checks ctx every 1024 steps of work.
func (e *expander) tick() error {
	e.steps++
	if e.steps&1023 == 0 {
		return e.ctx.Err()
	}
	return nil
}

func (e *expander) expand(v any) ([]any, error) {
	if err := e.tick(); err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case *config.Ordered:
		// Each key's values first: the product's size is known before anything is built.
		keys := x.Keys()
		axes := make([][]any, len(keys))
		size, over := 1, false
		for i, k := range keys {
			kv, _ := x.Get(k)
			sub, err := e.expand(kv)
			if err == errTooLarge {
				over = true
				continue // an empty axis further on still empties the grid
			}
			if err != nil {
				return nil, err
			}
			if axes[i], err = e.dedup(sub); err != nil {
				return nil, err
			}
			if len(axes[i]) == 0 {
				return nil, nil
			}
			if size > e.limit/len(axes[i]) {
				over = true
			} else {
				size *= len(axes[i])
			}
		}
		if over {
			return nil, errTooLarge
		}
		grid := []any{config.NewOrdered()}
		for i, k := range keys {
			vals := axes[i]
			next := make([]any, 0, len(grid)*len(vals))
			for _, r := range grid {
				for _, val := range vals {
					if err := e.tick(); err != nil {
						return nil, err
					}
					c := shallowCopy(r.(*config.Ordered))
					c.SetPos(k, val, x.Pos(k))
					next = append(next, c)
				}
			}
			grid = next
		}
		return grid, nil
	case []any:
		var out []any
		for _, el := range x {
			sub, err := e.expand(el)
			if err != nil {
				return nil, err
			}
			if len(out)+len(sub) > e.limit {
				return nil, errTooLarge
			}
			out = append(out, sub...)
		}
		return out, nil
	}
	return []any{v}, nil
}

func shallowCopy(o *config.Ordered) *config.Ordered {
	c := config.NewOrdered()
	for _, k := range o.Keys() {
		v, _ := o.Get(k)
		c.SetPos(k, v, o.Pos(k))
	}
	return c
}

// dedup keeps the first of equal values (config.Equal), in order, in linear time: equal values
// have equal canonical encodings, which a map finds.
func (e *expander) dedup(vals []any) ([]any, error) {
	if len(vals) < 2 {
		return vals, nil
	}
	seen := make(map[string]struct{}, len(vals))
	out := make([]any, 0, len(vals))
	for _, v := range vals {
		if err := e.tick(); err != nil {
			return nil, err
		}
		var ok bool
		e.buf, ok = appendCanonical(e.buf[:0], v)
		if !ok { // holds a NaN, which equals nothing, not even itself
			out = append(out, v)
			continue
		}
		if _, dup := seen[string(e.buf)]; dup {
			continue
		}
		seen[string(e.buf)] = struct{}{}
		out = append(out, v)
	}
	return out, nil
}

// appendCanonical appends an encoding of v that is the same for two values exactly when
// config.Equal says they are equal: numbers and booleans as the float64 Python compares (1, 1.0
// and True alike; -0.0 as 0.0), a !literal list as a plain list, maps with their keys sorted.
// It reports false for values that equal nothing (a NaN anywhere inside, or a type config
// values do not have).
func appendCanonical(b []byte, v any) ([]byte, bool) {
	var f float64
	switch x := v.(type) {
	case nil:
		return append(b, 'z'), true
	case bool:
		if x {
			f = 1
		}
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case float64:
		if math.IsNaN(x) {
			return b, false
		}
		f = x
	case string:
		b = append(b, 's')
		b = binary.AppendUvarint(b, uint64(len(x)))
		return append(b, x...), true
	case config.Literal:
		return appendCanonical(b, []any(x))
	case []any:
		b = append(b, 'l')
		b = binary.AppendUvarint(b, uint64(len(x)))
		for _, el := range x {
			var ok bool
			if b, ok = appendCanonical(b, el); !ok {
				return b, false
			}
		}
		return b, true
	case config.Map, *config.Ordered:
		keys, get := mapEntries(x)
		sort.Strings(keys)
		b = append(b, 'm')
		b = binary.AppendUvarint(b, uint64(len(keys)))
		for _, k := range keys {
			b, _ = appendCanonical(b, k)
			var ok bool
			if b, ok = appendCanonical(b, get(k)); !ok {
				return b, false
			}
		}
		return b, true
	default:
		return b, false
	}
	if f == 0 {
		f = 0 // -0.0 == 0.0
	}
	b = append(b, 'n')
	return binary.BigEndian.AppendUint64(b, math.Float64bits(f)), true
}

// mapEntries returns a copy of a map's keys and a getter, for Map and *config.Ordered.
func mapEntries(v any) ([]string, func(string) any) {
	switch x := v.(type) {
	case config.Map:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		return keys, func(k string) any { return x[k] }
	case *config.Ordered:
		return append([]string(nil), x.Keys()...), func(k string) any { v, _ := x.Get(k); return v }
	}
	return nil, nil
}

// tooLarge builds the error for a grid over limit: the number of runs it asks for and its
// largest axes, counted without building the grid.
func tooLarge(ctx context.Context, v any, limit int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := &counter{}
	runs := c.count(v, "")
	sort.SliceStable(c.axes, func(i, j int) bool { return c.axes[i].n > c.axes[j].n })
	var axes []string
	for i, a := range c.axes {
		if i == 3 {
			break
		}
		axes = append(axes, fmt.Sprintf("%s (%s values)", a.path, fmtCount(a.n)))
	}
	return &GridTooLargeError{Runs: runs, Limit: limit, Axes: axes}
}

// counter counts a grid's runs as Expand would build them, with axes of plain values
// deduplicated and axes of maps counted as written.
type counter struct {
	axes []axis
}

type axis struct {
	path string
	n    float64
}

func (c *counter) count(v any, path string) float64 {
	switch x := v.(type) {
	case *config.Ordered:
		n := 1.0
		for _, k := range x.Keys() {
			kv, _ := x.Get(k)
			p := k
			if path != "" {
				p = path + "." + k
			}
			m := c.axisLen(kv, p)
			if m > 1 {
				c.axes = append(c.axes, axis{p, m})
			}
			n *= m
		}
		return n
	case []any:
		n := 0.0
		for _, el := range x {
			n += c.count(el, path)
		}
		return n
	}
	return 1
}

// axisLen is the number of distinct values of one map key: exact when its values are plain
// (no maps inside lists), else counted as written.
func (c *counter) axisLen(v any, path string) float64 {
	var leaves []any
	plain := true
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case *config.Ordered:
			plain = false
		case []any:
			for _, el := range x {
				if !plain {
					return
				}
				walk(el)
			}
		default:
			leaves = append(leaves, x)
		}
	}
	walk(v)
	if !plain {
		return c.count(v, path)
	}
	seen := map[string]bool{}
	n := 0.0
	var buf []byte
	for _, l := range leaves {
		var ok bool
		buf, ok = appendCanonical(buf[:0], l)
		if ok && seen[string(buf)] {
			continue
		}
		if ok {
			seen[string(buf)] = true
		}
		n++
	}
	return n
}
