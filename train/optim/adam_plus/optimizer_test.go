package adamplus_test

import (
	"testing"

	"github.com/fob-go/fob/train/config"
	_ "github.com/fob-go/fob/train/optim/adam_plus"
	"github.com/fob-go/fob/train/optim/optimtest"
)

// Against a numpy AdamPlus over 28 steps: lr warmup, inflection detection, constraint and decay.
func TestReference(t *testing.T) {
	optimtest.CompareFile(t, "../testdata/adam_plus.json")
}

func TestQuadratic(t *testing.T) {
	optimtest.CheckQuadratic(t, config.Map{"name": "adam_plus", "lr_grad": 1e-3, "max_steps": 400}, 1.0, 300, 5e-2)
}

func TestFactoryErrors(t *testing.T) {
	optimtest.CheckFactoryErrors(t, "adam_plus", []optimtest.BadConfig{
		{Key: "lr_grad", Value: -1e-6, Want: "valid range [0, inf)"},
		{Key: "lr_decay", Value: 0.0, Want: "valid range (0, inf)"},
		{Key: "reg_step_size", Value: 0, Want: "integers ≥ 1"},
		{Key: "max_steps", Value: 0, Want: "integers ≥ 1"},
		{Key: "learning_rate", Value: 1e-3, Want: "unknown hyperparameter"},
	})
}
