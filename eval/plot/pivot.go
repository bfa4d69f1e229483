package plot

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/fob-go/fob/train/config"
)

// pivot is one heatmap's data: the metric's mean (and spread) per (y, x) pair of axis values,
// both axes sorted ascending. Cells without data are NaN in mean and +Inf in spread.
type pivot struct {
	xs, ys         []any
	xTicks, yTicks []string
	mean, spread   [][]float64 // [y][x]
}

// empty reports a pivot without any cell.
func (p *pivot) empty() bool { return len(p.xs) == 0 || len(p.ys) == 0 }

// spreadFuncs are the supported evaluation.plot.aggfunc values; n is the sample size and
// variance the unbiased sample variance (ddof=1, pandas' default).
var spreadFuncs = map[string]func(variance float64, n int) float64{
	"std": func(v float64, _ int) float64 { return math.Sqrt(v) },
	"var": func(v float64, _ int) float64 { return v },
	"sem": func(v float64, n int) float64 { return math.Sqrt(v) / math.Sqrt(float64(n)) },
}

// makePivot aggregates metric over the rows for each (y, x) pair. Rows without an axis value
// are dropped (pandas drops NaN keys); NaN metric values are left out of the aggregates. With
// aggfunc == "" no spread is computed.
func makePivot(rows []Row, x, y, metric, aggfunc string, kinds map[string]colKind) *pivot {
	type acc struct {
		n          int
		mean, m2   float64 // Welford running mean and sum of squared deviations
		sum        float64
		xKey, yKey string
	}
	cells := map[[2]string]*acc{}
	xVals, yVals := map[string]any{}, map[string]any{}
	for _, r := range rows {
		xv, xok := r[x]
		yv, yok := r[y]
		if !xok || !yok || xv == nil || yv == nil {
			continue
		}
		mv, ok := r[metric].(float64)
		if !ok || math.IsNaN(mv) {
			continue
		}
		xk, yk := valueKey(xv, true), valueKey(yv, true)
		if xk == missingKey || yk == missingKey {
			continue
		}
		xVals[xk], yVals[yk] = xv, yv
		a := cells[[2]string{yk, xk}]
		if a == nil {
			a = &acc{xKey: xk, yKey: yk}
			cells[[2]string{yk, xk}] = a
		}
		a.n++
		a.sum += mv
		d := mv - a.mean
		a.mean += d / float64(a.n)
		a.m2 += d * (mv - a.mean)
	}
	p := &pivot{}
	xKeys := sortedKeys(xVals)
	yKeys := sortedKeys(yVals)
	for _, k := range xKeys {
		p.xs = append(p.xs, xVals[k])
		p.xTicks = append(p.xTicks, display(xVals[k], true, kinds[x]))
	}
	for _, k := range yKeys {
		p.ys = append(p.ys, yVals[k])
		p.yTicks = append(p.yTicks, display(yVals[k], true, kinds[y]))
	}
	spreadOf := spreadFuncs[aggfunc]
	p.mean = make([][]float64, len(yKeys))
	if spreadOf != nil {
		p.spread = make([][]float64, len(yKeys))
	}
	for i, yk := range yKeys {
		p.mean[i] = make([]float64, len(xKeys))
		if spreadOf != nil {
			p.spread[i] = make([]float64, len(xKeys))
		}
		for j, xk := range xKeys {
			a := cells[[2]string{yk, xk}]
			if a == nil {
				p.mean[i][j] = math.NaN()
				if spreadOf != nil {
					p.spread[i][j] = math.Inf(1)
				}
				continue
			}
			p.mean[i][j] = a.sum / float64(a.n)
			if spreadOf != nil {
				// One sample has no spread (NaN in pandas), which the pivot fills with +Inf.
				s := math.Inf(1)
				if a.n > 1 {
					s = spreadOf(a.m2/float64(a.n-1), a.n)
				}
				p.spread[i][j] = s
			}
		}
	}
	return p
}

// sortedKeys returns the keys of vals ordered by their values (lessValue).
func sortedKeys(vals map[string]any) []string {
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := vals[keys[i]], vals[keys[j]]
		if lessValue(a, b) {
			return true
		}
		if lessValue(b, a) {
			return false
		}
		return keys[i] < keys[j]
	})
	return keys
}

// minMax returns the smallest and largest finite means (ok false when there is none).
func (p *pivot) minMax() (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, row := range p.mean {
		for _, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			lo, hi, ok = math.Min(lo, v), math.Max(hi, v), true
		}
	}
	return lo, hi, ok
}

// numFormat is evaluation.plot.format "E.D": values are shown multiplied by 10^E with D decimals.
type numFormat struct{ exp, dec int }

// parseFormat reads "E.D" (a YAML float such as 2.2 is taken as its text).
func parseFormat(v any, where string) (numFormat, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case float64:
		s = config.FormatFloat(x)
	case nil:
		return numFormat{}, fmt.Errorf("%s: evaluation.plot.format is not set; set it to \"E.D\" (show values times 10^E with D decimals, e.g. \"2.2\" for percentages)", where)
	default:
		s = config.PyStr(v)
	}
	e, d, ok := strings.Cut(s, ".")
	ei, err1 := strconv.Atoi(e)
	di, err2 := strconv.Atoi(d)
	if !ok || err1 != nil || err2 != nil {
		return numFormat{}, fmt.Errorf("%s: evaluation.plot.format %q is not \"E.D\" (two integers, e.g. \"2.2\" = times 100 with 2 decimals)", where, s)
	}
	return numFormat{ei, di}, nil
}

// scale multiplies by 10^E and rounds to D decimals, as the heatmap tables are prepared.
func (f numFormat) scale(v float64) float64 { return npRound(v*pow10(f.exp), f.dec) }

// pow10 is Python's 10 ** e: exact for e >= 0, the nearest float of 10^e otherwise.
func pow10(e int) float64 { return math.Pow10(e) }

// npRound rounds as numpy does: scale by 10^d, round half to even, scale back.
func npRound(x float64, d int) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	if d >= 0 {
		p := math.Pow10(d)
		return math.RoundToEven(x*p) / p
	}
	p := math.Pow10(-d)
	return math.RoundToEven(x/p) * p
}

// annotation is a cell's text: with a spread "<mean>\n±(<spread>)" in Python's str of the
// rounded values (so "97.5", not "97.50"), the second line left out when the spread is +Inf;
// without a spread the mean with exactly D decimals.
func (f numFormat) annotation(mean, spread float64, withSpread bool) string {
	if !withSpread {
		return strconv.FormatFloat(mean, 'f', max(f.dec, 0), 64)
	}
	s := config.FormatFloat(npRound(mean, f.dec))
	if !math.IsInf(spread, 1) {
		s += "\n±(" + config.FormatFloat(npRound(spread, f.dec)) + ")"
	}
	return s
}
