package radam_test

import (
	"testing"

	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/optim/optimtest"
	_ "github.com/fob-go/fob/train/optim/radam"
)

// Against a numpy RAdam (published algorithm): 5 momentum-SGD steps, then rectified.
func TestReference(t *testing.T) {
	optimtest.CompareFile(t, "../testdata/radam.json")
}

func TestQuadratic(t *testing.T) {
	optimtest.CheckQuadratic(t, config.Map{"name": "radam", "weight_decay": 0.0}, 0.05, 300, 1e-2)
}

func TestFactoryErrors(t *testing.T) {
	optimtest.CheckFactoryErrors(t, "radam", []optimtest.BadConfig{
		{Key: "learning_rate", Value: -1e-3, Want: "valid range [0, inf)"},
		{Key: "beta2", Value: 1.0, Want: "valid range [0, 1)"},
		{Key: "epsilon", Value: -1e-8, Want: "valid range [0, inf)"},
		{Key: "degenerated_to_sgd", Value: false, Want: "unknown hyperparameter"},
	})
}
