// Package plot draws FOB's result heatmaps (docs/fob-behaviour.md §6.2): for every checkpoint mode, the runs'
// test metric as mean ± spread over seeds on a learning-rate × weight-decay grid, one column per
// optimizer, written as PNG, PDF, SVG and CSV files.
package plot

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/experiment"
)

// Options adjust Experiment.
type Options struct {
	// Logger receives the warnings (missing results, spreads that cannot be computed) and
	// the files written; nil means slog.Default().
	Logger *slog.Logger
	// Force plots even when the first run has engine.plot: false (as `fob eval` does).
	Force bool
}

// Experiment plots the results of exp as configured by the first run's evaluation section:
// for each mode in evaluation.checkpoints it loads the rows (Runs), builds the heatmap grid and
// writes <output_dir>/<experiment_name>-<mode>.{png,pdf,svg} and, for csv, one
// <experiment_name>-<mode>-<i>.csv per grid column, as evaluation.output_types selects. It
// returns the files written. With engine.plot false (and no Force) it writes nothing.
func Experiment(exp *experiment.Experiment, opts Options) ([]string, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if exp == nil || len(exp.Runs) == 0 {
		return nil, fmt.Errorf("plot: the experiment has no runs")
	}
	first := exp.Runs[0].Config
	if !opts.Force {
		if v, _ := config.Get(first, "engine.plot"); v == false {
			logger.Info("engine.plot is false, not plotting")
			return nil, nil
		}
	}
	s, err := readSettings(first)
	if err != nil {
		return nil, err
	}
	if err := loadFont(); err != nil {
		return nil, err
	}
	var written []string
	for _, mode := range s.checkpoints {
		files, err := plotMode(exp, s, mode, logger)
		written = append(written, files...)
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// plotMode draws and writes the figure of one checkpoint mode.
func plotMode(exp *experiment.Experiment, s *settings, mode string, logger *slog.Logger) ([]string, error) {
	rows, err := Runs(exp, mode, logger)
	if err != nil {
		return nil, err
	}
	fig, err := buildFigure(rows, s, logger)
	if err != nil {
		return nil, err
	}
	name := s.experimentName
	if name == "" {
		name = defaultName(rows)
	}
	if err := os.MkdirAll(s.outputDir, 0o755); err != nil {
		return nil, fmt.Errorf("evaluation.output_dir: %w", err)
	}
	base := filepath.Join(s.outputDir, name+"-"+mode)
	var lay *layout
	var written []string
	write := func(path string, data []byte) error {
		if err := config.WriteFileAtomic(path, data); err != nil {
			return err
		}
		logger.Info("plot written", "file", path)
		written = append(written, path)
		return nil
	}
	for _, t := range s.outputTypes {
		var data []byte
		switch t {
		case "csv":
			cols := columns(rows)
			kinds := columnKinds(rows, cols)
			for i, c := range fig.columns {
				if err := write(base+"-"+strconv.Itoa(i)+".csv", csvBytes(c.rows, cols, kinds)); err != nil {
					return written, err
				}
			}
			continue
		case "png", "pdf", "svg":
			if lay == nil {
				lay = layoutFigure(fig)
			}
			switch t {
			case "png":
				data, err = renderPNG(lay, s.dpi)
			case "pdf":
				data, err = renderPDF(lay)
			default:
				data = renderSVG(lay)
			}
			if err != nil {
				return written, fmt.Errorf("rendering %s: %w", base+"."+t, err)
			}
		default:
			logger.Warn("evaluation.output_types: unknown type, skipped (use png, pdf, svg or csv)", "type", t)
			continue
		}
		if err := write(base+"."+t, data); err != nil {
			return written, err
		}
	}
	return written, nil
}

// defaultName is "<optimizers>-<tasks>": the sorted distinct names joined by "_".
func defaultName(rows []Row) string {
	names := func(col string) string {
		set := map[string]bool{}
		for _, r := range rows {
			if v, ok := r[col]; ok {
				set[config.PyStr(v)] = true
			}
		}
		list := make([]string, 0, len(set))
		for n := range set {
			list = append(list, n)
		}
		sort.Strings(list)
		return strings.Join(list, "_")
	}
	return names("optimizer.name") + "-" + names("task.name")
}

// csvBytes writes rows as pandas' to_csv(index=False) would, with the columns sorted.
func csvBytes(rows []Row, cols []string, kinds map[string]colKind) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(cols)
	rec := make([]string, len(cols))
	for _, r := range rows {
		for i, c := range cols {
			v, ok := r[c]
			rec[i] = csvValue(v, ok, kinds[c])
		}
		_ = w.Write(rec)
	}
	w.Flush()
	return buf.Bytes()
}
