// Package graph registers FOB's graph task, ogbg-molhiv graph property prediction with a GIN (spec §5.6), by its defaults only: experiments
// that name it parse, expand and get their run folders, but training it reports that it is
// not built in fob yet.
package graph

import (
	_ "embed"
	"errors"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train/config"
	"github.com/gomlx/gomlx/pkg/core/graph"
)

//go:embed default.yaml
var defaultYAML []byte

// errNotBuilt is what every training method returns.
var errNotBuilt = errors.New(notBuilt)

const notBuilt = "task graph is known by its defaults but not built in fob yet"

// Task is the graph task, known by its defaults.
type Task struct{}

func init() { tasks.Register(Task{}) }

// Name implements tasks.Task.
func (Task) Name() string { return "graph" }

// DefaultYAML implements tasks.Task.
func (Task) DefaultYAML() []byte { return defaultYAML }

// NotBuilt implements tasks.NotBuilt; callers check it before training.
func (Task) NotBuilt() string { return notBuilt }

// Signature is empty: there is no model yet.
func (Task) Signature() onnx.Signature { return onnx.Signature{} }

// BuildModel reports that the task is not built.
func (Task) BuildModel(config.Map, int64) (*onnxpb.ModelProto, error) { return nil, errNotBuilt }

// NewData reports that the task is not built.
func (Task) NewData(tasks.DataEnv, config.Map) (tasks.DataModule, error) { return nil, errNotBuilt }

// Loss is never reached: BuildModel fails first. It returns nil.
func (Task) Loss(*graph.Graph, map[string]*graph.Node, map[string]*graph.Node) *graph.Node {
	return nil
}

// NewMetrics is never reached: NewData fails first. It returns nil.
func (Task) NewMetrics(string) tasks.Metrics { return nil }
