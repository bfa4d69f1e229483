package plot

import (
	"bytes"
	"compress/zlib"
	"encoding/csv"
	"encoding/xml"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/fob-go/fob/train/config"
)

func TestPivotMeansAndAnnotations(t *testing.T) {
	fig := figureOf(t, newExperiment(t, gridYAML), "best", nil)
	if len(fig.columns) != 2 || fig.nRows != 1 {
		t.Fatalf("grid %d columns × %d rows, want 2 × 1", len(fig.columns), fig.nRows)
	}
	pm := "\n±(0.71)"
	tests := []struct {
		col          int
		title        []string
		mean         [][]float64
		annot        [][]string
		xLabel, yLbl string
	}{
		{0, []string{"AdamW on mnist"}, [][]float64{{95.5, 95}, {97.5, 97}},
			[][]string{{"95.5" + pm, "95.0" + pm}, {"97.5" + pm, "97.0" + pm}}, "Weight Decay", "Learning Rate"},
		{1, []string{"SGD on mnist"}, [][]float64{{90.5, 90}, {92.5, 92}},
			[][]string{{"90.5" + pm, "90.0" + pm}, {"92.5" + pm, "92.0" + pm}}, "Weight Decay", ""},
	}
	for _, tc := range tests {
		p := fig.columns[tc.col].panels[0]
		if !reflect.DeepEqual(p.title, tc.title) {
			t.Errorf("column %d title %q, want %q", tc.col, p.title, tc.title)
		}
		if !reflect.DeepEqual(p.yTicks, []string{"0.001", "0.01"}) || !reflect.DeepEqual(p.xTicks, []string{"0.01", "0.1"}) {
			t.Errorf("column %d ticks y %q x %q", tc.col, p.yTicks, p.xTicks)
		}
		if !reflect.DeepEqual(p.mean, tc.mean) {
			t.Errorf("column %d means %s, want %s", tc.col, fmtGrid(p.mean), fmtGrid(tc.mean))
		}
		if !reflect.DeepEqual(p.annot, tc.annot) {
			t.Errorf("column %d annotations %q, want %q", tc.col, p.annot, tc.annot)
		}
		if p.xLabel != tc.xLabel || p.yLabel != tc.yLbl {
			t.Errorf("column %d labels x %q y %q, want %q %q", tc.col, p.xLabel, p.yLabel, tc.xLabel, tc.yLbl)
		}
		if p.metricLabel != "Test Accuracy" || p.cmap.reversed {
			t.Errorf("column %d colour bar %q reversed=%v", tc.col, p.metricLabel, p.cmap.reversed)
		}
	}
	if fig.widthIn != 12 || fig.heightIn != 5.4 {
		t.Errorf("figure size %v × %v, want 12 × 5.4", fig.widthIn, fig.heightIn)
	}
}

func TestMakePivotSpread(t *testing.T) {
	rows := []Row{
		{"x": 1, "y": 0.1, "m": 1.0}, {"x": 1, "y": 0.1, "m": 2.0}, {"x": 1, "y": 0.1, "m": 3.0},
		{"x": 2, "y": 0.1, "m": 5.0}, // one sample: no spread
		{"x": 2, "y": 0.2, "m": math.NaN()},
		{"x": 1, "y": 0.2, "m": 4.0}, {"x": 1, "y": 0.2, "m": 8.0},
		{"y": 0.2, "m": 100.0}, // no x value: dropped
	}
	kinds := columnKinds(rows, columns(rows))
	tests := []struct {
		agg    string
		spread [][]float64
	}{
		{"std", [][]float64{{1, math.Inf(1)}, {math.Sqrt(8), math.Inf(1)}}},
		{"var", [][]float64{{1, math.Inf(1)}, {8, math.Inf(1)}}},
		{"sem", [][]float64{{1 / math.Sqrt(3), math.Inf(1)}, {2, math.Inf(1)}}},
	}
	for _, tc := range tests {
		p := makePivot(rows, "x", "y", "m", tc.agg, kinds)
		// One row lacks x, so pandas would hold x as floats: "1.0", not "1".
		if !reflect.DeepEqual(p.xTicks, []string{"1.0", "2.0"}) || !reflect.DeepEqual(p.yTicks, []string{"0.1", "0.2"}) {
			t.Fatalf("%s: ticks %q %q", tc.agg, p.xTicks, p.yTicks)
		}
		if p.mean[0][0] != 2 || p.mean[0][1] != 5 || p.mean[1][0] != 6 || !math.IsNaN(p.mean[1][1]) {
			t.Errorf("%s: means %v", tc.agg, p.mean)
		}
		for i := range tc.spread {
			for j := range tc.spread[i] {
				if got, want := p.spread[i][j], tc.spread[i][j]; !(near(got, want) || got == want) {
					t.Errorf("%s: spread[%d][%d] = %v, want %v", tc.agg, i, j, got, want)
				}
			}
		}
	}
}

