package traintest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train/config"
)

// ConfigCase sets one key of a task's default section (Key "" keeps the defaults) and says
// what configuring and building the model should give: Want "" builds, otherwise an error
// containing Want.
type ConfigCase struct {
	Key  string
	Val  any
	Want string
}

// CheckConfigs runs each case through tasks.Configure and t.BuildModel, failing the test on a
// panic, on an error where none is wanted or a different one, and on a built model whose
// signature does not fit the task; built (optional) checks each built model further.
func CheckConfigs(tb testing.TB, t tasks.Task, cases []ConfigCase, built func(c ConfigCase, m *onnxpb.ModelProto)) {
	tb.Helper()
	for _, c := range cases {
		cfg := TaskConfig(tb, t)
		if c.Key != "" {
			config.Set(cfg, c.Key, c.Val)
		}
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					tb.Errorf("%s=%v: panic: %v", c.Key, c.Val, r)
				}
			}()
			if _, err = tasks.Configure(t, cfg); err != nil {
				return
			}
			var m *onnxpb.ModelProto
			if m, err = t.BuildModel(cfg, 1); err != nil {
				return
			}
			sig, serr := onnx.SignatureOf(m)
			if serr == nil {
				serr = t.Signature().Check(sig)
			}
			if serr != nil {
				tb.Errorf("%s=%v: the built model does not fit the task: %v", c.Key, c.Val, serr)
			}
			if built != nil {
				built(c, m)
			}
		}()
		switch {
		case c.Want == "" && err != nil:
			tb.Errorf("%s=%v: %v", c.Key, c.Val, err)
		case c.Want != "" && (err == nil || !strings.Contains(err.Error(), c.Want)):
			tb.Errorf("%s=%v: error %v, want %q", c.Key, c.Val, err, c.Want)
		}
	}
}

// Results reads a finished run's results_final_model.json and results_best_model.json (the
// test metrics of the last and the best checkpoint), keyed by file name.
func Results(tb testing.TB, runDir string) map[string]map[string]float64 {
	tb.Helper()
	out := map[string]map[string]float64{}
	for _, f := range []string{"results_final_model.json", "results_best_model.json"} {
		b, err := os.ReadFile(filepath.Join(runDir, f))
		if err != nil {
			tb.Fatal(err)
		}
		var res []map[string]float64
		if err := json.Unmarshal(b, &res); err != nil || len(res) == 0 {
			tb.Fatalf("%s: %v (%d entries)", f, err, len(res))
		}
		out[f] = res[0]
	}
	return out
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
