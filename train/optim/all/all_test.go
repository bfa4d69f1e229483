package all_test

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/optim"
	_ "github.com/fob-go/fob/train/optim/all"
)

// TestDefaults: every registered optimizer's default.yaml names it and builds an optimizer on
// its own; the optimizers FOB ships keep FOB's defaults (docs/fob-behaviour.md §4.2, §8:
// adamcpr_fast named adamcpr_fast, sgd_stepwise added, sophia's Hessian interval added).
// Optimizers added later are checked by the first two rules only, so adding one as
// docs/optimizers.md says needs no change here.
func TestDefaults(t *testing.T) {
	want := map[string]config.Map{
		"adamw_baseline": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "weight_decay": 0.01, "epsilon": 1e-8},
		"adamcpr": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "kappa_init_param": 1.0,
			"kappa_init_method": "warm_start_factor", "reg_function": "l2", "kappa_adapt": false, "kappa_update": 1.0},
		"adamcpr_fast": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "kappa_init_param": 1.0,
			"kappa_init_method": "warm_start_factor", "reg_function": "l2", "kappa_update": 1.0},
		"sgd_baseline": {"learning_rate": 1e-2, "momentum": 0.9, "weight_decay": 1e-4, "nesterov": false},
		"sgd_stepwise": {"learning_rate": 1e-2, "momentum": 0.9, "weight_decay": 1e-4, "nesterov": false,
			"lr_scheduler": config.Map{"scheduler": "stepwise", "interval": "epoch", "warmup_steps": 0}},
		"adafactor": {"learning_rate": 1e-3, "beta1": 0.9, "weight_decay": 0.01, "eps1": 1e-30, "eps2": 1e-3,
			"clipping_threshold": 1.0, "decay_rate": -0.8},
		"adam_plus": {"lr_grad": 1e-6, "lr_decay": 0.1, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
			"reg_step_size": 100, "kappa_update": 1.0, "foreach": nil},
		"lion":     {"learning_rate": 1e-4, "beta1": 0.9, "beta2": 0.999, "weight_decay": 0.0, "decoupled_weight_decay": false},
		"radam":    {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "weight_decay": 0.01, "epsilon": 1e-8},
		"sophia":   {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "rho": 0.04, "weight_decay": 1e-5, "hessian_update_interval": 10},
		"template": {"output_dir_name": "template", "learning_rate": 1e-3},
	}
	names := optim.Names()
	for n := range want {
		if _, err := optim.Get(n); err != nil {
			t.Errorf("%s not registered (registered: %v)", n, names)
		}
	}
	for _, n := range names {
		e, err := optim.Get(n)
		if err != nil {
			t.Fatal(err)
		}
		got, err := optim.ParseDefaults(e.DefaultYAML)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if got["name"] != n {
			t.Errorf("%s: default.yaml names it %v", n, got["name"])
		}
		if w, ok := want[n]; ok {
			w = maps.Clone(w)
			w["name"] = n
			if !reflect.DeepEqual(got, w) {
				t.Errorf("%s default.yaml\n got %#v\nwant %#v", n, got, w)
			}
		}
		// The defaults alone (plus what the engine copies in) build an optimizer.
		cfg := config.Map{"max_steps": 1000, "max_epochs": 10}
		for k, v := range got {
			cfg[k] = v
		}
		groups := []optim.Group{{Name: "decay", LRMultiplier: 1, WDMultiplier: 1, Params: []string{"w"}},
			{Name: "no_decay", LRMultiplier: 1, WDMultiplier: 0, Params: []string{"b"}}}
		if _, err := e.New(optim.Settings{Config: cfg, Groups: groups}); err != nil {
			t.Errorf("%s: defaults rejected: %v", n, err)
		}
	}
}

// TestEveryFolderIsLinked: the optimizers registered through this package are exactly the
// folders of train/optim that hold a default.yaml, so a new optimizer folder that all.go does
// not import yet (step 5 of docs/optimizers.md) is caught here.
func TestEveryFolderIsLinked(t *testing.T) {
	entries, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	var folders []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join("..", e.Name(), "default.yaml")); e.IsDir() && err == nil {
			folders = append(folders, e.Name())
		}
	}
	if got, want := strings.Join(optim.Names(), ", "), strings.Join(folders, ", "); got != want {
		t.Errorf("registered optimizers: %s\noptimizer folders:     %s\n(import each folder in train/optim/all/all.go)", got, want)
	}
}
