// Package all links every optimizer into the binary: importing it runs each optimizer
// package's init, which registers it with package optim.
package all

import (
	_ "github.com/fob-go/fob/train/optim/adafactor"
	_ "github.com/fob-go/fob/train/optim/adam_plus"
	_ "github.com/fob-go/fob/train/optim/adamcpr"
	_ "github.com/fob-go/fob/train/optim/adamcpr_fast"
	_ "github.com/fob-go/fob/train/optim/adamw_baseline"
	_ "github.com/fob-go/fob/train/optim/lion"
	_ "github.com/fob-go/fob/train/optim/radam"
	_ "github.com/fob-go/fob/train/optim/sgd_baseline"
	_ "github.com/fob-go/fob/train/optim/sgd_stepwise"
	_ "github.com/fob-go/fob/train/optim/sophia"
	_ "github.com/fob-go/fob/train/optim/template"
)
