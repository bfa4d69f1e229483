package train

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// CSVLog appends metric rows to a run's metrics.csv. Its columns are fixed when the file is
// created; a row leaves a cell empty when it does not carry that metric (as Lightning's CSV
// logger does: step rows carry train metrics, epoch rows validation metrics).
type CSVLog struct {
	path    string
	columns []string
}

// OpenCSVLog opens path, creating it with the given metric columns (after "epoch" and "step")
// or, on resume, truncating it to keepBytes so rows written after the checkpoint disappear.
func OpenCSVLog(path string, metrics []string, keepBytes int64) (*CSVLog, error) {
	cols := append([]string{"epoch", "step"}, metrics...)
	l := &CSVLog{path: path, columns: cols}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if keepBytes > 0 {
		if err := os.Truncate(path, keepBytes); err == nil {
			return l, nil
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	if err := w.Write(cols); err != nil {
		return nil, err
	}
	w.Flush()
	return l, w.Error()
}

// Append writes one row and returns the file's new size.
func (l *CSVLog) Append(epoch, step int, values map[string]float64) (int64, error) {
	f, err := os.OpenFile(l.path, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	row := make([]string, len(l.columns))
	row[0], row[1] = strconv.Itoa(epoch), strconv.Itoa(step)
	for i, c := range l.columns[2:] {
		if v, ok := values[c]; ok {
			row[i+2] = strconv.FormatFloat(v, 'g', -1, 64)
		}
	}
	w := csv.NewWriter(f)
	if err := w.Write(row); err != nil {
		return 0, err
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func fmtMetrics(m map[string]float64) string {
	s := ""
	for _, k := range sortedKeys(m) {
		s += fmt.Sprintf(" %s=%.4g", k, m[k])
	}
	return s
}
