package optim

import (
	"strings"
	"testing"

	"github.com/fob-go/fob/train/config"
)

var testYAML = []byte(`
optimizer:
  name: testopt
  learning_rate: 1.e-3
  beta1: 0.9
  steps: 10
  mode: fast
  flag: false
  maybe: null
`)

func TestHyper(t *testing.T) {
	// Another registered optimizer's key reaches every optimizer through task defaults.
	Register(Entry{Name: "hyper_test_other", DefaultYAML: []byte("optimizer:\n  name: hyper_test_other\n  momentum: 0.9\n")})
	groups := []Group{{Name: "decay", Options: config.Map{"beta1": 0.5}}, {Name: "no_decay"}}
	h, err := NewHyper(Settings{Config: config.Map{"name": "testopt", "beta1": 0.8, "momentum": 0.1, "max_steps": 5}}, testYAML)
	if err != nil {
		t.Fatal(err)
	}
	if v := h.Float("learning_rate", NonNegative); v != 1e-3 {
		t.Errorf("learning_rate from the defaults (1.e-3): %v", v)
	}
	if v := h.Float("beta1", Beta); v != 0.8 {
		t.Errorf("beta1 = %v, want the configured 0.8", v)
	}
	if v := h.Group(groups[0]).Float("beta1", Beta); v != 0.5 {
		t.Errorf("group beta1 = %v, want the group option 0.5", v)
	}
	if v := h.Group(groups[1]).Float("beta1", Beta); v != 0.8 {
		t.Errorf("group without options: beta1 = %v", v)
	}
	if h.Int("steps", 1) != 10 || h.Choice("mode", "slow", "fast") != "fast" || h.Bool("flag") || h.MaxSteps() != 5 {
		t.Error("typed getters")
	}
	if _, ok := h.OptionalFloat("maybe", AnyReal); ok {
		t.Error("null read as a value")
	}
	if err := h.Err(); err != nil {
		t.Errorf("unexpected errors: %v", err)
	}
}

func TestHyperErrors(t *testing.T) {
	h, err := NewHyper(Settings{Config: config.Map{"beta1": 1.0, "learnig_rate": 0.1, "steps": 2.5, "mode": "medium", "flag": "no"}}, testYAML)
	if err != nil {
		t.Fatal(err)
	}
	h.Float("beta1", Beta)
	h.Int("steps", 1)
	h.Choice("mode", "slow", "fast")
	h.Bool("flag")
	h.Float("learning_rate", Positive)
	h.MaxSteps()
	h.Group(Group{Name: "g", Options: config.Map{"learning_rate": 1.0, "nope": 1}})
	msg := h.Err().Error()
	for _, want := range []string{
		`optimizer testopt: unknown hyperparameter "learnig_rate"; valid keys: beta1, flag, learning_rate,`,
		"beta1 = 1 is out of range; valid range [0, 1)",
		"steps: want an integer ≥ 1, got 2.5",
		"mode = medium is not valid; valid values: slow, fast",
		"flag: want true or false",
		"max_steps is missing",
		`group "g": option "learning_rate" cannot be set per group`,
		`group "g": option "nope"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors lack %q:\n%s", want, msg)
		}
	}
	if _, err := NewHyper(Settings{}, []byte("name: x")); err == nil {
		t.Error("default.yaml without optimizer map accepted")
	}
}

func TestRegistry(t *testing.T) {
	Register(Entry{Name: "registry_test", DefaultYAML: testYAML})
	if _, err := Get("registry_test"); err != nil {
		t.Fatal(err)
	}
	_, err := Get("nonexistent_opt")
	if err == nil || !strings.Contains(err.Error(), "registry_test") {
		t.Errorf("unknown optimizer error should list valid names: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("duplicate Register did not panic")
		}
	}()
	Register(Entry{Name: "registry_test"})
}
