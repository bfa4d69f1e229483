package train

import (
	"fmt"

	"github.com/fob-go/fob/onnx"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	gonnx "github.com/gomlx/onnx-gomlx/onnx"
)

// statVars resolves the running statistics of the BatchNormalization sites to their variables
// (under the model scope mctx). A statistic that is not an initializer has nowhere to be kept
// between steps: that is an error naming the node.
func statVars(mctx *context.Context, sites []onnx.BatchNormSite) ([]StatVar, error) {
	var out []StatVar
	for _, s := range sites {
		for _, p := range [][2]string{{s.Mean, s.NewMean}, {s.Var, s.NewVar}} {
			v := mctx.GetVariable(gonnx.SafeVarName(p[0]))
			if v == nil {
				return nil, fmt.Errorf("BatchNormalization node %q: running statistic %q is not an initializer, so training "+
					"cannot keep it between steps; store the running mean and variance as initializers", s.Node, p[0])
			}
			out = append(out, StatVar{Name: p[0], Tensor: p[1], Var: v})
		}
	}
	return out, nil
}

// statTensors lists the Train graph tensors holding the updated statistics, in Stats order.
func (m *Model) statTensors() []string {
	names := make([]string, len(m.Stats))
	for i, s := range m.Stats {
		names[i] = s.Tensor
	}
	return names
}

// assignStats makes the train step write the updated running statistics into their variables,
// as optimizers write parameters.
func (m *Model) assignStats(values []*graph.Node) {
	for i, s := range m.Stats {
		s.Var.SetValueGraph(values[i])
	}
}
