package adafactor_test

import (
	"testing"

	"github.com/fob-go/fob/train/config"
	_ "github.com/fob-go/fob/train/optim/adafactor"
	"github.com/fob-go/fob/train/optim/optimtest"
)

// Against a numpy Adafactor over 8 steps (factored 2-D and 4-D, unfactored 1-D and scalar).
func TestReference(t *testing.T) {
	optimtest.CompareFile(t, "../testdata/adafactor.json")
}

func TestQuadratic(t *testing.T) {
	optimtest.CheckQuadratic(t, config.Map{"name": "adafactor", "weight_decay": 0.0}, 0.05, 300, 1e-2)
}

func TestFactoryErrors(t *testing.T) {
	optimtest.CheckFactoryErrors(t, "adafactor", []optimtest.BadConfig{
		{Key: "learning_rate", Value: -1e-3, Want: "valid range [0, inf)"},
		{Key: "beta1", Value: 1.0, Want: "valid range [0, 1)"},
		{Key: "clipping_threshold", Value: 0.0, Want: "valid range (0, inf)"},
		{Key: "decay_rate", Value: 0.5, Want: "decay_rate"},
		{Key: "eps2", Value: -1.0, Want: "valid range [0, inf)"},
	})
}
