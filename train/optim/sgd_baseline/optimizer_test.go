package sgd_test

import (
	"testing"

	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/optim/optimtest"
	_ "github.com/fob-go/fob/train/optim/sgd_baseline"
)

// Against torch 1.13 SGD (momentum, Nesterov, none) over 8 steps, two groups.
func TestReference(t *testing.T) {
	optimtest.CompareFile(t, "../testdata/sgd_baseline.json")
}

func TestQuadratic(t *testing.T) {
	optimtest.CheckQuadratic(t, config.Map{"name": "sgd_baseline", "weight_decay": 0.0}, 0.05, 200, 1e-3)
}

func TestFactoryErrors(t *testing.T) {
	optimtest.CheckFactoryErrors(t, "sgd_baseline", []optimtest.BadConfig{
		{Key: "learning_rate", Value: -0.1, Want: "valid range [0, inf)"},
		{Key: "momentum", Value: -0.9, Want: "valid range [0, inf)"},
		{Key: "nesterov", Value: "yes", Want: "true or false"},
		{Key: "weight_decay", Value: -1.0, Want: "valid range"},
		{Key: "dampening", Value: 0.1, Want: "unknown hyperparameter"},
	})
}
