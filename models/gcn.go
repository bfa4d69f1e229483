package models

import (
	"fmt"
	"math"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
)

// GCN aggregation modes: how a layer sums messages over the edges.
const (
	// GCNDense multiplies by the adjacency matrix, a graph input adj float32[nodes, nodes] with
	// adj[i][j] = 1 for an edge j→i (one MatMul per layer; O(nodes²) memory and work).
	GCNDense = "dense"
	// GCNSparse gathers messages along the edges of edge_index int64[2, edges] (PyG's layout:
	// sources, then targets) and scatter-adds them into the targets (ScatterElements, reduction
	// add): O(edges) work and memory.
	GCNSparse = "sparse"
)

// DenseAdjacency returns GCNDense's graph input for an edge list of GCNSparse's (edge_index
// int64[2, edges], sources then targets) over n nodes: adj[i][j] = 1 for each edge j→i.
func DenseAdjacency(edgeIndex tensor.Tensor, n int) tensor.Tensor {
	e := len(edgeIndex.I64) / 2
	adj := make([]float32, n*n)
	for k := 0; k < e; k++ {
		adj[edgeIndex.I64[e+k]*int64(n)+edgeIndex.I64[k]] = 1
	}
	return tensor.F32s(adj, n, n)
}

// GCN describes a graph convolutional network of PyTorch Geometric GCNConv layers, as FOB's
// graph_tiny task builds it (Kipf & Welling): conv → ReLU → dropout between layers, log-softmax
// after the last. Each GCNConv computes
//
//	out = Â · (x · Wᵀ) + b,   Â = D^-1/2 (A + I) D^-1/2,   D = 1 + in-degree
//
// (normalize=true: self loops added and symmetric normalisation, PyG's gcn_norm; with
// Normalize false, Â = A). The self loop is applied as "+ h" rather than by adding edges, so
// neither aggregation needs the node count as a value.
//
// Parameters carry PyG's names, convs.<i>.lin.weight [out, in] and convs.<i>.bias [out], so the
// default parameter groups decay the weights and not the biases, as FOB's do. Initialisation is
// PyG's (glorot-uniform weights, zero biases) or, with KipfInit, FOB's reset_params
// (U(±1/√in) weights, U(±1/√out) biases).
type GCN struct {
	// Sizes are the layer widths, input features first: {1433, 64, 7}.
	Sizes []int
	// Dropout is the drop probability after each hidden layer's ReLU (not on the input).
	Dropout float64
	// Normalize applies PyG's gcn_norm (self loops, symmetric normalisation).
	Normalize bool
	// KipfInit selects FOB's reset_params initialisation instead of PyG's.
	KipfInit bool
	// Aggregation is GCNDense or GCNSparse.
	Aggregation string
	// Features, Graph and Output name the node-feature input [nodes, Sizes[0]], the graph input
	// ("adj" or "edge_index") and the log-probability output [nodes, classes].
	Features, Graph, Output string
}

// Build returns the GCN as an ONNX graph with a symbolic node dimension (and edge dimension for
// the sparse form), initialised from seed.
func (m GCN) Build(name string, seed int64) (*onnxpb.ModelProto, error) {
	if len(m.Sizes) < 2 {
		return nil, fmt.Errorf("models: GCN needs at least input and output sizes, got %v", m.Sizes)
	}
	for _, s := range m.Sizes {
		if s <= 0 {
			return nil, fmt.Errorf("models: GCN layer sizes must be positive, got %v", m.Sizes)
		}
	}
	if m.Dropout < 0 || m.Dropout >= 1 {
		return nil, fmt.Errorf("models: GCN dropout %g outside [0, 1)", m.Dropout)
	}
	if m.Features == "" || m.Graph == "" || m.Output == "" {
		return nil, fmt.Errorf("models: GCN needs Features, Graph and Output names")
	}
	rng := NewRNG(seed)
	g := newGraph(name)
	g.b.Input(m.Features, "float32", "nodes", m.Sizes[0])
	var agg aggregator
	switch m.Aggregation {
	case GCNDense:
		g.b.Input(m.Graph, "float32", "nodes", "nodes")
		agg = newDenseAgg(g, m.Graph, m.Normalize)
	case GCNSparse:
		g.b.Input(m.Graph, "int64", 2, "edges")
		agg = newSparseAgg(g, m.Graph, m.Features, m.Normalize)
	default:
		return nil, fmt.Errorf("models: GCN aggregation %q; valid: %s, %s", m.Aggregation, GCNDense, GCNSparse)
	}
	x := m.Features
	last := len(m.Sizes) - 1
	for i := 1; i <= last; i++ {
		in, out := m.Sizes[i-1], m.Sizes[i]
		p := fmt.Sprintf("convs.%d.", i-1)
		var w, b tensor.Tensor
		if m.KipfInit {
			w, b = rng.Uniform(1/math.Sqrt(float64(in)), out, in), rng.Uniform(1/math.Sqrt(float64(out)), out)
		} else {
			w, b = rng.Uniform(math.Sqrt(6/float64(in+out)), out, in), Const(0, out)
		}
		g.param(p+"lin.weight", w)
		g.param(p+"bias", b)
		h := g.op("MatMul", x, g.op("Transpose", p+"lin.weight", onnx.AttrInts("perm", []int64{1, 0})))
		x = g.op("Add", agg.apply(h, out), p+"bias")
		if i < last {
			x = g.dropout(g.op("Relu", x), m.Dropout)
		}
	}
	g.b.Node("LogSoftmax", []string{x}, []string{m.Output}, onnx.AttrInt("axis", -1))
	g.b.Output(m.Output, "float32", "nodes", m.Sizes[last])
	return g.model()
}