func TestAnnotationFormat(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		format     string
		mean, std  float64
		withSpread bool
		want       string
	}{
		{"2.2", 0.975, 0.01 / math.Sqrt2, true, "97.5\n±(0.71)"},
		{"2.2", 0.97, 0.0, true, "97.0\n±(0.0)"},
		{"2.2", 0.97, inf, true, "97.0"},
		{"0.3", 0.41234, 0.00049, true, "0.412\n±(0.0)"},
		{"0.3", 0.4125, 0.0015, true, "0.412\n±(0.002)"}, // half to even, as numpy
		{"2.2", 0.975, 0, false, "97.50"},
		{"0.0", 12.5, 0.5, true, "12.0\n±(0.0)"},
		{"-2.1", 12345, 15, true, "123.4\n±(0.2)"}, // 123.45 rounds half to even
		{"0.2", 1e-7, inf, true, "0.0"},
	}
	for _, tc := range tests {
		f, err := parseFormat(tc.format, "test")
		if err != nil {
			t.Fatal(err)
		}
		got := f.annotation(f.scale(tc.mean), f.scale(tc.std), tc.withSpread)
		if got != tc.want {
			t.Errorf("format %s mean %v std %v: %q, want %q", tc.format, tc.mean, tc.std, got, tc.want)
		}
	}
	for _, bad := range []any{nil, "2", "a.b", true} {
		if _, err := parseFormat(bad, "column 1"); err == nil || !strings.Contains(err.Error(), "evaluation.plot.format") {
			t.Errorf("format %v: error %v, want one naming evaluation.plot.format", bad, err)
		}
	}
	if f, err := parseFormat(2.2, "x"); err != nil || f != (numFormat{2, 2}) {
		t.Errorf("format 2.2 as a float: %v %v", f, err)
	}
}

func TestColourLimits(t *testing.T) {
	tests := []struct {
		name       string
		overrides  []string
		vmin, vmax float64
	}{
		{"task limits", nil, 85, 100},
		{"shared over columns", []string{"evaluation.plot.limits=null"}, 90, 97.5},
		{"one column, data range", []string{"evaluation.plot.limits=null", "evaluation.column_split_key=null"}, 92.5, 95},
		{"explicit limits in any order", []string{"evaluation.plot.limits=[99, 80]"}, 80, 99},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fig := figureOf(t, newExperiment(t, gridYAML, tc.overrides...), "best", nil)
			for i, c := range fig.columns {
				p := c.panels[0]
				if !near(p.vmin, tc.vmin) || !near(p.vmax, tc.vmax) {
					t.Errorf("column %d limits [%v, %v], want [%v, %v]", i, p.vmin, p.vmax, tc.vmin, tc.vmax)
				}
			}
		})
	}
}

