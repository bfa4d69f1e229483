package plot

import (
	"fmt"
	"log/slog"
	"math"
	"strings"

	"github.com/fob-go/fob/train/config"
)

// heatmap is one drawn cell of the figure grid, in display units.
type heatmap struct {
	title          []string // lines
	xLabel, yLabel string   // "" = not shown
	xTicks, yTicks []string
	mean           [][]float64 // [y][x], scaled and rounded; NaN = blank cell
	annot          [][]string
	vmin, vmax     float64
	cmap           colormap
	metricLabel    string // colour-bar label
}

// column is one column of the grid: its rows (nil entries are empty panels) and its rows of
// data for the CSV file.
type column struct {
	panels []*heatmap
	rows   []Row
}

// figure is the whole plot: the grid and its size in inches.
type figure struct {
	widthIn, heightIn float64
	nRows             int
	columns           []*column
	fontSize          float64
	annotSize         float64
}

// colorbarFor returns the panel whose colour bar is drawn at the end of grid row j: the last
// column's, or failing that the last column that has that row.
func (f *figure) colorbarFor(j int) *heatmap {
	for i := len(f.columns) - 1; i >= 0; i-- {
		if p := f.columns[i].panels; j < len(p) && p[j] != nil {
			return p[j]
		}
	}
	return nil
}

// group is a set of rows sharing one value of a column.
type group struct {
	key   string
	value any
	shown string // "col=value" for row groups
	rows  []Row
}

// groupRows splits rows by col, keeping the order of first appearance. Rows without the column
// form a group of their own when keepMissing is set and are dropped otherwise.
func groupRows(rows []Row, col string, kinds map[string]colKind, keepMissing bool) []*group {
	var out []*group
	byKey := map[string]*group{}
	for _, r := range rows {
		v, ok := r[col]
		k := valueKey(v, ok)
		if k == missingKey && !keepMissing {
			continue
		}
		g := byKey[k]
		if g == nil {
			g = &group{key: k, value: v, shown: col + "=" + display(v, ok && k != missingKey, kinds[col])}
			byKey[k] = g
			out = append(out, g)
		}
		g.rows = append(g.rows, r)
	}
	return out
}

// splitColumns groups the rows into the figure's columns by column_split_key, ordered by
// column_split_order or by sorted value.
func splitColumns(rows []Row, s *settings, cols []string, kinds map[string]colKind) ([][]Row, error) {
	if s.columnSplitKey == "" {
		return [][]Row{rows}, nil
	}
	if !contains(cols, s.columnSplitKey) {
		return nil, fmt.Errorf("evaluation.column_split_key: no run config has %s; use a dotted key such as optimizer.name, or null for one column", s.columnSplitKey)
	}
	groups := groupRows(rows, s.columnSplitKey, kinds, false)
	byKey := map[string]*group{}
	vals := map[string]any{}
	for _, g := range groups {
		byKey[g.key] = g
		vals[g.key] = g.value
	}
	var order []string
	if s.columnOrder != nil {
		for _, v := range s.columnOrder {
			k := valueKey(v, true)
			if byKey[k] == nil {
				var have []string
				for _, hk := range sortedKeys(vals) {
					have = append(have, config.PyStr(vals[hk]))
				}
				return nil, fmt.Errorf("evaluation.column_split_order: no run with %s=%s has results (have: %s); fix the order or the runs",
					s.columnSplitKey, config.PyStr(v), strings.Join(have, ", "))
			}
			order = append(order, k)
		}
	} else {
		order = sortedKeys(vals)
	}
	out := make([][]Row, len(order))
	for i, k := range order {
		out[i] = byKey[k].rows
	}
	return out, nil
}

// resolveAxis returns the axis column, trying the "optimizer." prefix when the key as written
// is not a column.
func resolveAxis(key, which string, cols []string, logger *slog.Logger) (string, error) {
	if contains(cols, key) {
		return key, nil
	}
	if contains(cols, "optimizer."+key) {
		logger.Warn(which+" key not present in the run configs; using it with the 'optimizer.' prefix", "key", key, "using", "optimizer."+key)
		return "optimizer." + key, nil
	}
	return "", fmt.Errorf("evaluation.plot.%s: neither %s nor optimizer.%s is a key of the run configs; use a dotted key such as optimizer.weight_decay", which, key, key)
}

