// Package adamcprfast is the adamcpr_fast optimizer: FOB's fused Adam+CPR. The math is
// adamcpr's (package adamcpr); only the defaults differ (no kappa_adapt).
package adamcprfast

import (
	_ "embed"

	"github.com/fob-go/fob/train/optim"
	"github.com/fob-go/fob/train/optim/adamcpr"
)

//go:embed default.yaml
var defaultYAML []byte

func init() {
	optim.Register(optim.Entry{Name: "adamcpr_fast", DefaultYAML: defaultYAML, New: adamcpr.Factory(defaultYAML)})
}
