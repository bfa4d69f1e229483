// Package tasks defines what a FOB task is (a model, a dataset and a metric) and keeps the
// registry of tasks by name. Task packages register themselves from init, as database/sql
// drivers do; the binary links them all through tasks/all.
package tasks

import (
	"context"
	"fmt"

	reg "github.com/fob-go/fob/internal/registry"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/train/config"
	"github.com/gomlx/gomlx/pkg/core/graph"
	gctx "github.com/gomlx/gomlx/pkg/ml/context"
)

// Task is one benchmark task. Implementations live in tasks/<name>/.
type Task interface {
	// Name is the folder name and the value of task.name.
	Name() string
	// DefaultYAML is the task's embedded default.yaml (task, and overrides for engine, optimizer,
	// evaluation), merged beneath the user's experiment.
	DefaultYAML() []byte
	// Signature is the model's ONNX interface: input and output names, element types and shapes
	// (symbolic dimensions by name). External models must match it.
	Signature() onnx.Signature
	// BuildModel builds the task's model as an ONNX graph, initialised deterministically from seed.
	BuildModel(cfg config.Map, seed int64) (*onnxpb.ModelProto, error)
	// NewData returns the task's data module for the resolved task config section.
	NewData(env DataEnv, cfg config.Map) (DataModule, error)
	// Loss builds the training loss (a scalar) from the model outputs and the batch targets.
	Loss(g *graph.Graph, outputs map[string]*graph.Node, targets map[string]*graph.Node) *graph.Node
	// NewMetrics returns a host-side accumulator for a split ("train", "val" or "test"); metric
	// names carry the split prefix, e.g. "val_acc".
	NewMetrics(split string) Metrics
}

// NotBuilt is implemented by tasks that are known by their defaults (so configs, grids and dry
// runs work) but cannot be trained yet; Reason says why.
type NotBuilt interface {
	NotBuilt() string
}

// TargetSampler is implemented by tasks whose loss is a negative log-likelihood that curvature
// estimators can use: SampleTargets draws targets from the model's own predictive distribution
// (Sophia's Gauss-Newton-Bartlett estimator), replacing the batch targets it is given, and returns
// how many terms the loss averages.
type TargetSampler interface {
	SampleTargets(ctx *gctx.Context, outputs, targets map[string]*graph.Node) (sampled map[string]*graph.Node, terms *graph.Node)
}

// DataEnv tells data modules where data lives.
type DataEnv struct {
	// DataDir is engine.data_dir; each task keeps its files in DataDir/<task name>.
	DataDir string
	// Mirror is engine.data_mirror (default $FOB_DATA_MIRROR): a folder read before downloading.
	Mirror string
	// Workers is engine.workers.
	Workers int
}

// DataModule prepares and serves a task's data.
type DataModule interface {
	// Prepare downloads (or copies from the mirror) and verifies the files; idempotent.
	Prepare(ctx context.Context) error
	// Setup loads the files and splits them; the seed fixes random splits.
	Setup(ctx context.Context, seed int64) error
	// Split returns "train", "val" or "test".
	Split(name string) (Dataset, error)
}

// Dataset is an indexable split whose examples are gathered into batches on the host.
type Dataset interface {
	// Len is the number of examples (for whole-graph tasks: 1).
	Len() int
	// Batch gathers the examples idx into one batch. A file that turns out unreadable only now
	// (a damaged image) may be reported by panicking with an error that names it; callers read
	// batches through ReadBatch, which returns it.
	Batch(idx []int) Batch
}

// ReadBatch gathers the examples idx of ds into one batch, turning a data module's panic into
// an error so that a damaged file stops a run with its name, not a stack trace.
func ReadBatch(ds Dataset, idx []int) (b Batch, err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = fmt.Errorf("reading a batch of %d examples: %w", len(idx), e)
				return
			}
			err = fmt.Errorf("reading a batch of %d examples: %v", len(idx), r)
		}
	}()
	return ds.Batch(idx), nil
}

// Batch is what one step consumes: model inputs by ONNX input name, and targets by name.
type Batch struct {
	Inputs  map[string]tensor.Tensor
	Targets map[string]tensor.Tensor
	// Size is the number of examples the metrics weight this batch by.
	Size int
}

// Metrics accumulates a split's metrics over batches on the host.
type Metrics interface {
	// Add scores one batch; outputs are the model outputs by ONNX output name.
	Add(outputs map[string]tensor.Tensor, b Batch)
	// Result returns the metrics so far, e.g. {"val_loss": 0.3, "val_acc": 0.9}.
	Result() map[string]float64
}

var registry = reg.New[Task]("task")

// Register makes a task available by name. It panics on a duplicate name, as
// database/sql.Register does, since that is a programming error.
func Register(t Task) { registry.Register(t.Name(), t) }

// Alias makes short another name for the task name (translation's "wmt"), accepted wherever a
// task is named.
func Alias(short, name string) { registry.Alias(short, name) }

// Canonical returns the task name that name stands for (an alias resolved, or name itself).
func Canonical(name string) string { return registry.Canonical(name) }

// Aliases returns the task aliases and the tasks they name.
func Aliases() map[string]string { return registry.Aliases() }

// Names lists the registered tasks, sorted.
func Names() []string { return registry.Names() }

// Get returns the named task, or an error that lists the valid names.
func Get(name string) (Task, error) { return registry.Get(name) }

// Generator is implemented by tasks whose split metrics need the model run many times per
// example, such as translation's BLEU of decoded sentences. The trainer calls it after each
// validation with the current weights, and evaluation after the test forward pass; the
// metrics it returns replace the placeholders (NaN) of the same names in NewMetrics' result.
type Generator interface {
	GenerateMetrics(ctx context.Context, model *onnxpb.ModelProto, dm DataModule, split string) (map[string]float64, error)
}
