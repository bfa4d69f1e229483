// Package classification_small registers FOB's classification_small task, CIFAR-100 with a ResNet-18 (docs/fob-behaviour.md §5.4), by its defaults only: experiments
// that name it parse, expand and get their run folders, but training it reports that it is
// not built in fob yet.
package classification_small

import (
	_ "embed"

	"github.com/fob-go/fob/tasks"
)

//go:embed default.yaml
var defaultYAML []byte

func init() { tasks.Register(tasks.NewUnbuilt("classification_small", defaultYAML)) }
