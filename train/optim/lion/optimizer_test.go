package lion_test

import (
	"testing"

	"github.com/fob-go/fob/train/config"
	_ "github.com/fob-go/fob/train/optim/lion"
	"github.com/fob-go/fob/train/optim/optimtest"
)

// Against a numpy Lion (coupled and decoupled weight decay) over 8 steps.
func TestReference(t *testing.T) {
	optimtest.CompareFile(t, "../testdata/lion.json")
}

func TestQuadratic(t *testing.T) {
	optimtest.CheckQuadratic(t, config.Map{"name": "lion", "weight_decay": 0.0, "beta2": 0.99}, 0.01, 600, 1e-2)
}

func TestFactoryErrors(t *testing.T) {
	optimtest.CheckFactoryErrors(t, "lion", []optimtest.BadConfig{
		{Key: "learning_rate", Value: -1e-4, Want: "valid range [0, inf)"},
		{Key: "beta1", Value: 1.5, Want: "valid range [0, 1]"},
		{Key: "beta2", Value: -0.5, Want: "valid range [0, 1]"},
		{Key: "decoupled_weight_decay", Value: 1, Want: "true or false"},
	})
}
