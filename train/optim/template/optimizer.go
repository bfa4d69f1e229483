// Package template is the starting point for a new optimizer: plain SGD, θ ← θ − lr·g.
//
// To add your own optimizer (see docs/optimizers.md):
//  1. copy this folder to train/optim/<your_name>/ and rename the package;
//  2. edit default.yaml: `name` must equal the folder name, list every hyperparameter with its
//     default;
//  3. read and validate the hyperparameters in New, build the update in Update;
//  4. add a blank import of your package to train/optim/all/all.go.
package template

import (
	_ "embed"

	"github.com/fob-go/fob/train/optim"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// The default.yaml next to this file is compiled into the binary; the engine merges it under
// the user's optimizer section, so every key a user may set must appear there.
//
//go:embed default.yaml
var defaultYAML []byte

// init registers the optimizer under its folder name when the package is linked in.
func init() {
	optim.Register(optim.Entry{Name: "template", DefaultYAML: defaultYAML, New: New})
}

// SGD holds host-side constants only: everything that changes per step (learning rates, the
// step number) arrives in StepInputs, and everything per parameter lives in context variables.
type SGD struct{}

// New is the optimizer's Factory. optim.NewHyper rejects unknown keys; its getters check
// types and ranges and collect errors that name the key, so bad values fail before training.
func New(s optim.Settings) (optim.Optimizer, error) {
	h, err := optim.NewHyper(s, defaultYAML)
	if err != nil {
		return nil, err
	}
	// learning_rate itself is applied by the host schedule (package lrsched); it is read here
	// only to validate it.
	h.Float("learning_rate", optim.NonNegative)
	if err := h.Err(); err != nil {
		return nil, err
	}
	return &SGD{}, nil
}

// Update adds one step to the graph. It is called once per compiled graph (the trainer builds
// one per batch shape), so it must only build graph ops: no host loops over steps.
func (o *SGD) Update(ctx *context.Context, in optim.StepInputs, params []optim.Param, grads []*Node) {
	for i, p := range params {
		// The parameter's current value in this graph.
		theta := p.Var.ValueGraph(in.Step.Graph())
		dt := theta.DType()
		// This parameter's group learning rate (schedule × lr multiplier), in the param dtype.
		lr := optim.GroupLR(in, p.Group, dt)
		g := optim.AsDType(grads[i], dt)
		// State would be created like this (zeros, per parameter, checkpointed):
		//   buf := optim.ZerosState(ctx, p, "momentum_buffer")
		//   b := buf.ValueGraph(theta.Graph()); ...; buf.SetValueGraph(newB)
		optim.SetParam(p, Sub(theta, Mul(lr, g)))
	}
}