// aggregator computes Â·h for node rows h [nodes, c].
type aggregator interface{ apply(h string, c int) string }

// denseAgg: Â·h = dinv ⊙ (A·(dinv ⊙ h) + dinv ⊙ h), dinv = (1 + rowsum A)^-1/2, a column
// vector [nodes, 1] computed once for all layers.
type denseAgg struct {
	g         *graph
	adj, dinv string
}

func newDenseAgg(g *graph, adj string, normalize bool) *denseAgg {
	a := &denseAgg{g: g, adj: adj}
	if normalize {
		deg := g.op("ReduceSum", adj, g.ints(1), onnx.AttrInt("keepdims", 1))
		deg = g.op("Add", deg, g.constant(Const(1)))
		a.dinv = g.op("Div", g.constant(Const(1)), g.op("Sqrt", deg))
	}
	return a
}

func (a *denseAgg) apply(h string, _ int) string {
	g := a.g
	if a.dinv == "" {
		return g.op("MatMul", a.adj, h)
	}
	hs := g.op("Mul", h, a.dinv)
	return g.op("Mul", g.op("Add", g.op("MatMul", a.adj, hs), hs), a.dinv)
}

// sparseAgg: messages hs[src] scatter-added into their targets (ScatterElements, reduction
// add, with the target index expanded along the channels: what torch exports for PyG's
// scatter-add), plus the self loop, scaled by dinv; the in-degrees come from the same scatter-add
// of ones. ScatterElements rather than ScatterND because onnxruntime's CPU ScatterND applies the
// updates from several threads without synchronisation, so targets that receive several edges
// get different sums from run to run; its ScatterElements is sequential. fob's import lowers it
// to a row ScatterND (onnx.ForImport). The degree's zeros are declared as value_info: their shape
// comes from a Concat of shape pieces that fob's static shape inference does not follow.
type sparseAgg struct {
	g         *graph
	src, dst  string // [edges] and [edges, 1]
	dinv      string
	normalize bool
}

func newSparseAgg(g *graph, edgeIndex, features string, normalize bool) *sparseAgg {
	a := &sparseAgg{g: g, normalize: normalize}
	a.src = g.op("Gather", edgeIndex, g.constant(tensor.I64s([]int64{0})), axis(0))
	dst := g.op("Gather", edgeIndex, g.constant(tensor.I64s([]int64{1})), axis(0))
	a.dst = g.op("Unsqueeze", dst, g.ints(1))
	if normalize {
		ones := g.op("ConstantOfShape", g.op("Shape", a.dst), onnx.AttrTensor("value", Const(1, 1)))
		n1 := g.op("Concat", []any{g.op("Slice", g.op("Shape", features), g.ints(0), g.ints(1)), g.ints(1)}, axis(0))
		zeros := g.op("ConstantOfShape", n1, onnx.AttrTensor("value", Const(0, 1)))
		g.declare(zeros, "nodes", 1)
		deg := g.op("ScatterElements", zeros, a.dst, ones, axis(0), onnx.AttrString("reduction", "add"))
		deg = g.op("Add", deg, g.constant(Const(1)))
		a.dinv = g.op("Div", g.constant(Const(1)), g.op("Sqrt", deg))
	}
	return a
}

func (a *sparseAgg) apply(h string, _ int) string {
	g := a.g
	hs := h
	if a.normalize {
		hs = g.op("Mul", h, a.dinv)
	}
	msgs := g.op("Gather", hs, a.src, axis(0)) // [edges, C]
	targets := g.op("Expand", a.dst, g.op("Shape", msgs))
	zeros := g.op("ConstantOfShape", g.op("Shape", hs), onnx.AttrTensor("value", Const(0, 1)))
	sum := g.op("ScatterElements", zeros, targets, msgs, axis(0), onnx.AttrString("reduction", "add"))
	if !a.normalize {
		return sum
	}
	return g.op("Mul", g.op("Add", sum, hs), a.dinv)
}
