package tasks

import (
	"errors"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/train/config"
	"github.com/gomlx/gomlx/pkg/core/graph"
)

// Unbuilt is a task known only by its defaults: experiments that name it parse, expand into
// runs and get their folders (dry runs work), but training or evaluating it returns an error
// saying it is not built in fob yet. FOB tasks whose data or model are not ported register one.
type Unbuilt struct {
	TaskName string
	Defaults []byte
}

// NewUnbuilt returns an Unbuilt task for name with its default.yaml.
func NewUnbuilt(name string, defaults []byte) Unbuilt { return Unbuilt{name, defaults} }

func (u Unbuilt) err() error { return errors.New(u.NotBuilt()) }

// Name implements Task.
func (u Unbuilt) Name() string { return u.TaskName }

// DefaultYAML implements Task.
func (u Unbuilt) DefaultYAML() []byte { return u.Defaults }

// NotBuilt implements NotBuilt; callers check it before training.
func (u Unbuilt) NotBuilt() string {
	return "task " + u.TaskName + " is known by its defaults but not built in fob yet"
}

// Signature is empty: there is no model.
func (Unbuilt) Signature() onnx.Signature { return onnx.Signature{} }

// BuildModel reports that the task is not built.
func (u Unbuilt) BuildModel(config.Map, int64) (*onnxpb.ModelProto, error) { return nil, u.err() }

// NewData reports that the task is not built.
func (u Unbuilt) NewData(DataEnv, config.Map) (DataModule, error) { return nil, u.err() }

// Loss is never reached (BuildModel fails first) and returns nil.
func (Unbuilt) Loss(*graph.Graph, map[string]*graph.Node, map[string]*graph.Node) *graph.Node {
	return nil
}

// NewMetrics is never reached (NewData fails first) and returns nil.
func (Unbuilt) NewMetrics(string) Metrics { return nil }