func TestPaletteReversedForMin(t *testing.T) {
	yaml := strings.Replace(gridYAML, "task: mnist", "task: [mnist, tabular]", 1)
	fig := figureOf(t, newExperiment(t, yaml, "evaluation.split_groups=[task.name]"), "best", nil)
	if fig.nRows != 2 {
		t.Fatalf("%d rows, want one per task", fig.nRows)
	}
	mn, tab := fig.columns[0].panels[0], fig.columns[0].panels[1]
	if mn.cmap.reversed || !tab.cmap.reversed {
		t.Errorf("reversed: mnist %v (want false), tabular %v (want true)", mn.cmap.reversed, tab.cmap.reversed)
	}
	if mn.cmap.at(0) != rocketAnchors[0] || tab.cmap.at(0) != rocketAnchors[len(rocketAnchors)-1] {
		t.Errorf("low end: mnist %v, tabular %v", mn.cmap.at(0), tab.cmap.at(0))
	}
	// Each row uses its own task's metric, format and limits.
	if tab.metricLabel != "Test Root Mean Square Error (RMSE)" || tab.vmin != 0.38 || tab.vmax != 0.48 {
		t.Errorf("tabular row: %q [%v, %v]", tab.metricLabel, tab.vmin, tab.vmax)
	}
	if tab.annot[1][0] != "0.475\n±(0.007)" {
		t.Errorf("tabular annotation %q", tab.annot[1][0])
	}
	if want := []string{"AdamW on tabular", "task.name=tabular"}; !reflect.DeepEqual(tab.title, want) {
		t.Errorf("title %q, want %q", tab.title, want)
	}
	if mn.xLabel != "" || tab.xLabel != "Weight Decay" {
		t.Errorf("x labels %q %q: want only the bottom row labelled", mn.xLabel, tab.xLabel)
	}
	if w, h := fig.widthIn, fig.heightIn; w != 12 || h != 10.8 {
		t.Errorf("figure %v × %v, want 12 × 10.8", w, h)
	}
}

func TestColormap(t *testing.T) {
	c, err := newColormap("rocket", false)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := newColormap("rocket", true)
	rr, _ := newColormap("rocket_r", true)
	for _, x := range []float64{0, 0.1, 0.5, 0.77, 1} {
		if c.at(x) != r.at(1-x) || c.at(x) != rr.at(x) {
			t.Errorf("at %v: %v, reversed %v, double-reversed %v", x, c.at(x), r.at(1-x), rr.at(x))
		}
	}
	lum := func(x float64) int { k := c.at(x); return int(k.R) + int(k.G) + int(k.B) }
	for x := 0.05; x <= 1; x += 0.05 {
		if lum(x) < lum(x-0.05) {
			t.Errorf("rocket darkens between %v and %v", x-0.05, x)
		}
	}
	if _, err := newColormap("viridis", false); err == nil || !strings.Contains(err.Error(), "color_palette") {
		t.Errorf("unknown palette: %v", err)
	}
}

func TestRowGroupsAreSummed(t *testing.T) {
	rows := []Row{
		{"a": 1, "b": "x", "s": 1, "lr": 0.1, "wd": 0.1, "m": 1.0, "evaluation.plot.metric": "m", "engine.workers": 4},
		{"a": 2, "b": "y", "s": 2, "lr": 0.1, "wd": 0.1, "m": 1.0, "evaluation.plot.metric": "m", "engine.workers": 8},
		{"a": 1, "b": "z", "s": 1, "lr": 0.1, "wd": 0.1, "m": 1.0, "evaluation.plot.metric": "m", "engine.workers": 4},
		{"a": 2, "s": 2, "lr": 0.1, "wd": 0.1, "m": 1.0, "evaluation.plot.metric": "m", "engine.workers": 4},
	}
	cols := columns(rows)
	kinds := columnKinds(rows, cols)
	base := settings{aggregateGroups: []string{"s"}, ignoreKeys: []string{"engine.workers"}}
	tests := []struct {
		name  string
		set   func(*settings)
		names []string
		sizes []int
	}{
		{"all", func(s *settings) { s.splitAll = true }, []string{"a=1", "a=2", "b=x", "b=y", "b=z", "b=nan"}, []int{2, 2, 1, 1, 1, 1}},
		{"listed", func(s *settings) { s.splitListed, s.splitList = true, []string{"a"} }, []string{"a=1", "a=2"}, []int{2, 2}},
		{"off", func(*settings) {}, []string{"default"}, []int{4}},
		{"nothing varies", func(s *settings) { s.splitListed, s.splitList = true, []string{"lr"} }, []string{"default"}, []int{4}},
	}
	for _, tc := range tests {
		s := base
		tc.set(&s)
		var log bytes.Buffer
		gs := rowGroups(rows, &s, cols, kinds, "wd", "lr", quietLogger(&log))
		var names []string
		var sizes []int
		for _, g := range gs {
			names, sizes = append(names, g.shown), append(sizes, len(g.rows))
		}
		if !reflect.DeepEqual(names, tc.names) || !reflect.DeepEqual(sizes, tc.sizes) {
			t.Errorf("%s: rows %q sizes %v, want %q %v", tc.name, names, sizes, tc.names, tc.sizes)
		}
		if tc.name == "nothing varies" && !strings.Contains(log.String(), "never split") {
			t.Errorf("listing an axis in split_groups gave no warning: %s", log.String())
		}
	}
}

