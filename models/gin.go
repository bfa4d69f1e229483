package models

import (
	"fmt"
	"math"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
)

// OGB's molecular feature vocabularies (ogb.utils.features.get_atom_feature_dims and
// get_bond_feature_dims): the number of values each integer atom and bond feature takes.
var (
	OGBAtomFeatureDims = []int{119, 5, 12, 12, 10, 6, 6, 2, 2}
	OGBBondFeatureDims = []int{5, 6, 2}
)

// GIN graph pooling and jumping-knowledge modes (the OGB example's graph_pooling and JK).
const (
	GINPoolMean = "mean"
	GINPoolSum  = "sum"
	GINJKLast   = "last"
	GINJKSum    = "sum"
)

// GIN input and output names (the signature of the graph task).
const (
	GINNodeFeatures = "x"           // int64 [nodes, 9]: OGB atom features
	GINEdgeIndex    = "edge_index"  // int64 [2, edges]: sources, then targets (both directions listed)
	GINEdgeFeatures = "edge_attr"   // int64 [edges, 3]: OGB bond features
	GINBatch        = "batch"       // int64 [nodes]: the graph each node belongs to
	GINNodeMask     = "node_mask"   // float32 [nodes]: 1 for real nodes, 0 for padding
	GINNodePad      = "node_pad"    // float32 [nodes]: padding pattern (see GINPadPattern), 0 on real nodes
	GINGraphScale   = "graph_scale" // float32 [graphs]: pooling weight (1/nodes for mean, 1 for sum, 0 for padding)
	GINOutput       = "logits"      // float32 [graphs, Outputs]
)

// GIN is the graph isomorphism network of the OGB molecular property prediction example
// (examples/graphproppred/mol, gnn_type gin, no virtual node), as FOB's graph task builds it:
//
//	h⁰ = AtomEncoder(x)                         sum of one embedding per atom feature
//	hˡ⁺¹ = Dropout(ReLU(BN(GINConv(hˡ))))        ReLU left out after the last layer
//	GINConv(h) = MLP((1+ε)·h + Σ_{j→i} ReLU(h_j + BondEncoder(e_ji)))
//	MLP = Linear(W→2W) → BN → ReLU → Linear(2W→W)
//	logits = Linear(pool(JK(h⁰…hᴸ)))
//
// Messages are gathered along edge_index and scatter-added into their targets (ScatterElements,
// reduction add, as models.GCN's sparse form). Batches of several graphs are padded to fixed
// sizes so one compiled graph serves many batches: padded nodes have node_mask 0 and feed no
// real node (padded edges join padded nodes), pooling multiplies them out, and before every
// BatchNormalization their rows are replaced by the real rows' mean plus node_pad times their
// standard deviation. GINPadPattern makes node_pad sum to 0 with squares summing to the padding
// count, so the batch mean and (biased) variance over all rows equal those over the real rows:
// batch statistics in training, and therefore every real output and gradient, do not depend on
// the padding. With running statistics (inference) the replaced rows are simply discarded.
//
// Parameters carry the PyTorch module names of the OGB example (gnn_node.convs.0.mlp.0.weight,
// gnn_node.batch_norms.0.running_mean, graph_pred_linear.bias, ...). Initialisation is
// PyTorch's: embeddings xavier-uniform (as OGB's encoders reset them), Linear layers torch's
// default, BatchNorm weight 1 and bias 0, ε 0.
type GIN struct {
	// Hidden is the embedding width (300); the MLP's inner width is twice it.
	Hidden int
	// Layers is the number of GIN layers (5).
	Layers int
	// Dropout is the drop probability after each layer (0.5).
	Dropout float64
	// Pooling is GINPoolMean or GINPoolSum; GINGraphScale carries the per-graph weight either way.
	Pooling string
	// JK is GINJKLast or GINJKSum (the sum includes the atom embeddings h⁰, as OGB's).
	JK string
	// Outputs is the width of the prediction head (2 in FOB).
	Outputs int
}

