package adamw_test

import (
	"testing"

	"github.com/fob-go/fob/train/config"
	_ "github.com/fob-go/fob/train/optim/adamw_baseline"
	"github.com/fob-go/fob/train/optim/optimtest"
)

// Against torch 1.13 AdamW over 8 steps, two groups (lr ×0.5 and wd ×0 on the second).
func TestReference(t *testing.T) {
	optimtest.CompareFile(t, "../testdata/adamw_baseline.json")
}

func TestQuadratic(t *testing.T) {
	optimtest.CheckQuadratic(t, config.Map{"name": "adamw_baseline", "weight_decay": 0.0}, 0.05, 200, 1e-2)
}

func TestFactoryErrors(t *testing.T) {
	optimtest.CheckFactoryErrors(t, "adamw_baseline", []optimtest.BadConfig{
		{Key: "learning_rate", Value: -1e-3, Want: "valid range [0, inf)"},
		{Key: "beta1", Value: 1.0, Want: "valid range [0, 1)"},
		{Key: "beta2", Value: -0.1, Want: "beta2"},
		{Key: "epsilon", Value: "small", Want: "want a number"},
		{Key: "weight_decay", Value: -0.01, Want: "weight_decay"},
		{Key: "betta1", Value: 0.9, Want: `unknown hyperparameter "betta1"`},
	})
}