func TestSeedRowsWithoutSpread(t *testing.T) {
	var log bytes.Buffer
	exp := newExperiment(t, gridYAML, "evaluation.split_groups=[engine.seed]", "evaluation.aggregate_groups=[]")
	fig := figureOf(t, exp, "best", quietLogger(&log))
	if fig.nRows != 2 || fig.widthIn != 12 || fig.heightIn != 10.8 {
		t.Fatalf("grid %d rows, %v × %v in", fig.nRows, fig.widthIn, fig.heightIn)
	}
	p := fig.columns[0].panels[1]
	if want := []string{"AdamW on mnist", "engine.seed=2"}; !reflect.DeepEqual(p.title, want) {
		t.Errorf("title %q, want %q", p.title, want)
	}
	if want := [][]string{{"96.0", "95.5"}, {"98.0", "97.5"}}; !reflect.DeepEqual(p.annot, want) {
		t.Errorf("seed 2 annotations %q, want %q", p.annot, want)
	}
	if !strings.Contains(log.String(), "Not enough data") {
		t.Errorf("no warning about the missing spread: %s", log.String())
	}
}

func TestCSV(t *testing.T) {
	exp := newExperiment(t, gridYAML, "evaluation.output_types=[csv]")
	files, err := Experiment(exp, Options{Logger: quietLogger(nil)})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(exp.Runs[0].Dir))), "plots")
	want := []string{filepath.Join(out, "adamw_baseline_sgd_baseline-mnist-best-0.csv"), filepath.Join(out, "adamw_baseline_sgd_baseline-mnist-best-1.csv")}
	if !reflect.DeepEqual(files, want) {
		t.Fatalf("files %q, want %q", files, want)
	}
	for i, opt := range []string{"adamw_baseline", "sgd_baseline"} {
		f, err := os.Open(files[i])
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		header := recs[0]
		if !sort.StringsAreSorted(header) {
			t.Errorf("header not sorted: %q", header)
		}
		col := map[string]int{}
		for j, h := range header {
			col[h] = j
		}
		for _, k := range []string{"test_acc", "optimizer.learning_rate", "optimizer.weight_decay", "engine.seed", "evaluation.plot.metric", "optimizer.beta1", "optimizer.momentum"} {
			if _, ok := col[k]; !ok {
				t.Errorf("CSV lacks column %s", k)
			}
		}
		if len(recs) != 9 {
			t.Fatalf("%s: %d data rows, want 8", opt, len(recs)-1)
		}
		for _, r := range recs[1:] {
			lr, _ := strconv.ParseFloat(r[col["optimizer.learning_rate"]], 64)
			wd, _ := strconv.ParseFloat(r[col["optimizer.weight_decay"]], 64)
			seed, _ := strconv.Atoi(r[col["engine.seed"]])
			cfg := config.Map{"optimizer": config.Map{"name": opt, "learning_rate": lr, "weight_decay": wd}, "engine": config.Map{"seed": seed}, "task": config.Map{"name": "mnist"}}
			if got, want := r[col["test_acc"]], config.FormatFloat(score(cfg)); got != want {
				t.Errorf("%s lr %v wd %v seed %d: test_acc %s, want %s", opt, lr, wd, seed, got, want)
			}
			if r[col["optimizer.name"]] != opt || r[col["evaluation.checkpoints"]] != "['best']" || r[col["task.max_steps"]] != "" {
				t.Errorf("row %q", r)
			}
		}
		// Both files have the union of the columns: sgd rows leave beta1 empty, adamw rows momentum.
		if empty := map[int]string{0: "optimizer.momentum", 1: "optimizer.beta1"}[i]; recs[1][col[empty]] != "" {
			t.Errorf("%s row has %s = %q, want empty", opt, empty, recs[1][col[empty]])
		}
	}
}

