// Package classification registers FOB's classification task, ImageNet at 64×64 with a Wide ResNet-50-2 (docs/fob-behaviour.md §5.3), by its defaults only: experiments
// that name it parse, expand and get their run folders, but training it reports that it is
// not built in fob yet.
package classification

import (
	_ "embed"

	"github.com/fob-go/fob/tasks"
)

//go:embed default.yaml
var defaultYAML []byte

func init() { tasks.Register(tasks.NewUnbuilt("classification", defaultYAML)) }
