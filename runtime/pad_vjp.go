package runtime

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// padVJP is the gradient GoMLX lacks for Pad (ONNX Pad, the padded inputs of fob's pooling
// lowering): per axis, undo the edges (a Pad with the opposite signs: positive padding is cut
// off, removed elements get zeros), then keep every (interior+1)-th element. The fill value's
// gradient is the sum of the incoming gradient over the padded positions.
func padVJP(node *graph.Node, v []*graph.Node, _ shapes.Shape) []*graph.Node {
	x, fill := node.Inputs()[0], node.Inputs()[1]
	cfg, err := padAxes(node)
	if err != nil {
		panic(fmt.Errorf("gradient of Pad: %w", err))
	}
	g := v[0]
	undo := make([]backends.PadAxis, len(cfg))
	needUndo := false
	for i, c := range cfg {
		undo[i] = backends.PadAxis{Start: -c.Start, End: -c.End}
		needUndo = needUndo || c.Start != 0 || c.End != 0
	}
	if needUndo {
		g = graph.Pad(g, graph.ScalarZero(g.Graph(), g.DType()), undo...)
	}
	specs := make([]graph.SliceAxisSpec, x.Rank())
	strided := false
	for i := range specs {
		specs[i] = graph.AxisRange()
		if i < len(cfg) && cfg[i].Interior > 0 {
			specs[i] = graph.AxisRange().Stride(cfg[i].Interior + 1)
			strided = true
		}
	}
	if strided {
		g = graph.Slice(g, specs...)
	}
	dfill := graph.Sub(graph.ReduceAllSum(v[0]), graph.ReduceAllSum(g))
	return []*graph.Node{g, graph.ConvertDType(dfill, fill.DType())}
}

// padAxes reads the axes configuration of a Pad node (nodeParams).
func padAxes(node *graph.Node) (cfg []backends.PadAxis, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("reading Pad axes: %v", r)
		}
	}()
	params, err := nodeParams(node, "Pad")
	if err != nil {
		return nil, err
	}
	return slices.Clone(paramField[[]backends.PadAxis](params, "axesConfig")), nil
}