func TestPNGAndPDF(t *testing.T) {
	exp := newExperiment(t, gridYAML, "evaluation.output_types=[png, pdf, svg]", "evaluation.checkpoints=[best, last]")
	files, err := Experiment(exp, Options{Logger: quietLogger(nil)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	want := []string{
		"adamw_baseline_sgd_baseline-mnist-best.png", "adamw_baseline_sgd_baseline-mnist-best.pdf", "adamw_baseline_sgd_baseline-mnist-best.svg",
		"adamw_baseline_sgd_baseline-mnist-last.png", "adamw_baseline_sgd_baseline-mnist-last.pdf", "adamw_baseline_sgd_baseline-mnist-last.svg",
	}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("files %q, want %q", names, want)
	}

	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 480 || b.Dy() != 216 {
		t.Errorf("PNG %d × %d, want 480 × 216 (12 × 5.4 in at 40 dpi)", b.Dx(), b.Dy())
	}
	// A cell's corner has the cell's colour: adamw, lr 0.001, wd 0.01 (95.5 within [85, 100]).
	fig := figureOf(t, exp, "best", nil)
	lay := layoutFigure(fig)
	pl := lay.panels[0]
	k := 40.0 / 72
	px, py := int((pl.heat.x+1)*k)+1, int((pl.heat.y+1)*k)+1
	got := img.At(px, py)
	wantC := pl.panel.cmap.at(norm(95.5, 85, 100))
	r, g, b, _ := got.RGBA()
	if d := math.Abs(float64(r>>8)-float64(wantC.R)) + math.Abs(float64(g>>8)-float64(wantC.G)) + math.Abs(float64(b>>8)-float64(wantC.B)); d > 6 {
		t.Errorf("cell pixel %v, want %v", got, wantC)
	}

	pdf, err := os.ReadFile(files[1])
	if err != nil {
		t.Fatal(err)
	}
	checkPDF(t, pdf, []string{"(AdamW on mnist) Tj", "(97.5) Tj", `(\261\(0.71\)) Tj`, "(Learning Rate) Tj", "(Test Accuracy) Tj"})

	svg, err := os.ReadFile(files[2])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(svg, []byte("<?xml")) || !bytes.Contains(svg, []byte(">±(0.71)</text>")) {
		t.Errorf("SVG lacks its header or annotations")
	}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
	}
}

// checkPDF verifies the structure (header, page, xref offsets) and the text drawn.
func checkPDF(t *testing.T, pdf []byte, texts []string) {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
		t.Fatalf("not a PDF: %q ... %q", pdf[:min(20, len(pdf))], pdf[max(0, len(pdf)-10):])
	}
	for _, s := range []string{"/Type /Page ", "/MediaBox [0 0 864 388.8]", "/BaseFont /Helvetica"} {
		if !bytes.Contains(pdf, []byte(s)) {
			t.Errorf("PDF lacks %q", s)
		}
	}
	m := regexp.MustCompile(`startxref\n(\d+)\n`).FindSubmatch(pdf)
	if m == nil {
		t.Fatal("PDF has no startxref")
	}
	off, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(pdf[off:], []byte("xref\n0 7\n")) {
		t.Fatalf("startxref %d does not point at the xref table", off)
	}
	entries := regexp.MustCompile(`(\d{10}) 00000 n `).FindAllSubmatch(pdf[off:], -1)
	for i, e := range entries {
		o, _ := strconv.Atoi(string(e[1]))
		if want := strconv.Itoa(i+1) + " 0 obj"; !bytes.HasPrefix(pdf[o:], []byte(want)) {
			t.Errorf("xref entry %d points at %q", i+1, pdf[o:min(len(pdf), o+10)])
		}
	}
	start := bytes.Index(pdf, []byte("stream\n")) + len("stream\n")
	end := bytes.Index(pdf, []byte("\nendstream"))
	zr, err := zlib.NewReader(bytes.NewReader(pdf[start:end]))
	if err != nil {
		t.Fatal(err)
	}
	content, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range texts {
		if !bytes.Contains(content, []byte(s)) {
			t.Errorf("PDF content lacks %q", s)
		}
	}
}

