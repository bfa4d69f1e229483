package adamcprfast_test

import (
	"testing"

	"github.com/fob-go/fob/train/config"
	_ "github.com/fob-go/fob/train/optim/adamcpr_fast"
	"github.com/fob-go/fob/train/optim/optimtest"
)

// Against torch 1.13 Adam + a numpy CPR step (same math as adamcpr).
func TestReference(t *testing.T) {
	optimtest.CompareFile(t, "../testdata/adamcpr_fast.json")
}

func TestQuadratic(t *testing.T) {
	optimtest.CheckQuadratic(t, config.Map{"name": "adamcpr_fast", "max_steps": 200}, 0.05, 200, 1e-2)
}

func TestFactoryErrors(t *testing.T) {
	optimtest.CheckFactoryErrors(t, "adamcpr_fast", []optimtest.BadConfig{
		{Key: "learning_rate", Value: -1e-3, Want: "valid range [0, inf)"},
		{Key: "kappa_init_param", Value: -1.0, Want: "valid range [0, inf)"},
		{Key: "reg_function", Value: "l0", Want: "valid values"},
	})
}