// GINPadPattern returns node_pad for a batch of real real nodes padded to total rows: zeros on
// the real rows, then pairs (+1, -1) and, when the padding count is odd, one triple
// (√1.5, -√1.5, 0), so the padding values sum to 0 and their squares to the padding count. A
// padding count of exactly 1 has no such pattern and is an error: pad by 0 or at least 2 rows.
func GINPadPattern(real, total int) ([]float32, error) {
	k := total - real
	if real < 0 || k < 0 || k == 1 {
		return nil, fmt.Errorf("models: GIN padding from %d to %d rows: the padding must be 0 or at least 2 rows", real, total)
	}
	p := make([]float32, total)
	i := real
	if k%2 == 1 {
		s := float32(math.Sqrt(1.5))
		p[i], p[i+1], p[i+2] = s, -s, 0
		i += 3
	}
	for ; i < total; i += 2 {
		p[i], p[i+1] = 1, -1
	}
	return p, nil
}

func (m GIN) validate() error {
	switch {
	case m.Hidden <= 0 || m.Layers <= 0 || m.Outputs <= 0:
		return fmt.Errorf("models: GIN needs positive Hidden, Layers and Outputs, got %d, %d, %d", m.Hidden, m.Layers, m.Outputs)
	case m.Dropout < 0 || m.Dropout >= 1:
		return fmt.Errorf("models: GIN dropout %g outside [0, 1)", m.Dropout)
	case m.Pooling != GINPoolMean && m.Pooling != GINPoolSum:
		return fmt.Errorf("models: GIN pooling %q; valid: %s, %s", m.Pooling, GINPoolMean, GINPoolSum)
	case m.JK != GINJKLast && m.JK != GINJKSum:
		return fmt.Errorf("models: GIN jumping knowledge %q; valid: %s, %s", m.JK, GINJKLast, GINJKSum)
	}
	return nil
}

// ginBuilder holds the names shared by all layers while the graph is built.
type ginBuilder struct {
	g            *graph
	rng          *RNG
	src, dst     string // [edges] and [edges, 1]
	mask, unmask string // node_mask and 1 - node_mask as [nodes, 1]
	pad          string // node_pad as [nodes, 1]
	invReal      string // 1 / (number of real nodes), [1, 1]
}

// Build returns the GIN as an ONNX graph with symbolic nodes, edges and graphs dimensions,
// initialised from seed.
func (m GIN) Build(name string, seed int64) (*onnxpb.ModelProto, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	g := newGraph(name)
	b := &ginBuilder{g: g, rng: NewRNG(seed)}
	g.b.Input(GINNodeFeatures, "int64", "nodes", len(OGBAtomFeatureDims))
	g.b.Input(GINEdgeIndex, "int64", 2, "edges")
	g.b.Input(GINEdgeFeatures, "int64", "edges", len(OGBBondFeatureDims))
	g.b.Input(GINBatch, "int64", "nodes")
	g.b.Input(GINNodeMask, "float32", "nodes")
	g.b.Input(GINNodePad, "float32", "nodes")
	g.b.Input(GINGraphScale, "float32", "graphs")

	b.src = g.op("Squeeze", g.op("Gather", GINEdgeIndex, g.ints(0), axis(0)), g.ints(0))
	b.dst = g.op("Transpose", g.op("Gather", GINEdgeIndex, g.ints(1), axis(0)), onnx.AttrInts("perm", []int64{1, 0}))
	b.mask = g.op("Unsqueeze", GINNodeMask, g.ints(1))
	b.unmask = g.op("Sub", g.constant(Const(1)), b.mask)
	b.pad = g.op("Unsqueeze", GINNodePad, g.ints(1))
	b.invReal = g.op("Div", g.constant(Const(1)), g.op("ReduceSum", b.mask, g.ints(0, 1), onnx.AttrInt("keepdims", 1)))

	h := b.encoder("gnn_node.atom_encoder.atom_embedding_list", GINNodeFeatures, OGBAtomFeatureDims, m.Hidden)
	jk := h
	for l := 0; l < m.Layers; l++ {
		h = b.conv(fmt.Sprintf("gnn_node.convs.%d.", l), h, m.Hidden)
		h = b.batchNorm(fmt.Sprintf("gnn_node.batch_norms.%d", l), h, m.Hidden)
		if l < m.Layers-1 {
			h = g.op("Relu", h)
		}
		h = g.dropout(h, m.Dropout)
		if m.JK == GINJKSum {
			jk = g.op("Add", jk, h)
		}
	}
	if m.JK == GINJKLast {
		jk = h
	}
	// Pooling: padded nodes are multiplied out, then each graph's rows are scatter-added and
	// scaled by graph_scale (1/nodes for the mean).
	rows := g.op("Mul", jk, b.mask)
	gshape := g.op("Concat", []any{g.op("Shape", GINGraphScale), g.ints(int64(m.Hidden))}, axis(0))
	zeros := g.op("ConstantOfShape", gshape, onnx.AttrTensor("value", Const(0, 1)))
	g.declare(zeros, "graphs", m.Hidden)
	idx := g.op("Expand", g.op("Unsqueeze", GINBatch, g.ints(1)), g.op("Shape", rows))
	pooled := g.op("ScatterElements", zeros, idx, rows, axis(0), onnx.AttrString("reduction", "add"))
	pooled = g.op("Mul", pooled, g.op("Unsqueeze", GINGraphScale, g.ints(1)))
	w, bias := b.rng.LinearInit(m.Hidden, m.Outputs)
	g.param("graph_pred_linear.weight", w)
	g.param("graph_pred_linear.bias", bias)
	wt := g.op("Transpose", "graph_pred_linear.weight", onnx.AttrInts("perm", []int64{1, 0}))
	g.b.Node("Add", []string{g.op("MatMul", pooled, wt), "graph_pred_linear.bias"}, []string{GINOutput})
	g.b.Output(GINOutput, "float32", "graphs", m.Outputs)
	return g.model()
}

