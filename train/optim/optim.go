// Package optim defines the optimizer seam of fob: an Optimizer builds one update step into a
// GoMLX graph. Each optimizer lives in its own folder (train/optim/<name>/) with an embedded
// default.yaml and registers itself from init.
package optim

import (
	reg "github.com/fob-go/fob/internal/registry"

	"github.com/fob-go/fob/train/config"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Param is one trainable parameter as the optimizer sees it.
type Param struct {
	// Name is the ONNX initializer name (e.g. "fc1.weight").
	Name string
	// Var holds the parameter's value in the GoMLX context.
	Var *context.Variable
	// Group indexes Setup.Groups.
	Group int
}

// Group is a parameter group: its multipliers are applied by the optimizer to the configured
// learning rate and weight decay (docs/fob-behaviour.md §3).
type Group struct {
	Name string
	// LRMultiplier scales the learning rate (1 when unset).
	LRMultiplier float64
	// WDMultiplier scales the weight decay (0 for biases, norms and embeddings).
	WDMultiplier float64
	// Options are per-group optimizer keyword overrides.
	Options config.Map
	// Params are the initializer names in the group, sorted.
	Params []string
}

// StepInputs are the per-step values the host feeds to the update graph.
type StepInputs struct {
	// Step is the 1-based optimisation step number (scalar float32 node).
	Step *graph.Node
	// LR holds the scheduled learning rate of each group, multipliers applied (float32 [groups]).
	LR *graph.Node
}

// Optimizer builds the update of all parameters into the graph. State (moments, step counters
// of its own) lives in context variables under ctx, which the trainer scopes to "optimizer" and
// checkpoints with the model.
type Optimizer interface {
	Update(ctx *context.Context, in StepInputs, params []Param, grads []*graph.Node)
}

// HessianInputs is what the trainer computes for a CurvatureEstimator every HessianEvery steps.
type HessianInputs struct {
	// Grads[i] is the gradient, with respect to params[i], of the task loss averaged over the
	// batch, where the targets are not the data labels but labels sampled from the model's own
	// predictive distribution at the current parameters (Gauss-Newton-Bartlett estimator of the
	// Sophia paper): for cross-entropy, ŷ ~ Categorical(softmax(logits)); for a squared-error
	// loss, ŷ = prediction + N(0, 1) noise. Same order and shapes as params.
	Grads []*graph.Node
	// BatchSize is the number of terms the sampled loss averages (examples, or tokens for
	// sequence losses), as a scalar node of any numeric dtype.
	BatchSize *graph.Node
}

// CurvatureEstimator is an optional interface for optimizers that keep a diagonal curvature
// estimate refreshed from extra gradients (sophia). The trainer, after the update of every
// step k with k % HessianEvery() == 0 (and HessianEvery() > 0), builds and runs a second graph
// on the same batch that computes HessianInputs at the updated parameters and calls
// UpdateHessian with the same ctx scope it gives Update and with in.Step = k.
type CurvatureEstimator interface {
	Optimizer
	// HessianEvery is the interval k in optimisation steps; 0 means never.
	HessianEvery() int
	// UpdateHessian folds one Gauss-Newton-Bartlett estimate into the optimizer state.
	UpdateHessian(ctx *context.Context, in StepInputs, params []Param, h HessianInputs)
}

// SelfScheduling is an optional interface for optimizers that schedule their own learning
// rate (adam_plus). For them the trainer ignores optimizer.lr_scheduler and feeds
// StepInputs.LR[g] = Groups[g].LRMultiplier every step (lrsched.Constant(1)), so the group
// multipliers still apply to the optimizer's internal learning rate.
type SelfScheduling interface {
	Optimizer
	SelfScheduling() bool
}

// IsSelfScheduling reports whether opt schedules its own learning rate (see SelfScheduling).
func IsSelfScheduling(opt Optimizer) bool {
	s, ok := opt.(SelfScheduling)
	return ok && s.SelfScheduling()
}

// Settings is what a factory receives: the resolved optimizer section (optimizer.*, with
// max_steps and max_epochs copied in) and the parameter groups.
type Settings struct {
	Config config.Map
	Groups []Group
}

// Factory makes an Optimizer from its settings; it validates hyperparameters and returns a clear
// error naming the key for a bad value.
type Factory func(s Settings) (Optimizer, error)

// Entry is one registered optimizer.
type Entry struct {
	Name        string
	DefaultYAML []byte
	New         Factory
}

var registry = reg.New[Entry]("optimizer")

// Register makes an optimizer available by name; it panics on a duplicate name.
func Register(e Entry) { registry.Register(e.Name, e) }

// Names lists the registered optimizers, sorted.
func Names() []string { return registry.Names() }

// Get returns the named optimizer, or an error that lists the valid names.
func Get(name string) (Entry, error) { return registry.Get(name) }
