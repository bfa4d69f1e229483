package adamcpr_test

import (
	"testing"

	"github.com/fob-go/fob/train/config"
	_ "github.com/fob-go/fob/train/optim/adamcpr"
	"github.com/fob-go/fob/train/optim/optimtest"
)

// Against torch 1.13 Adam + a numpy CPR step: every kappa_init_method and reg_function.
func TestReference(t *testing.T) {
	optimtest.CompareFile(t, "../testdata/adamcpr.json")
}

func TestQuadratic(t *testing.T) {
	optimtest.CheckQuadratic(t, config.Map{"name": "adamcpr", "max_steps": 200}, 0.05, 200, 1e-2)
}

func TestFactoryErrors(t *testing.T) {
	optimtest.CheckFactoryErrors(t, "adamcpr", []optimtest.BadConfig{
		{Key: "learning_rate", Value: -1e-3, Want: "valid range [0, inf)"},
		{Key: "kappa_init_method", Value: "warmstart", Want: "valid values: warm_start_factor"},
		{Key: "reg_function", Value: "l3", Want: "valid values: l2, l1, std, huber"},
		{Key: "kappa_update", Value: -1.0, Want: "valid range [0, inf)"},
		{Key: "kappa_adapt", Value: "no", Want: "true or false"},
		{Key: "beta1", Value: 1.0, Want: "valid range [0, 1)"},
	})
}