// encoder is OGB's AtomEncoder/BondEncoder: one embedding table p.<i>.weight [dims[i], width]
// per integer feature column of in, looked up and summed. Tables are xavier-uniform.
func (b *ginBuilder) encoder(p, in string, dims []int, width int) string {
	g := b.g
	var sum string
	for i, d := range dims {
		name := fmt.Sprintf("%s.%d.weight", p, i)
		g.param(name, b.rng.Uniform(math.Sqrt(6/float64(d+width)), d, width))
		col := g.op("Squeeze", g.op("Gather", in, g.ints(int64(i)), axis(1)), g.ints(1))
		e := g.op("Gather", name, col, axis(0))
		if sum == "" {
			sum = e
		} else {
			sum = g.op("Add", sum, e)
		}
	}
	return sum
}

// conv is OGB's GINConv (prefix p): MLP((1+eps)·h + Σ ReLU(h_src + bond embedding)).
func (b *ginBuilder) conv(p, h string, width int) string {
	g := b.g
	e := b.encoder(p+"bond_encoder.bond_embedding_list", GINEdgeFeatures, OGBBondFeatureDims, width)
	msgs := g.op("Relu", g.op("Add", g.op("Gather", h, b.src, axis(0)), e)) // [edges, W]
	targets := g.op("Expand", b.dst, g.op("Shape", msgs))
	zeros := g.op("ConstantOfShape", g.op("Shape", h), onnx.AttrTensor("value", Const(0, 1)))
	agg := g.op("ScatterElements", zeros, targets, msgs, axis(0), onnx.AttrString("reduction", "add"))
	g.param(p+"eps", Const(0, 1))
	x := g.op("Add", g.op("Mul", h, g.op("Add", g.constant(Const(1)), p+"eps")), agg)
	x = g.linear(b.rng, p+"mlp.0", x, width, 2*width, false)
	x = g.op("Relu", b.batchNorm(p+"mlp.1", x, 2*width))
	return g.linear(b.rng, p+"mlp.3", x, 2*width, width, false)
}

// batchNorm is torch.nn.BatchNorm1d(c) on [nodes, c] (inference form; fob's trainer uses batch
// statistics), preceded by the padding fill that keeps batch statistics those of real rows.
func (b *ginBuilder) batchNorm(p, x string, c int) string {
	g := b.g
	sum0 := func(v string) string {
		return g.op("Mul", g.op("ReduceSum", v, g.ints(0), onnx.AttrInt("keepdims", 1)), b.invReal)
	}
	mean := sum0(g.op("Mul", x, b.mask)) // [1, c]
	d := g.op("Mul", g.op("Sub", x, mean), b.mask)
	// The tiny floor keeps Sqrt's gradient finite for a constant channel.
	std := g.op("Sqrt", g.op("Add", sum0(g.op("Mul", d, d)), g.constant(Const(1e-12))))
	filled := g.op("Add", g.op("Mul", x, b.mask), g.op("Add", g.op("Mul", b.unmask, mean), g.op("Mul", b.pad, std)))
	g.declare(filled, "nodes", c)
	return g.batchNorm(p, filled, c, false)
}
