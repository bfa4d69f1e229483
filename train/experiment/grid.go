package experiment

import "github.com/fob-go/fob/train/config"

// Expand returns the grid of an experiment value in FOB's order (spec §1.4):
//   - a map gives the product of its keys' grids; the last key varies fastest, and each key's
//     values are deduplicated (Python equality: 1, 1.0 and True are one value);
//   - a list is the concatenation of its elements' grids (nested lists flatten);
//   - anything else, including a !literal list, is one value.
//
// An empty list anywhere makes the whole grid empty. Maps in the result are *config.Ordered
// sharing values with v; callers copy (config.ToPlain) before changing them.
func Expand(v any) []any {
	switch x := v.(type) {
	case *config.Ordered:
		grid := []any{config.NewOrdered()}
		for _, k := range x.Keys() {
			kv, _ := x.Get(k)
			vals := dedup(Expand(kv))
			next := make([]any, 0, len(grid)*len(vals))
			for _, r := range grid {
				for _, val := range vals {
					c := shallowCopy(r.(*config.Ordered))
					c.SetPos(k, val, x.Pos(k))
					next = append(next, c)
				}
			}
			grid = next
		}
		return grid
	case []any:
		var out []any
		for _, e := range x {
			out = append(out, Expand(e)...)
		}
		return out
	}
	return []any{v}
}

func shallowCopy(o *config.Ordered) *config.Ordered {
	c := config.NewOrdered()
	for _, k := range o.Keys() {
		v, _ := o.Get(k)
		c.SetPos(k, v, o.Pos(k))
	}
	return c
}

// dedup keeps the first of equal values, in order.
func dedup(vals []any) []any {
	out := make([]any, 0, len(vals))
next:
	for _, v := range vals {
		for _, u := range out {
			if config.Equal(u, v) {
				continue next
			}
		}
		out = append(out, v)
	}
	return out
}
