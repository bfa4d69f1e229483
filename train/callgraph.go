package train

import (
	"fmt"
	_ "unsafe" // go:linkname

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	gonnx "github.com/gomlx/onnx-gomlx/onnx"

	"github.com/fob-go/fob/onnx"
)

// recursiveCallGraph converts the ONNX node producing name, after its inputs, unless converted
// already holds it (onnx-gomlx's own conversion walk, unexported there).
//
//go:linkname recursiveCallGraph github.com/gomlx/onnx-gomlx/onnx.(*Model).recursiveCallGraph
func recursiveCallGraph(m *gonnx.Model, ctx *context.Context, g *graph.Graph, name string, converted map[string]*graph.Node)

// callGraph is m.CallGraph for the training graph: fob's fused nodes (onnx.FusedDomain), which
// onnx-gomlx does not know, and Relu are converted here, in graph order, each after onnx-gomlx
// has converted its inputs; onnx-gomlx then converts the rest, stopping at what is converted
// already. Relu becomes Max(x, scalar 0): onnx-gomlx's Max(x, ZerosLike(x)) writes a tensor of
// zeros and reads it twice more (forward and gradient) per ReLU. Graphs with neither go to
// onnx-gomlx unchanged.
func callGraph(m *gonnx.Model, ctx *context.Context, g *graph.Graph, inputs map[string]*graph.Node, outputs ...string) []*graph.Node {
	var own []int // the nodes converted here
	for i, n := range m.Proto.Graph.Node {
		if n.GetDomain() == onnx.FusedDomain || (isRelu(n.GetDomain(), n.GetOpType())) {
			own = append(own, i)
		}
	}
	if len(own) == 0 {
		return m.CallGraph(ctx, g, inputs, outputs...)
	}
	if ctx != nil {
		ctx = ctx.In(gonnx.ModelScope).Checked(false)
	}
	converted := map[string]*graph.Node{}
	var inShapes []shapes.Shape
	for _, name := range m.InputsNames {
		in := inputs[name]
		if in == nil {
			panic(fmt.Errorf("train: the model's input %q was not given", name))
		}
		converted[name] = in
		inShapes = append(inShapes, in.Shape())
	}
	if len(inputs) != len(m.InputsNames) {
		panic(fmt.Errorf("train: %d inputs given for the model's %d (%q)", len(inputs), len(m.InputsNames), m.InputsNames))
	}
	if err := m.ValidateInputs(inShapes...); err != nil {
		panic(err)
	}
	for _, i := range own {
		n := m.Proto.Graph.Node[i]
		for _, in := range n.GetInput() {
			recursiveCallGraph(m, ctx, g, in, converted)
		}
		if isRelu(n.GetDomain(), n.GetOpType()) {
			x := converted[n.GetInput()[0]]
			converted[n.GetOutput()[0]] = graph.Max(x, graph.ScalarZero(g, x.DType()))
			continue
		}
		if n.GetOpType() != onnx.FusedBatchNormOp {
			panic(fmt.Errorf("train: unknown fused node %s.%s", onnx.FusedDomain, n.GetOpType()))
		}
		eps := float32(1e-5)
		for _, a := range n.GetAttribute() {
			if a.GetName() == "epsilon" {
				eps = a.GetF()
			}
		}
		in := n.GetInput()
		y, mean, variance := batchNormTraining(converted[in[0]], converted[in[1]], converted[in[2]], eps)
		for j, out := range []*graph.Node{y, mean, variance} {
			if name := n.GetOutput()[j]; name != "" {
				converted[name] = out
			}
		}
	}
	outs := make([]*graph.Node, len(outputs))
	for i, name := range outputs {
		recursiveCallGraph(m, ctx, g, name, converted)
		outs[i] = converted[name]
	}
	return outs
}

// isRelu: ONNX's Relu (the default domain is "" or "ai.onnx").
func isRelu(domain, op string) bool { return (domain == "" || domain == "ai.onnx") && op == "Relu" }

// batchNormTraining normalises x [N, C, ...] over every axis but 1 with its batch statistics
// and returns the output, the batch mean and the biased batch variance ([C]): GoMLX's
// BatchNormForTraining where the backend has it for x's dtype (fob's pure-Go backend: fused
// kernels; XLA: its own), otherwise composed from reductions and elementwise ops.
func batchNormTraining(x, scale, offset *graph.Node, eps float32) (y, mean, variance *graph.Node) {
	if x.Rank() < 2 {
		panic(fmt.Errorf("train: batch normalisation of %s: the input needs [N, C, ...]", x.Shape()))
	}
	scale, offset = graph.ConvertDType(scale, x.DType()), graph.ConvertDType(offset, x.DType())
	if x.Graph().Backend().Capabilities().Operations[backends.OpTypeBatchNormForTraining] &&
		(x.DType() == dtypes.Float32 || x.DType() == dtypes.Float64) {
		return graph.InternalBatchNormForTraining(x, scale, offset, eps, 1)
	}
	axes := []int{0}
	perChannel := make([]int, x.Rank())
	for a := range perChannel {
		perChannel[a] = 1
		if a >= 2 {
			axes = append(axes, a)
		}
	}
	c := x.Shape().Dimensions[1]
	perChannel[1] = c
	m := graph.ReduceAndKeep(x, graph.ReduceMean, axes...)
	d := graph.Sub(x, m)
	v := graph.ReduceAndKeep(graph.Mul(d, d), graph.ReduceMean, axes...)
	k := graph.Div(graph.Reshape(scale, perChannel...), graph.Sqrt(graph.AddScalar(v, float64(eps))))
	y = graph.Add(graph.Mul(d, k), graph.Reshape(offset, perChannel...))
	return y, graph.Reshape(m, c), graph.Reshape(v, c)
}
