package template_test

import (
	"testing"

	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/optim/optimtest"
	_ "github.com/fob-go/fob/train/optim/template"
)

// Against torch 1.13 SGD without momentum.
func TestReference(t *testing.T) {
	optimtest.CompareFile(t, "../testdata/template.json")
}

func TestQuadratic(t *testing.T) {
	optimtest.CheckQuadratic(t, config.Map{"name": "template"}, 0.1, 300, 1e-3)
}

func TestFactoryErrors(t *testing.T) {
	optimtest.CheckFactoryErrors(t, "template", []optimtest.BadConfig{
		{Key: "learning_rate", Value: -0.1, Want: "valid range [0, inf)"},
		{Key: "momentum", Value: 0.9, Want: "unknown hyperparameter"},
	})
}