// rowGroups are the panels of one column (docs/fob-behaviour.md §6.2 step 4): every candidate column with more
// than one value (missing counted) adds one panel per value, so panels are the sum over such
// columns, each filtering on its own column only. None gives the single group "default".
func rowGroups(rows []Row, s *settings, cols []string, kinds map[string]colKind, x, y string, logger *slog.Logger) []*group {
	if !s.splitAll && !s.splitListed {
		return []*group{{shown: "default", rows: rows}}
	}
	skip := map[string]bool{x: true, y: true}
	for _, r := range rows {
		if m, ok := r["evaluation.plot.metric"].(string); ok {
			skip[m] = true
		}
	}
	for _, k := range s.aggregateGroups {
		skip[k] = true
	}
	var out []*group
	for _, col := range cols {
		listed := s.splitAll || contains(s.splitList, col)
		if !listed {
			continue
		}
		if skip[col] || s.ignored(col) || strings.HasPrefix(col, "evaluation.") {
			if s.splitListed {
				logger.Warn("split_groups names a column that is never split (an axis, the metric, an aggregate group, an evaluation or bookkeeping key)", "column", col)
			}
			continue
		}
		if gs := groupRows(rows, col, kinds, true); len(gs) > 1 {
			out = append(out, gs...)
		}
	}
	if len(out) == 0 {
		return []*group{{shown: "default", rows: rows}}
	}
	return out
}

// figureSize is the figsize rule of docs/fob-behaviour.md §6.2 step 7, in inches.
func figureSize(nCols, nRows int, scale float64) (w, h float64) {
	switch {
	case nCols == 1 && nRows > 1:
		return 8 * scale, 6 * float64(nRows) * scale
	case nCols == 2:
		return 12 * scale, 5.4 * float64(nRows) * scale
	case nCols > 2:
		return 6 * float64(nCols) * scale, 5.4 * float64(nRows) * scale
	}
	return 6.4, 4.8 // matplotlib's default figure size
}

// limits is the colour range of one metric over all columns.
type limits struct{ lo, hi float64 }

// buildFigure turns the rows of one checkpoint mode into the figure (docs/fob-behaviour.md §6.2 steps 3-7).
func buildFigure(rows []Row, s *settings, logger *slog.Logger) (*figure, error) {
	cols := columns(rows)
	kinds := columnKinds(rows, cols)
	colRows, err := splitColumns(rows, s, cols, kinds)
	if err != nil {
		return nil, err
	}
	nCols := len(colRows)
	y, err := resolveAxis(s.yAxis[0], "y_axis", cols, logger)
	if err != nil {
		return nil, err
	}
	xs := make([]string, nCols)
	for i := range colRows {
		key := s.xAxis[0]
		if i < len(s.xAxis) {
			key = s.xAxis[i]
		}
		if xs[i], err = resolveAxis(key, "x_axis", cols, logger); err != nil {
			return nil, err
		}
	}

	// With several columns all panels of a metric share one colour range: the extreme means
	// over every column (before scaling).
	global := map[string]limits{}
	if nCols > 1 {
		for i, cr := range colRows {
			for _, m := range metricsOf(cr) {
				lo, hi, ok := makePivot(cr, xs[i], y, m, "", kinds).minMax()
				if !ok {
					continue
				}
				g, seen := global[m]
				if !seen {
					g = limits{math.Inf(1), math.Inf(-1)}
				}
				global[m] = limits{math.Min(g.lo, lo), math.Max(g.hi, hi)}
			}
		}
	}

	fig := &figure{fontSize: s.fontSize, annotSize: s.matrixFontSize}
	for i, cr := range colRows {
		groups := rowGroups(cr, s, cols, kinds, xs[i], y, logger)
		col := &column{rows: cr}
		for j, g := range groups {
			p, err := makePanel(g, s, kinds, xs[i], y, i, j, nCols, len(groups), global, logger)
			if err != nil {
				return nil, err
			}
			col.panels = append(col.panels, p)
		}
		fig.columns = append(fig.columns, col)
		fig.nRows = max(fig.nRows, len(groups))
	}
	fig.widthIn, fig.heightIn = figureSize(nCols, fig.nRows, s.scale)
	return fig, nil
}

