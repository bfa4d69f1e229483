package traintest

import (
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
