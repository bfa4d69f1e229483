// Package translation registers FOB's translation task, WMT17 English↔German translation with T5-small (spec §5.9), by its defaults only: experiments
// that name it parse, expand and get their run folders, but training it reports that it is
// not built in fob yet.
package translation

import (
	_ "embed"

	"github.com/fob-go/fob/tasks"
)

//go:embed default.yaml
var defaultYAML []byte

func init() { tasks.Register(tasks.NewUnbuilt("translation", defaultYAML)) }