func TestPrettyName(t *testing.T) {
	tests := map[string]string{
		"adamw_baseline":          "AdamW",
		"sgd_stepwise":            "SGD (stepwise)",
		"adamcpr_fast":            "AdamCPR",
		"optimizer.learning_rate": "Learning Rate",
		"optimizer.weight_decay":  "Weight Decay",
		"test_mIoU":               "Test mean Intersection over Union",
		"test_top1_acc":           "Test Top1 Acc",
		"graph_tiny":              "graph_tiny",
		"mnist":                   "mnist",
		"lion":                    "Lion",
		"optimizer.beta2":         "Optimizer.Beta2",
		"adam_plus":               "Adam Plus",
	}
	for in, want := range tests {
		if got := PrettyName(in); got != want {
			t.Errorf("PrettyName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMissingResults(t *testing.T) {
	exp := newExperiment(t, gridYAML)
	// Drop both seeds of one adamw cell: the cell is blank, the rest is plotted.
	removed := 0
	for _, run := range exp.Runs {
		if config.PyStr(config.Sub(run.Config, "optimizer")["name"]) == "adamw_baseline" &&
			config.Sub(run.Config, "optimizer")["learning_rate"] == 0.01 && config.Sub(run.Config, "optimizer")["weight_decay"] == 0.1 {
			if err := os.Remove(filepath.Join(run.Dir, "results_best_model.json")); err != nil {
				t.Fatal(err)
			}
			removed++
		}
	}
	if removed != 2 {
		t.Fatalf("removed %d files, want 2", removed)
	}
	var log bytes.Buffer
	fig := figureOf(t, exp, "best", quietLogger(&log))
	if n := strings.Count(log.String(), "result file not found"); n != 2 {
		t.Errorf("%d warnings about missing files, want 2:\n%s", n, log.String())
	}
	p := fig.columns[0].panels[0]
	if !math.IsNaN(p.mean[1][1]) || p.mean[1][0] != 97.5 {
		t.Errorf("means %v: want the lr 0.01 / wd 0.1 cell blank", p.mean)
	}
	if _, err := png.Decode(bytes.NewReader(mustPNG(t, fig))); err != nil {
		t.Error(err)
	}

	for _, run := range exp.Runs {
		os.Remove(filepath.Join(run.Dir, "results_best_model.json"))
	}
	_, err := Runs(exp, "best", quietLogger(nil))
	if err == nil || !strings.Contains(err.Error(), "experiment adamw_baseline_sgd_baseline-mnist:") ||
		!strings.Contains(err.Error(), "results_best_model.json") || !strings.Contains(err.Error(), "16 run folders") {
		t.Errorf("no results: error %v, want one naming the experiment and the file looked for", err)
	}
}

func mustPNG(t *testing.T, fig *figure) []byte {
	t.Helper()
	data, err := renderPNG(layoutFigure(fig), 20)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestResultFileQuirks(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		body    string
		want    float64
		wantErr bool
	}{
		{`[{"test_acc": NaN, "label": "NaN in a string"}]`, math.NaN(), false},
		{`[{"test_acc": -Infinity}]`, math.Inf(-1), false},
		{`[{"test_acc": 0.5}, {"test_acc": 0.1}]`, 0.5, false},
		{`{"test_acc": 0.5}`, 0, true},
	}
	for i, tc := range tests {
		path := filepath.Join(dir, strconv.Itoa(i)+".json")
		if err := os.WriteFile(path, []byte(tc.body), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := readResults(path)
		if tc.wantErr {
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("%s: error %v, want one naming the file", tc.body, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got := res[0]["test_acc"].(float64)
		if !(got == tc.want || math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("%s: %v, want %v", tc.body, got, tc.want)
		}
		if i == 0 && res[0]["label"] != "NaN in a string" {
			t.Errorf("string changed: %q", res[0]["label"])
		}
	}
}

func TestSettingsErrorsAndFallbacks(t *testing.T) {
	tests := []struct {
		overrides []string
		errHas    string
	}{
		{[]string{"evaluation.plot.x_axis=[optimizer.nope]"}, "evaluation.plot.x_axis"},
		{[]string{"evaluation.checkpoints=[middle]"}, "evaluation.checkpoints"},
		{[]string{"evaluation.plot.aggfunc=median"}, "evaluation.plot.aggfunc"},
		{[]string{"evaluation.plot.single_file=false"}, "single_file"},
		{[]string{"evaluation.column_split_key=optimizer.nope"}, "evaluation.column_split_key"},
		{[]string{"evaluation.column_split_order=[lion]"}, "evaluation.column_split_order"},
		{[]string{"evaluation.plot.limits=fast"}, "evaluation.plot.limits"},
		{[]string{"evaluation.plotstyle.dpi=-1"}, "evaluation.plotstyle.dpi"},
	}
	for _, tc := range tests {
		exp := newExperiment(t, gridYAML, tc.overrides...)
		_, err := Experiment(exp, Options{Logger: quietLogger(nil)})
		if err == nil || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("%v: error %v, want one naming %s", tc.overrides, err, tc.errHas)
		}
	}

	// Axis keys without the optimizer prefix are found with it; an explicit column order wins.
	var log bytes.Buffer
	exp := newExperiment(t, gridYAML, "evaluation.plot.x_axis=[weight_decay, learning_rate]", "evaluation.column_split_order=[sgd_baseline, adamw_baseline]")
	fig := figureOf(t, exp, "best", quietLogger(&log))
	if !strings.Contains(log.String(), "optimizer.weight_decay") {
		t.Errorf("no warning about the prefix: %s", log.String())
	}
	sgd, adamw := fig.columns[0].panels[0], fig.columns[1].panels[0]
	if sgd.title[0] != "SGD on mnist" || adamw.title[0] != "AdamW on mnist" {
		t.Errorf("column order %q %q", sgd.title, adamw.title)
	}
	if sgd.xLabel != "Weight Decay" || adamw.xLabel != "Learning Rate" || !reflect.DeepEqual(adamw.xTicks, []string{"0.001", "0.01"}) {
		t.Errorf("per-column x axes: %q %q %q", sgd.xLabel, adamw.xLabel, adamw.xTicks)
	}
}

func TestEnginePlotFalse(t *testing.T) {
	exp := newExperiment(t, gridYAML, "engine.plot=false", "evaluation.output_types=[csv]")
	dir := t.TempDir()
	for i := range exp.Runs {
		config.Set(exp.Runs[i].Config, "evaluation.output_dir", dir)
	}
	files, err := Experiment(exp, Options{Logger: quietLogger(nil)})
	if err != nil || files != nil {
		t.Fatalf("engine.plot false: %q %v, want nothing", files, err)
	}
	files, err = Experiment(exp, Options{Logger: quietLogger(nil), Force: true})
	if err != nil || len(files) != 2 || filepath.Dir(files[0]) != dir {
		t.Fatalf("forced: %q %v, want 2 CSV files in %s", files, err, dir)
	}
}

// TestRealisticFigure renders a two-task, two-optimizer grid at print resolution. With
// FOB_PLOT_KEEP set to a folder the files are copied there for a look.
func TestRealisticFigure(t *testing.T) {
	yaml := strings.Replace(gridYAML, "task: mnist", "task: [mnist, tabular]", 1)
	yaml = strings.Replace(yaml, "dpi: 40", "dpi: 100", 1)
	exp := newExperiment(t, yaml, "evaluation.split_groups=[task.name]", "evaluation.output_types=[png, pdf, svg]")
	files, err := Experiment(exp, Options{Logger: quietLogger(nil)})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 1200 || cfg.Height != 1080 {
		t.Errorf("PNG %d × %d, want 1200 × 1080", cfg.Width, cfg.Height)
	}
	if keep := os.Getenv("FOB_PLOT_KEEP"); keep != "" {
		for _, f := range files {
			b, _ := os.ReadFile(f)
			if err := os.WriteFile(filepath.Join(keep, filepath.Base(f)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