// metricsOf lists the distinct evaluation.plot.metric values of rows in order.
func metricsOf(rows []Row) []string {
	var out []string
	for _, r := range rows {
		if m, ok := r["evaluation.plot.metric"].(string); ok && !contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// makePanel builds the heatmap of column i, row j; nil when the group has no plottable data.
func makePanel(g *group, s *settings, kinds map[string]colKind, x, y string, i, j, nCols, nRows int,
	global map[string]limits, logger *slog.Logger) (*heatmap, error) {
	first := g.rows[0]
	where := fmt.Sprintf("column %d, %s", i+1, g.shown)
	metric, _ := first["evaluation.plot.metric"].(string)
	format, err := parseFormat(first["evaluation.plot.format"], where)
	if err != nil {
		return nil, err
	}
	agg := ""
	if s.std {
		agg = s.aggfunc
	}
	pv := makePivot(g.rows, x, y, metric, agg, kinds)
	if pv.empty() {
		logger.Warn("no data for this panel, leaving it empty", "panel", where, "metric", metric)
		return nil, nil
	}
	h := &heatmap{
		xTicks:      pv.xTicks,
		yTicks:      pv.yTicks,
		metricLabel: PrettyName(metric),
	}
	mode, _ := first["evaluation.plot.test_metric_mode"].(string)
	if h.cmap, err = newColormap(s.palette, mode == "min"); err != nil {
		return nil, err
	}
	warned := false
	h.mean = make([][]float64, len(pv.ys))
	h.annot = make([][]string, len(pv.ys))
	for r := range pv.ys {
		h.mean[r] = make([]float64, len(pv.xs))
		h.annot[r] = make([]string, len(pv.xs))
		for c := range pv.xs {
			m := format.scale(pv.mean[r][c])
			h.mean[r][c] = m
			sp := math.Inf(1)
			if s.std {
				sp = format.scale(pv.spread[r][c])
				if math.IsInf(sp, 1) && !math.IsNaN(m) && !warned {
					logger.Warn("Not enough data to calculate the "+s.aggfunc+", skipping it in the plot", "panel", where)
					warned = true
				}
			}
			h.annot[r][c] = format.annotation(m, sp, s.std)
		}
	}

	// Colour range: shared over columns, replaced by the task's limits, else the panel's data.
	var lo, hi float64
	have := false
	if g, ok := global[metric]; ok {
		f := pow10(format.exp)
		lo, hi, have = g.lo*f, g.hi*f, true
	}
	if lim, ok := first["evaluation.plot.limits"]; ok && lim != nil {
		a, b, err := parseLimits(lim, where)
		if err != nil {
			return nil, err
		}
		if a != nil {
			lo, hi, have = math.Min(*a, *b), math.Max(*a, *b), true
		}
	}
	if !have {
		var ok bool
		if lo, hi, ok = (&pivot{mean: h.mean}).minMax(); !ok {
			lo, hi = 0, 1
		}
	}
	h.vmin, h.vmax = lo, hi

	optName := config.PyStr(first["optimizer.name"])
	taskName := config.PyStr(first["task.name"])
	h.title = []string{PrettyName(optName) + " on " + PrettyName(taskName)}
	if (nCols > 1 || nRows > 1) && g.shown != "default" {
		h.title = append(h.title, g.shown)
	}
	if i == 0 {
		h.yLabel = PrettyName(y)
	}
	if j == nRows-1 {
		h.xLabel = PrettyName(x)
	}
	return h, nil
}

// parseLimits reads evaluation.plot.limits: two numbers, or an empty list for none.
func parseLimits(v any, where string) (*float64, *float64, error) {
	var list []any
	switch x := v.(type) {
	case []any:
		list = x
	case config.Literal:
		list = x
	}
	if len(list) == 0 {
		if list != nil {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("%s: evaluation.plot.limits: got %s; give two numbers [low, high] in display units, or null", where, config.PyRepr(v))
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, e := range list {
		f, ok := number(e)
		if !ok {
			return nil, nil, fmt.Errorf("%s: evaluation.plot.limits: got %s; give two numbers [low, high] in display units, or null", where, config.PyRepr(v))
		}
		lo, hi = math.Min(lo, f), math.Max(hi, f)
	}
	return &lo, &hi, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
