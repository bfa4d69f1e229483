package graph_tiny

import (
	"strings"
	"testing"

	"github.com/fob-go/fob/train/config"
)

// TestBuildModelSizes: model sizes out of range are errors naming the key, the value and the
// valid range, never a panic or an attempt to allocate the impossible (template's
// hidden_channels=-3 panicked).
func TestBuildModelSizes(t *testing.T) {
	for _, tc := range []struct {
		key  string
		val  any
		want string // "" = builds
	}{
		{"model.hidden_channels", -3, "task.model.hidden_channels = -3 is out of range; valid values are 1 to 65536"},
		{"model.hidden_channels", 1 << 40, "valid values are 1 to 65536"},
		{"model.num_layers", 1, "task.model.num_layers = 1 is out of range; valid values are 2 to 64"},
		{"model.num_layers", -5, "task.model.num_layers = -5 is out of range"},
		{"model.num_layers", 1000000, "valid values are 2 to 64"},
		{"model.dropout", 1.5, "task.model.dropout must be in [0, 1)"},
		{"model.num_layers", 3, ""},
	} {
		def, err := config.ParseMap(Task{}.DefaultYAML(), "default.yaml")
		if err != nil {
			t.Fatal(err)
		}
		cfg := config.Sub(def, "task")
		config.Set(cfg, tc.key, tc.val)
		var buildErr error
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s=%v: panic: %v", tc.key, tc.val, r)
				}
			}()
			_, buildErr = Task{}.BuildModel(cfg, 1)
		}()
		switch {
		case tc.want == "" && buildErr != nil:
			t.Errorf("%s=%v: %v", tc.key, tc.val, buildErr)
		case tc.want != "" && (buildErr == nil || !strings.Contains(buildErr.Error(), tc.want)):
			t.Errorf("%s=%v: error %v, want %q", tc.key, tc.val, buildErr, tc.want)
		}
	}
}
