// Package detection registers FOB's detection task, COCO 2017 object detection with Faster R-CNN (docs/fob-behaviour.md §5.10), by its defaults only: experiments
// that name it parse, expand and get their run folders, but training it reports that it is
// not built in fob yet.
package detection

import (
	_ "embed"

	"github.com/fob-go/fob/tasks"
)

//go:embed default.yaml
var defaultYAML []byte

func init() { tasks.Register(tasks.NewUnbuilt("detection", defaultYAML)) }
