package traintest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fob-go/fob/train"
)

// readResults reads one of the results files (train.ResultsLast, train.ResultsBest) a finished
// run wrote in runDir: a list of test-metric entries.
func readResults(tb testing.TB, runDir, file string) []map[string]float64 {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(runDir, file))
	if err != nil {
		tb.Fatal(err)
	}
	var res []map[string]float64
	if err := json.Unmarshal(b, &res); err != nil {
		tb.Fatalf("%s: %v %s", file, err, b)
	}
	return res
}

// Results reads a finished run's results_final_model.json and results_best_model.json (the
// test metrics of the last and the best checkpoint), keyed by file name.
func Results(tb testing.TB, runDir string) map[string]map[string]float64 {
	tb.Helper()
	out := map[string]map[string]float64{}
	for _, f := range []string{train.ResultsLast, train.ResultsBest} {
		res := readResults(tb, runDir, f)
		if len(res) == 0 {
			tb.Fatalf("%s: no entries", f)
		}
		out[f] = res[0]
	}
	return out
}

// BestResults reads the test metrics a finished run wrote for its best checkpoint
// (train.ResultsBest in runDir, one entry).
func BestResults(tb testing.TB, runDir string) map[string]float64 {
	tb.Helper()
	res := readResults(tb, runDir, train.ResultsBest)
	if len(res) != 1 {
		tb.Fatalf("%s: %d entries, want 1", train.ResultsBest, len(res))
	}
	return res[0]
}

// CSVHeader returns the column names of a run's csv_logs/metrics.csv.
func CSVHeader(tb testing.TB, runDir string) []string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(runDir, "csv_logs", "metrics.csv"))
	if err != nil {
		tb.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]), ",")
}
