// Package graph registers FOB's graph task, ogbg-molhiv graph property prediction with a GIN (docs/fob-behaviour.md §5.6), by its defaults only: experiments
// that name it parse, expand and get their run folders, but training it reports that it is
// not built in fob yet.
package graph

import (
	_ "embed"

	"github.com/fob-go/fob/tasks"
)

//go:embed default.yaml
var defaultYAML []byte

func init() { tasks.Register(tasks.NewUnbuilt("graph", defaultYAML)) }
