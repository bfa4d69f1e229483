// Package segmentation registers FOB's segmentation task, ADE20K scene parsing with SegFormer-B0 (docs/fob-behaviour.md §5.5), by its defaults only: experiments
// that name it parse, expand and get their run folders, but training it reports that it is
// not built in fob yet.
package segmentation

import (
	_ "embed"

	"github.com/fob-go/fob/tasks"
)

//go:embed default.yaml
var defaultYAML []byte

func init() { tasks.Register(tasks.NewUnbuilt("segmentation", defaultYAML)) }
