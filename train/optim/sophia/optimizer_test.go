package sophia_test

import (
	"testing"

	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/optim/optimtest"
	_ "github.com/fob-go/fob/train/optim/sophia"
)

// Against a numpy SophiaG with Hessian updates every 2 steps (sign phase and clipped phase).
func TestReference(t *testing.T) {
	optimtest.CompareFile(t, "../testdata/sophia.json")
}

func TestQuadratic(t *testing.T) {
	optimtest.CheckQuadratic(t, config.Map{"name": "sophia", "weight_decay": 0.0}, 0.05, 300, 2e-2)
}

func TestFactoryErrors(t *testing.T) {
	optimtest.CheckFactoryErrors(t, "sophia", []optimtest.BadConfig{
		{Key: "learning_rate", Value: -1e-3, Want: "valid range [0, inf)"},
		{Key: "rho", Value: -0.04, Want: "valid range [0, inf)"},
		{Key: "beta2", Value: 1.0, Want: "valid range [0, 1)"},
		{Key: "hessian_update_interval", Value: -1, Want: "integers ≥ 0"},
	})
}
