package runtime

import (
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// minMaxVJP is GoMLX's Max/Min gradient with fewer passes over the data: GoMLX builds each
// side's indicator as Sign(Sign(x0 - x1) + 1) and its complement, seven elementwise passes per
// ReLU (Max(x, 0)) or pooling tap in the backward pass; here the first input's share is
// v * (x0 >= x1) (x0 < x1 for Min) and the second's v minus that: GoMLX's values, ties
// included (to the first input for Max, the second for Min). A scalar input (fob's ReLU is
// Max(x, 0) with a scalar 0, train.callGraph) gets the sum of its share; inputs broadcast along
// some axes keep GoMLX's gradient.
func minMaxVJP(node *graph.Node, v []*graph.Node, outputShape shapes.Shape) []*graph.Node {
	x0, x1 := node.Inputs()[0], node.Inputs()[1]
	full := func(x *graph.Node) bool { return x.Shape().Equal(node.Shape()) }
	if !(full(x0) || x0.Shape().IsScalar()) || !(full(x1) || x1.Shape().IsScalar()) || !node.DType().IsFloat() {
		return stockVJPs[node.Type()](node, v, outputShape)
	}
	var first *graph.Node
	if node.Type() == graph.NodeTypeMin {
		first = graph.LessThan(x0, x1)
	} else {
		first = graph.GreaterOrEqual(x0, x1)
	}
	g0 := graph.Mul(v[0], graph.ConvertDType(first, v[0].DType()))
	g1 := graph.Sub(v[0], g0)
	if !full(x0) {
		g0 = graph.ReduceAllSum(g0)
	}
	if !full(x1) {
		g1 = graph.ReduceAllSum(g1)
	}
	return []*graph.Node{g0, g1}
}
