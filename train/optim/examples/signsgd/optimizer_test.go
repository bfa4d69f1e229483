package signsgd_test

import (
	"testing"

	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/optim"
	_ "github.com/fob-go/fob/train/optim/examples/signsgd" // registers "signsgd"
	"github.com/fob-go/fob/train/optim/optimtest"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// A few steps on fixed gradients, checked against the update rule computed here on the host.
func TestSteps(t *testing.T) {
	grads := [][]float64{{0.5, -1, 2}, {-0.1, -1, 1}, {-2, 0.3, 0.2}, {1, 1, -1}, {0.2, -0.4, 0.1}}
	init := []float64{1, -0.5, 0.25}
	c := optimtest.Case{
		Name:   "signum",
		Config: config.Map{"name": "signsgd", "learning_rate": 0.1, "momentum": 0.5, "weight_decay": 0.2},
		Groups: []optimtest.GroupSpec{{Name: "decay", LRMultiplier: 1, WDMultiplier: 1, Params: []string{"w"}}},
		Params: []optimtest.ParamSpec{{Name: "w", Shape: []int{3}, Init: init}},
	}
	theta, m := append([]float64{}, init...), make([]float64, 3)
	for k, g := range grads {
		lr := 0.1 * float64(k+1) / 5 // a rising schedule, as a warmup feeds it
		c.Steps = append(c.Steps, optimtest.StepSpec{Step: k + 1, LR: []float64{lr}, Grads: map[string][]float64{"w": g}})
		for i := range theta {
			m[i] = 0.5*m[i] + 0.5*g[i]
			s := 0.0
			if m[i] > 0 {
				s = 1
			} else if m[i] < 0 {
				s = -1
			}
			theta[i] = theta[i]*(1-lr*0.2) - lr*s
		}
		c.Expected = append(c.Expected, map[string][]float64{"w": append([]float64{}, theta...)})
	}
	if e := optimtest.Compare(t, c, dtypes.Float64, 1e-12); e > 1e-12 {
		t.Errorf("max relative error %g", e)
	}
}

func TestToyProblem(t *testing.T) {
	optimtest.CheckQuadratic(t, config.Map{"name": "signsgd", "momentum": 0.5}, 0.01, 500, 1e-2)
}

func TestBadValues(t *testing.T) {
	optimtest.CheckFactoryErrors(t, "signsgd", []optimtest.BadConfig{
		{Key: "momentum", Value: 1.0, Want: "valid range [0, 1)"},
		{Key: "learning_rate", Value: -0.1, Want: "valid range [0, inf)"},
	})
	if _, err := optim.Get("signsgd"); err != nil {
		t.Fatal(err)
	}
}
