// Package sgdstepwise is the sgd_stepwise optimizer: sgd_baseline's SGD whose default
// schedule is a step decay per epoch (lr × gamma every step_size epochs, no warmup).
package sgdstepwise

import (
	_ "embed"

	"github.com/fob-go/fob/train/optim"
	sgd "github.com/fob-go/fob/train/optim/sgd_baseline"
)

//go:embed default.yaml
var defaultYAML []byte

func init() {
	optim.Register(optim.Entry{Name: "sgd_stepwise", DefaultYAML: defaultYAML, New: sgd.Factory(defaultYAML)})
}
