package sgdstepwise_test

import (
	"testing"

	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/optim/optimtest"
	_ "github.com/fob-go/fob/train/optim/sgd_stepwise"
)

// Against torch 1.13 SGD: sgd_stepwise is sgd_baseline with other defaults.
func TestReference(t *testing.T) {
	optimtest.CompareFile(t, "../testdata/sgd_stepwise.json")
}

func TestQuadratic(t *testing.T) {
	optimtest.CheckQuadratic(t, config.Map{"name": "sgd_stepwise", "weight_decay": 0.0}, 0.05, 200, 1e-3)
}

func TestFactoryErrors(t *testing.T) {
	optimtest.CheckFactoryErrors(t, "sgd_stepwise", []optimtest.BadConfig{
		{Key: "learning_rate", Value: -0.1, Want: "valid range [0, inf)"},
		{Key: "momentum", Value: "high", Want: "want a number"},
		{Key: "step_size", Value: 10, Want: "unknown hyperparameter"},
	})
}
