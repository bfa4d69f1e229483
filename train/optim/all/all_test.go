package all_test

import (
	"reflect"
	"testing"

	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/optim"
	_ "github.com/fob-go/fob/train/optim/all"
)

// Every optimizer is registered under its folder name with the default.yaml of spec §4.2
// (adamcpr_fast named adamcpr_fast, sgd_stepwise added, sophia's Hessian interval added).
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
	var wantNames []string
	for n := range want {
		wantNames = append(wantNames, n)
	}
	for _, n := range wantNames {
		e, err := optim.Get(n)
		if err != nil {
			t.Errorf("%s not registered (registered: %v)", n, names)
			continue
		}
		got, err := optim.ParseDefaults(e.DefaultYAML)
		if err != nil {
			t.Fatal(err)
		}
		w := config.Map{"name": n}
		for k, v := range want[n] {
			w[k] = v
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s default.yaml\n got %#v\nwant %#v", n, got, w)
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
	if len(names) != len(want) {
		t.Errorf("registered %v, want exactly %d optimizers", names, len(want))
	}
}
