package traintest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/fob-go/fob/train"
)

// BestResults reads the test metrics a finished run wrote for its best checkpoint
// (train.ResultsBest in runDir, one entry).
func BestResults(tb testing.TB, runDir string) map[string]float64 {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(runDir, train.ResultsBest))
	if err != nil {
		tb.Fatal(err)
	}
	var res []map[string]float64
	if err := json.Unmarshal(b, &res); err != nil || len(res) != 1 {
		tb.Fatalf("%s: %v %s", train.ResultsBest, err, b)
	}
	return res[0]
}
