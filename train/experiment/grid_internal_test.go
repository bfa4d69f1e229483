package experiment

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fob-go/fob/train/config"
)

// quadraticDedup is the definition dedup must match: keep the first of config.Equal values.
func quadraticDedup(vals []any) []any {
	var out []any
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

// TestDedupMatchesEqual: the linear deduplication keeps exactly the values the pairwise
// config.Equal comparison keeps, in the same order, for Python's equalities (1, 1.0, True;
// -0.0 and 0.0; NaN never equal; a !literal list equal to a list; maps in any key order).
func TestDedupMatchesEqual(t *testing.T) {
	ordered := func(kv ...any) *config.Ordered {
		o := config.NewOrdered()
		for i := 0; i < len(kv); i += 2 {
			o.Set(kv[i].(string), kv[i+1])
		}
		return o
	}
	nan := math.NaN()
	for _, tc := range []struct {
		name string
		vals []any
	}{
		{"numbers", []any{1, 1.0, true, 2, 2.5, 0, false, -0.0, 0.0, 1 << 53, float64(1 << 53), (1 << 53) + 1}},
		{"strings and numbers", []any{"1", 1, "1", "a", "A", "", nil, nil}},
		{"nan", []any{nan, nan, []any{nan}, []any{nan}, 1}},
		{"lists", []any{[]any{1, 2}, config.Literal{1, 2.0}, []any{2, 1}, []any{1, 2, 3}, []any{}, config.Literal{}}},
		{"maps", []any{ordered("a", 1, "b", 2), ordered("b", 2, "a", 1.0), config.Map{"a": 1, "b": 2}, ordered("a", 1), config.Map{}, ordered()}},
		{"nested", []any{ordered("a", []any{1, ordered("x", nil)}), config.Map{"a": []any{1.0, config.Map{"x": nil}}}, ordered("a", []any{1, ordered("x", 0)})}},
		{"length prefixes", []any{"ab", []any{"a", "b"}, []any{"ab"}, ordered("a", "b"), ordered("ab", nil)}},
	} {
		e := &expander{ctx: context.Background(), limit: MaxRuns}
		got, err := e.dedup(tc.vals)
		if err != nil {
			t.Fatal(err)
		}
		want := quadraticDedup(tc.vals)
		if len(got) != len(want) {
			t.Errorf("%s: kept %v, want %v", tc.name, got, want)
			continue
		}
		for i := range got {
			if config.PyRepr(config.ToPlain(got[i])) != config.PyRepr(config.ToPlain(want[i])) {
				t.Errorf("%s: kept %v, want %v", tc.name, got, want)
				break
			}
		}
	}
	// Random values drawn from a small pool, so that equal ones are common.
	rng := rand.New(rand.NewPCG(1, 2))
	var gen func(depth int) any
	gen = func(depth int) any {
		switch k := rng.IntN(9); {
		case k == 0:
			return rng.IntN(3)
		case k == 1:
			return float64(rng.IntN(3))
		case k == 2:
			return rng.IntN(2) == 1
		case k == 3:
			return []string{"a", "b", ""}[rng.IntN(3)]
		case k == 4:
			return nil
		case k == 5 && depth < 3:
			l := make([]any, rng.IntN(3))
			for i := range l {
				l[i] = gen(depth + 1)
			}
			return l
		case k == 6 && depth < 3:
			o := config.NewOrdered()
			for i := rng.IntN(3); i > 0; i-- {
				o.Set([]string{"x", "y", "z"}[rng.IntN(3)], gen(depth+1))
			}
			return o
		case k == 7:
			return 0.5
		}
		return "1"
	}
	for trial := 0; trial < 300; trial++ {
		vals := make([]any, 1+rng.IntN(30))
		for i := range vals {
			vals[i] = gen(0)
		}
		e := &expander{ctx: context.Background(), limit: MaxRuns}
		got, _ := e.dedup(vals)
		want := quadraticDedup(vals)
		if len(got) != len(want) {
			t.Fatalf("trial %d: %v: kept %d values, want %d", trial, config.PyRepr(config.ToPlain(vals)), len(got), len(want))
		}
		for i := range got {
			if !config.Equal(got[i], want[i]) {
				t.Fatalf("trial %d: value %d differs", trial, i)
			}
		}
	}
}
