// Package all links every task into the binary; import it for its side effects.
package all

import (
	_ "github.com/fob-go/fob/tasks/classification"
	_ "github.com/fob-go/fob/tasks/classification_small"
	_ "github.com/fob-go/fob/tasks/detection"
	_ "github.com/fob-go/fob/tasks/graph"
	_ "github.com/fob-go/fob/tasks/graph_tiny"
	_ "github.com/fob-go/fob/tasks/mnist"
	_ "github.com/fob-go/fob/tasks/segmentation"
	_ "github.com/fob-go/fob/tasks/tabular"
	_ "github.com/fob-go/fob/tasks/template"
	_ "github.com/fob-go/fob/tasks/translation"
)
