package onnx

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync/atomic"

	"google.golang.org/protobuf/proto"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
)

// DropoutMode says what ForImport does with Dropout nodes.
type DropoutMode int

const (
	// DropoutRemove is for inference: consumers read the Dropout input directly.
	DropoutRemove DropoutMode = iota
	// DropoutMasks is for training: y = Dropout(x, ratio) becomes y = Mul(x, M) with M a new
	// float32 graph input "fob.dropout.<k>" that the trainer feeds with keep-mask / (1 - ratio).
	DropoutMasks
)

// ImportOptions configures ForImport.
type ImportOptions struct {
	Dropout DropoutMode
	// BatchNorm says which statistics BatchNormalization normalises with (lower_cnn.go).
	BatchNorm BatchNormMode
	// FusedBatchNorm (BatchNormTrain mode) turns each BatchNormalization into one node of
	// FusedBatchNormOp in FusedDomain instead of reductions and elementwise ops: the trainer
	// (train.CallGraph) converts it to GoMLX's BatchNormForTraining, whose gradient is one op
	// too. onnx-gomlx's own CallGraph cannot convert such a graph.
	FusedBatchNorm bool
}

// DropoutSite describes one Dropout turned into a mask input (DropoutMasks mode): the mask
// input named Mask multiplies the tensor named Input; Ratio is the drop probability. The mask
// input is declared in the lowered graph with the inferred shape of Input (SignatureOf shows it).
type DropoutSite struct {
	Input, Mask string
	Ratio       float64
}

// gomlxOps are the ops onnx-gomlx v0.3.4 converts (its convertNode switch).
var gomlxOps = map[string]bool{}

func init() {
	for _, op := range strings.Fields(`Add Sub Mul Div Pow And Or Xor BitwiseAnd BitwiseOr BitwiseXor
		Equal Less LessOrEqual Greater GreaterOrEqual Sqrt Exp Log Erf Relu Abs Neg Sign Ceil Floor
		Identity Not BitwiseNot Tanh Sin Cos MatMul Clip Where Min Max Constant Gather GatherElements
		Shape Concat Softmax Cast Transpose Gemm Flatten DequantizeLinear QuantizeLinear MatMulInteger
		QLinearMatMul Squeeze Unsqueeze Slice Reshape ReduceMean ConstantOfShape Expand Tile Range
		CumSum LSTM Conv AveragePool MaxPool GlobalAveragePool BatchNormalization LayerNormalization
		Pad DynamicQuantizeLinear Split Trilu ScatterND If`) {
		gomlxOps[op] = true
	}
}

// minInputs guards the rewrites below against malformed nodes.
var minInputs = map[string]int{"Identity": 1, "Dropout": 1, "Sigmoid": 1, "Softplus": 1, "LeakyRelu": 1,
	"Elu": 1, "Reciprocal": 1, "Gelu": 1, "LogSoftmax": 1, "Softmax": 1, "ReduceSum": 1, "Gemm": 2,
	"Conv": 2, "MaxPool": 1, "AveragePool": 1, "ScatterElements": 3, "Gather": 2, "GatherElements": 2,
	"GlobalAveragePool": 1, "Slice": 1, "Clip": 1, "CumSum": 2, "Shape": 1, "LSTM": 3, "LayerNormalization": 2}

// loweredOps are the ops ForImport rewrites into gomlxOps.
var loweredOps = strings.Fields("Dropout Sigmoid LogSoftmax Reciprocal LeakyRelu Elu Gelu Softplus ReduceSum ScatterElements GlobalMaxPool")

// rewritten are the gomlxOps ForImport rewrites (or may rewrite) because onnx-gomlx gets some
// of their cases wrong.
var rewritten = map[string]bool{"Identity": true, "Softmax": true, "Gemm": true, "Gather": true,
	"GatherElements": true, "GlobalAveragePool": true, "Slice": true, "Clip": true, "CumSum": true,
	"Shape": true, "LayerNormalization": true}

func supportedList() string {
	all := append([]string{}, loweredOps...)
	for op := range gomlxOps {
		all = append(all, op)
	}
	sort.Strings(all)
	return strings.Join(all, " ")
}

// ForImport returns a rewritten copy of m that onnx-gomlx v0.3.4 can import and differentiate;
// m itself is not modified (it is what gets exported after training). The rewrites:
//   - Dropout: removed or turned into a mask input (see DropoutMode); Identity: removed, its
//     consumers (and graph outputs) read its input, since Identity has no gradient in GoMLX.
//   - Ops onnx-gomlx lacks, rebuilt from ops it has: Sigmoid, Softplus, LeakyRelu, Elu (in forms
//     whose exponentials never overflow), LogSoftmax (from Softmax, so no ReduceMax is needed),
//     Reciprocal, Gelu (erf and tanh forms), ReduceSum (from ReduceMean).
//   - Gemm with alpha or beta != 1 (onnx-gomlx reads beta from alpha) becomes MatMul/Mul/Add.
//   - Conv gets explicit strides, pads, dilations and kernel_shape since onnx-gomlx's defaults
//     differ from ONNX's or crash. MaxPool, AveragePool and GlobalMaxPool become strided Slices
//     of a padded input and a Max/Add chain (differentiable; lower_cnn.go); BatchNormalization
//     follows ImportOptions.BatchNorm (batch statistics and running-statistic updates in
//     training, see Lower).
//   - Softmax/LogSoftmax of opsets < 13 (which flatten to 2-D) are wrapped in Flatten/Reshape.
//   - Cases onnx-gomlx computes wrongly, found with ONNX's node conformance tests
//     (TestConformance): Gather/GatherElements indices made non-negative (onnx-gomlx does not
//     count negative ones from the end); GlobalAveragePool as ReduceMean keeping the spatial
//     axes (onnx-gomlx drops them); Slice with negative steps as Gather of the constant
//     indices; Clip with attributes (opset < 11) or omitted min/max as Max/Min; CumSum with
//     exclusive=1 as the inclusive sum minus x (simplego crashes on a size-1 axis); Shape with
//     start/end clamped to the rank, as ONNX specifies; LSTM without its bias input gets the
//     zero bias ONNX defines (onnx-gomlx needs one); LayerNormalization whose Mean or
//     InvStdDev output is used, from ReduceMean/Sub/Mul/Sqrt/Div (onnx-gomlx computes only Y).
//   - Initializers listed as graph inputs stop being inputs; value_info is dropped; initializers
//     only the removed nodes read are dropped; outputs without a declared shape get the inferred
//     one (onnx-gomlx needs one).
//
// New constants are Constant nodes, never initializers, so they do not become trainable
// variables. An op that is neither supported nor lowered is an error naming op and node.
func ForImport(m *onnxpb.ModelProto, opt ImportOptions) (lowered *onnxpb.ModelProto, sites []DropoutSite, err error) {
	lw, err := Lower(m, opt)
	return lw.Model, lw.Dropout, err
}

// Lower is ForImport also returning the BatchNormalization sites (BatchNormTrain mode).
func Lower(m *onnxpb.ModelProto, opt ImportOptions) (lw Lowered, err error) {
	if m.GetGraph() == nil {
		return Lowered{}, fmt.Errorf("onnx: ForImport: model has no graph")
	}
	c := proto.Clone(m).(*onnxpb.ModelProto)
	if !panicsAreFindings.Load() {
		defer func() {
			// Malformed graphs must come back as errors, never as panics in the caller.
			if r := recover(); r != nil {
				lw, err = Lowered{}, fmt.Errorf("onnx: preparing graph %q for training: malformed graph (%v)", c.Graph.GetName(), r)
			}
		}()
	}
	l := newLowerer(c, opt)
	for _, n := range c.Graph.GetNode() {
		l.lower(n)
	}
	if len(l.unsupported) > 0 {
		return Lowered{}, fmt.Errorf("onnx: %s; supported: %s", strings.Join(l.unsupported, "; "), supportedList())
	}
	if len(l.errs) > 0 {
		return Lowered{}, fmt.Errorf("onnx: preparing graph %q for training: %s", c.Graph.GetName(), strings.Join(l.errs, "; "))
	}
	l.finish()
	if len(l.errs) > 0 {
		return Lowered{}, fmt.Errorf("onnx: preparing graph %q for training: %s", c.Graph.GetName(), strings.Join(l.errs, "; "))
	}
	sites := make([]DropoutSite, len(l.sites))
	for i, s := range l.sites {
		sites[i] = *s
	}
	return Lowered{Model: c, Dropout: sites, BatchNorm: l.bnSites}, nil
}

// panicsAreFindings turns off the safety net of ForImport and Validate, which otherwise turn a
// panic on a graph nobody foresaw into an error: FuzzImport and TestRandomGraphs set it so that
// such panics surface as bugs to fix.
var panicsAreFindings atomic.Bool

type lowerer struct {
	m           *onnxpb.ModelProto
	g           *onnxpb.GraphProto
	opset       int64
	opt         ImportOptions
	used        map[string]bool
	seq         int
	consts      map[string]tensor.Tensor
	inits       map[string]bool
	nodes       []*onnxpb.NodeProto
	alias       map[string]string // output of a removed pass-through node -> its input
	producer    map[string]*onnxpb.NodeProto
	scalars     map[float32]string
	unsupported []string
	errs        []string
	sites       []*DropoutSite
	bnSites     []BatchNormSite
	maskInputs  []*onnxpb.ValueInfoProto
	shapes      *shapeInference
	base        string // name stem for nodes emitted while lowering the current node
}

func newLowerer(m *onnxpb.ModelProto, opt ImportOptions) *lowerer {
	l := &lowerer{m: m, g: m.Graph, opt: opt, used: map[string]bool{}, consts: map[string]tensor.Tensor{},
		inits: map[string]bool{}, alias: map[string]string{}, scalars: map[float32]string{}, opset: 1,
		producer: map[string]*onnxpb.NodeProto{}}
	for _, o := range m.GetOpsetImport() {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			l.opset = o.GetVersion()
		}
	}
	l.consts = graphConsts(l.g)
	for _, t := range l.g.GetInitializer() {
		l.used[t.GetName()] = true
		l.inits[t.GetName()] = true
	}
	for _, vi := range l.g.GetInput() {
		l.used[vi.GetName()] = true
	}
	for _, vi := range l.g.GetOutput() {
		l.used[vi.GetName()] = true
	}
	for _, n := range l.g.GetNode() {
		l.used[n.GetName()] = true
		for _, s := range append(append([]string{}, n.GetInput()...), n.GetOutput()...) {
			l.used[s] = true
		}
		for _, o := range n.GetOutput() {
			l.producer[o] = n
		}
	}
	l.shapes = inferShapes(l.g, l.consts, l.opset)
	return l
}

// fresh returns an unused name derived from the current node.
func (l *lowerer) fresh(what string) string {
	for {
		l.seq++
		name := fmt.Sprintf("%s.fob.%s%d", l.base, what, l.seq)
		if !l.used[name] {
			l.used[name] = true
			return name
		}
	}
}

// emitTo appends a node writing output.
func (l *lowerer) emitTo(op string, inputs []string, output string, attrs ...*onnxpb.AttributeProto) string {
	l.nodes = append(l.nodes, &onnxpb.NodeProto{
		Name: proto.String(l.fresh(op)), OpType: proto.String(op),
		Input: inputs, Output: []string{output}, Attribute: attrs,
	})
	return output
}

// emit appends a node writing a fresh intermediate and returns its name.
func (l *lowerer) emit(op string, inputs []string, attrs ...*onnxpb.AttributeProto) string {
	return l.emitTo(op, inputs, l.fresh(strings.ToLower(op)), attrs...)
}

// scalar returns a float32 scalar Constant (shared by all later users).
func (l *lowerer) scalar(v float32) string {
	if name, ok := l.scalars[v]; ok {
		return name
	}
	saved := l.base
	l.base = "fob.const"
	name := l.emit("Constant", nil, AttrTensor("value", tensor.F32s([]float32{v})))
	l.base = saved
	l.scalars[v] = name
	return name
}

func (l *lowerer) ints(v ...int64) string {
	return l.emit("Constant", nil, AttrTensor("value", tensor.I64s(v, len(v))))
}

// intScalar returns an int64 scalar Constant.
func (l *lowerer) intScalar(v int64) string {
	return l.emit("Constant", nil, AttrTensor("value", tensor.I64s([]int64{v})))
}

func nodeLabel(n *onnxpb.NodeProto) string {
	if n.GetName() != "" {
		return n.GetName()
	}
	if len(n.GetOutput()) > 0 {
		return "producing " + n.GetOutput()[0]
	}
	return "unnamed"
}

func (l *lowerer) fail(n *onnxpb.NodeProto, format string, args ...any) {
	l.errs = append(l.errs, fmt.Sprintf("%s node %q: %s", n.GetOpType(), nodeLabel(n), fmt.Sprintf(format, args...)))
}

func (l *lowerer) notSupported(n *onnxpb.NodeProto, why string) {
	op := n.GetOpType()
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		op = d + "." + op
	}
	l.unsupported = append(l.unsupported, fmt.Sprintf("op %s (node %s) is not supported for training%s", op, nodeLabel(n), why))
}

func (l *lowerer) keep(n *onnxpb.NodeProto) { l.nodes = append(l.nodes, n) }

func (l *lowerer) lower(n *onnxpb.NodeProto) {
	l.base = nodeLabel(n)
	for _, o := range n.GetOutput() {
		if o != "" {
			l.base = o
			break
		}
	}
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		l.notSupported(n, " (custom domain)")
		return
	}
	if !slices.ContainsFunc(n.GetOutput(), func(o string) bool { return o != "" }) {
		l.fail(n, "the node has no output")
		return
	}
	// RNN/GRU/LSTM may omit their first output (Y) and use only Y_h; every op rewritten here
	// needs its first.
	if n.GetOutput()[0] == "" && (rewritten[n.GetOpType()] || slices.Contains(loweredOps, n.GetOpType())) {
		l.fail(n, "its first output has no name")
		return
	}
	if need := minInputs[n.GetOpType()]; len(n.GetInput()) < need || (need > 0 && n.GetInput()[0] == "") {
		l.fail(n, "the node has %d inputs, ONNX requires at least %d", len(n.GetInput()), need)
		return
	}
	in := func(i int) string {
		if i < len(n.GetInput()) {
			return n.GetInput()[i]
		}
		return ""
	}
	x, y := in(0), n.GetOutput()[0]
	switch n.GetOpType() {
	case "Identity":
		l.alias[y] = x
	case "Dropout":
		l.dropout(n)
	case "Sigmoid":
		// exp(min(x,0)) / (exp(min(x,0)) + exp(-max(x,0))): neither exponential can overflow, so
		// forward and gradient stay finite for any x, and small outputs keep relative precision.
		neg := l.emit("Min", []string{x, l.scalar(0)})
		pos := l.emit("Sub", []string{x, neg})
		a := l.emit("Exp", []string{neg})
		b := l.emit("Exp", []string{l.emit("Neg", []string{pos})})
		l.emitTo("Div", []string{a, l.emit("Add", []string{a, b})}, y)
	case "Softplus":
		// max(x,0) + log(1 + exp(-|x|)), with -|x| = min(x,0) - max(x,0).
		neg := l.emit("Min", []string{x, l.scalar(0)})
		pos := l.emit("Sub", []string{x, neg})
		e := l.emit("Exp", []string{l.emit("Sub", []string{neg, pos})})
		l.emitTo("Add", []string{pos, l.emit("Log", []string{l.emit("Add", []string{e, l.scalar(1)})})}, y)
	case "LeakyRelu":
		// x + (alpha-1)*min(x,0)
		alpha := attrFloat(n, "alpha", 0.01)
		neg := l.emit("Min", []string{x, l.scalar(0)})
		l.emitTo("Add", []string{x, l.emit("Mul", []string{neg, l.scalar(alpha - 1)})}, y)
	case "Elu":
		// max(x,0) + alpha*(exp(min(x,0)) - 1)
		alpha := attrFloat(n, "alpha", 1)
		neg := l.emit("Min", []string{x, l.scalar(0)})
		pos := l.emit("Sub", []string{x, neg})
		em1 := l.emit("Sub", []string{l.emit("Exp", []string{neg}), l.scalar(1)})
		l.emitTo("Add", []string{pos, l.emit("Mul", []string{em1, l.scalar(alpha)})}, y)
	case "Reciprocal":
		l.emitTo("Div", []string{l.scalar(1), x}, y)
	case "Gelu":
		half := l.emit("Mul", []string{x, l.scalar(0.5)})
		var inner string
		switch approx := attrString(n, "approximate", "none"); approx {
		case "none":
			inner = l.emit("Erf", []string{l.emit("Mul", []string{x, l.scalar(float32(1 / math.Sqrt2))})})
		case "tanh":
			x3 := l.emit("Mul", []string{l.emit("Mul", []string{x, x}), x})
			u := l.emit("Add", []string{x, l.emit("Mul", []string{x3, l.scalar(0.044715)})})
			inner = l.emit("Tanh", []string{l.emit("Mul", []string{u, l.scalar(float32(math.Sqrt(2 / math.Pi)))})})
		default:
			l.fail(n, "approximate=%q is not an ONNX Gelu mode (want \"none\" or \"tanh\")", approx)
			return
		}
		l.emitTo("Mul", []string{half, l.emit("Add", []string{inner, l.scalar(1)})}, y)
	case "LogSoftmax":
		l.softmaxFamily(n, true)
	case "Softmax":
		if l.opset < 13 {
			l.softmaxFamily(n, false)
		} else {
			l.keep(n)
		}
	case "ReduceSum":
		l.reduceSum(n)
	case "Gemm":
		l.gemm(n)
	case "ScatterElements":
		l.scatterElements(n)
	case "Conv":
		l.convPool(n)
	case "MaxPool", "AveragePool":
		l.pool(n)
	case "GlobalMaxPool":
		l.globalMaxPool(n)
	case "Gather", "GatherElements":
		l.gather(n)
	case "GlobalAveragePool":
		l.globalAveragePool(n)
	case "Slice":
		l.slice(n)
	case "Clip":
		l.clip(n)
	case "CumSum":
		l.cumSum(n)
	case "Shape":
		l.shapeOp(n)
	case "LSTM":
		l.lstm(n)
	case "LayerNormalization":
		l.layerNorm(n)
	case "BatchNormalization":
		l.batchNorm(n)
	case "Resize":
		l.resize(n)
	case "Constant":
		if a := findAttr(n, "value"); a != nil && a.GetT() != nil {
			l.keep(n) // any element type: onnx-gomlx decodes it
			return
		}
		t, err := constantValue(n)
		if err != nil {
			l.fail(n, "%v", err)
			return
		}
		// value_float & co: onnx-gomlx reads only "value".
		n.Attribute = []*onnxpb.AttributeProto{AttrTensor("value", t)}
		l.keep(n)
	default:
		if !gomlxOps[n.GetOpType()] {
			l.notSupported(n, "")
			return
		}
		l.checkSubgraphs(n)
		l.keep(n)
	}
}

// checkSubgraphs flags unsupported ops inside control-flow bodies (lowering does not reach them).
func (l *lowerer) checkSubgraphs(n *onnxpb.NodeProto) {
	for _, a := range n.GetAttribute() {
		graphs := append([]*onnxpb.GraphProto{}, a.GetGraphs()...)
		if a.GetG() != nil {
			graphs = append(graphs, a.GetG())
		}
		for _, g := range graphs {
			for _, sn := range g.GetNode() {
				if !gomlxOps[sn.GetOpType()] || (sn.GetDomain() != "" && sn.GetDomain() != "ai.onnx") {
					l.notSupported(sn, fmt.Sprintf(" (inside subgraph %q of node %s, where ops are not lowered)", a.GetName(), nodeLabel(n)))
				}
			}
		}
	}
}

// graphConsts returns the values of g's float32/int64 initializers and Constant nodes by name.
func graphConsts(g *onnxpb.GraphProto) map[string]tensor.Tensor {
	consts := map[string]tensor.Tensor{}
	for _, t := range g.GetInitializer() {
		if v, err := TensorOf(t); err == nil && t.GetName() != "" {
			consts[t.GetName()] = v
		}
	}
	for _, n := range g.GetNode() {
		if n.GetOpType() == "Constant" && normDomain(n.GetDomain()) == "" && len(n.GetOutput()) == 1 {
			if t, err := constantValue(n); err == nil {
				consts[n.GetOutput()[0]] = t
			}
		}
	}
	return consts
}

// constantValue decodes a Constant node's value (value or value_float(s)/value_int(s)).
func constantValue(n *onnxpb.NodeProto) (tensor.Tensor, error) {
	for _, a := range n.GetAttribute() {
		switch a.GetName() {
		case "value":
			return TensorOf(a.GetT())
		case "value_float":
			return tensor.F32s([]float32{a.GetF()}), nil
		case "value_floats":
			return tensor.F32s(append([]float32{}, a.GetFloats()...), len(a.GetFloats())), nil
		case "value_int":
			return tensor.I64s([]int64{a.GetI()}), nil
		case "value_ints":
			return tensor.I64s(append([]int64{}, a.GetInts()...), len(a.GetInts())), nil
		default:
			return tensor.Tensor{}, fmt.Errorf("constant attribute %q is not supported (only value, value_float(s), value_int(s))", a.GetName())
		}
	}
	return tensor.Tensor{}, fmt.Errorf("constant has no value attribute")
}

func (l *lowerer) dropout(n *onnxpb.NodeProto) {
	x, y := n.GetInput()[0], n.GetOutput()[0]
	if len(n.GetOutput()) > 1 && n.GetOutput()[1] != "" && l.consumed(n.GetOutput()[1]) {
		l.notSupported(n, fmt.Sprintf(": its mask output %q is used by the graph", n.GetOutput()[1]))
		return
	}
	ratio := 0.5
	if l.opset < 12 {
		ratio = float64(attrFloat(n, "ratio", 0.5))
	} else if len(n.GetInput()) > 1 && n.GetInput()[1] != "" {
		t, ok := l.consts[n.GetInput()[1]]
		if !ok || t.F32 == nil || len(t.F32) != 1 {
			l.fail(n, "ratio input %q must be a float32 scalar constant or initializer", n.GetInput()[1])
			return
		}
		ratio = float64(t.F32[0])
	}
	if ratio < 0 || ratio >= 1 {
		l.fail(n, "ratio %g is outside [0, 1)", ratio)
		return
	}
	if l.opt.Dropout == DropoutRemove || ratio == 0 {
		l.alias[y] = x
		return
	}
	mask := fmt.Sprintf("fob.dropout.%d", len(l.sites))
	if l.used[mask] {
		l.fail(n, "the mask input name %q is already used in the graph", mask)
		return
	}
	l.used[mask] = true
	s := l.shapes.shapes[x]
	if !s.known() {
		l.fail(n, "cannot infer the rank of its input %q to declare mask input %q; add a value_info "+
			"entry for %q (e.g. run onnx.shape_inference.infer_shapes on the model)", x, mask, x)
		return
	}
	dims := make([]any, len(s))
	for i, d := range s {
		switch {
		case d.isFixed():
			dims[i] = int(d.v)
		case d.p != "":
			dims[i] = d.p
		default:
			dims[i] = fmt.Sprintf("%s.d%d", mask, i)
		}
	}
	vi, err := valueInfo(mask, "float32", dims)
	if err != nil {
		l.fail(n, "declaring mask input: %v", err)
		return
	}
	l.maskInputs = append(l.maskInputs, vi)
	l.emitTo("Mul", []string{x, mask}, y)
	l.sites = append(l.sites, &DropoutSite{Input: x, Mask: mask, Ratio: ratio})
}

// consumed reports whether name is read by any node or is a graph output.
func (l *lowerer) consumed(name string) bool {
	for _, o := range l.g.GetOutput() {
		if o.GetName() == name {
			return true
		}
	}
	for _, n := range l.g.GetNode() {
		for _, in := range n.GetInput() {
			if in == name {
				return true
			}
		}
	}
	return false
}

// softmaxFamily emits LogSoftmax (log=true) or an opset<13 Softmax.
// LogSoftmax(x) = z - LSE(z) with z = x - mean(x) (LogSoftmax ignores shifts) and
// LSE(z) = sum_k p_k (z_k - log p_k) / sum_k p_k, p = Softmax(z): an identity
// (z_k - log p_k = LSE(z) for every k) that needs no ReduceMax or ReduceSum (both missing in
// onnx-gomlx) and inherits Softmax's stability; the ratio of means is the ratio of sums. The
// 1e-30 inside the log only matters where p_k underflows, and there p_k weighs it away.
func (l *lowerer) softmaxFamily(n *onnxpb.NodeProto, log bool) {
	x, y := n.GetInput()[0], n.GetOutput()[0]
	axis := attrInt(n, "axis", -1)
	src := x
	if l.opset < 13 {
		// Old semantics: coerce to 2-D at axis (default 1), normalise over the flattened tail.
		axis = attrInt(n, "axis", 1)
		src = l.emit("Flatten", []string{x}, AttrInt("axis", axis))
		axis = 1
	}
	if log {
		// Centre on the mean first: x_k - log p_k loses the digits of LSE when |x| is large
		// (logits near 1e4 lose 1e-3), the centred values keep them; the shift cancels exactly.
		src = l.emit("Sub", []string{src, l.reduceMean(src, []int64{axis}, true)})
	}
	p := l.emit("Softmax", []string{src}, AttrInt("axis", axis))
	out := p
	if log {
		lp := l.emit("Log", []string{l.emit("Add", []string{p, l.scalar(1e-30)})})
		num := l.reduceMean(l.emit("Mul", []string{p, l.emit("Sub", []string{src, lp})}), []int64{axis}, true)
		den := l.reduceMean(p, []int64{axis}, true)
		out = l.emit("Sub", []string{src, l.emit("Div", []string{num, den})})
	}
	if l.opset < 13 {
		l.emitTo("Reshape", []string{out, l.emit("Shape", []string{x})}, y)
		return
	}
	// Rename the last emitted node's output to y.
	last := l.nodes[len(l.nodes)-1]
	last.Output[0] = y
}

// reduceMean emits ReduceMean in the form the model's opset expects (axes input from opset 18).
func (l *lowerer) reduceMean(x string, axes []int64, keepdims bool) string {
	kd := int64(0)
	if keepdims {
		kd = 1
	}
	if len(axes) == 0 {
		return l.emit("ReduceMean", []string{x}, AttrInt("keepdims", kd))
	}
	if l.opset >= 18 {
		return l.emit("ReduceMean", []string{x, l.ints(axes...)}, AttrInt("keepdims", kd))
	}
	return l.emit("ReduceMean", []string{x}, AttrInts("axes", axes), AttrInt("keepdims", kd))
}

// dimCount returns a float32 scalar: the size of x along axis (axis < 0 counts from the end).
func (l *lowerer) dimCount(x string, axis int64) string {
	end := axis + 1
	if axis == -1 {
		end = math.MaxInt64
	}
	shp := l.emit("Shape", []string{x})
	var one string
	if l.opset >= 10 {
		one = l.emit("Slice", []string{shp, l.ints(axis), l.ints(end), l.ints(0)})
	} else {
		one = l.emit("Slice", []string{shp}, AttrInts("starts", []int64{axis}), AttrInts("ends", []int64{end}), AttrInts("axes", []int64{0}))
	}
	f := l.emit("Cast", []string{one}, AttrInt("to", int64(onnxpb.TensorProto_FLOAT)))
	return l.reduceMean(f, nil, false) // [1] -> scalar
}

// reduceSum lowers ReduceSum(x, axes) to ReduceMean(x, axes) * (number of reduced elements).
func (l *lowerer) reduceSum(n *onnxpb.NodeProto) {
	x, y := n.GetInput()[0], n.GetOutput()[0]
	keep := attrInt(n, "keepdims", 1) != 0
	var axes []int64
	if a := findAttr(n, "axes"); a != nil {
		axes = a.GetInts()
	} else if len(n.GetInput()) > 1 && n.GetInput()[1] != "" {
		t, ok := l.consts[n.GetInput()[1]]
		if !ok || t.I64 == nil {
			l.fail(n, "axes input %q must be an int64 constant or initializer", n.GetInput()[1])
			return
		}
		axes = t.I64
	}
	if len(axes) == 0 && attrInt(n, "noop_with_empty_axes", 0) != 0 {
		l.alias[y] = x
		return
	}
	var count string
	if len(axes) == 0 {
		count = l.dimCount(l.emit("Flatten", []string{x}, AttrInt("axis", 0)), 1)
	} else {
		for _, a := range axes {
			c := l.dimCount(x, a)
			if count == "" {
				count = c
			} else {
				count = l.emit("Mul", []string{count, c})
			}
		}
	}
	mean := l.reduceMean(x, axes, keep)
	l.emitTo("Mul", []string{mean, count}, y)
}

// scatterElements lowers ScatterElements(data, indices, updates) to ScatterND, which
// onnx-gomlx has (GoMLX's Scatter ops, with gradients). ScatterElements is what exporters write
// for scatter_add / index_add (message passing in graph networks), and unlike ScatterND it is
// deterministic in onnxruntime's CPU kernel with duplicate indices.
//
// The common case, indices that vary along axis 0 only (an index per row, expanded along the
// other axes, with updates as wide as data), becomes a row scatter: ScatterND with indices
// [rows, 1] moves whole rows. Anything else scatters element by element: ScatterND with the
// full coordinates [..., rank], the axis coordinate from indices and the others counted with
// CumSum. Negative indices count from the end of the axis, as ONNX allows.
func (l *lowerer) scatterElements(n *onnxpb.NodeProto) {
	data, indices, updates, y := n.GetInput()[0], n.GetInput()[1], n.GetInput()[2], n.GetOutput()[0]
	reduction := "none"
	if l.opset >= 16 {
		reduction = attrString(n, "reduction", "none")
	}
	switch reduction {
	case "none", "add", "max", "min":
	case "mul":
		l.notSupported(n, " with reduction=mul (GoMLX has no scatter-multiply)")
		return
	default:
		l.fail(n, "reduction %q is not an ONNX ScatterElements mode (none, add, mul, max, min)", reduction)
		return
	}
	ds := l.shapes.shapes[data]
	if !ds.known() {
		l.fail(n, "cannot infer the rank of data %q; add a value_info entry for it", data)
		return
	}
	rank := len(ds)
	axis := attrInt(n, "axis", 0)
	if axis < -int64(rank) || axis >= int64(rank) {
		l.fail(n, "axis %d is out of range for data of rank %d", axis, rank)
		return
	}
	if axis < 0 {
		axis += int64(rank)
	}
	// idx normalises negative indices: idx + size(data, axis) where idx < 0.
	zero := l.intScalar(0)
	size := l.emit("Gather", []string{l.emit("Shape", []string{data}), l.intScalar(axis)}, AttrInt("axis", 0))
	idx := func(x string) string {
		return l.emit("Where", []string{l.emit("Less", []string{x, zero}), l.emit("Add", []string{x, size}), x})
	}
	attrs := []*onnxpb.AttributeProto{AttrString("reduction", reduction)}
	if rows := l.rowIndices(indices, updates, ds, axis); rows != "" {
		// [rows, 1]: the row index of each update row; Expand makes a broadcast row count (1)
		// the updates' row count.
		n0 := l.emit("Slice", []string{l.emit("Shape", []string{updates}), l.ints(0), l.ints(1), l.ints(0)})
		r := l.emit("Expand", []string{l.emit("Reshape", []string{rows, l.ints(-1, 1)}), l.emit("Concat", []string{n0, l.ints(1)}, AttrInt("axis", 0))})
		l.emitTo("ScatterND", []string{data, idx(r), updates}, y, attrs...)
		return
	}
	ones := l.emit("ConstantOfShape", []string{l.emit("Shape", []string{indices})}, AttrTensor("value", tensor.I64s([]int64{1}, 1)))
	last := l.ints(-1)
	coords := make([]string, rank)
	for d := range coords {
		var c string
		if int64(d) == axis {
			c = idx(indices)
		} else {
			// The exclusive count, as the inclusive one minus 1 (see cumSum).
			c = l.emit("Sub", []string{l.emit("CumSum", []string{ones, l.intScalar(int64(d))}), ones})
		}
		if l.opset >= 13 {
			coords[d] = l.emit("Unsqueeze", []string{c, last})
		} else {
			coords[d] = l.emit("Unsqueeze", []string{c}, AttrInts("axes", []int64{-1}))
		}
	}
	l.emitTo("ScatterND", []string{data, l.emit("Concat", coords, AttrInt("axis", -1)), updates}, y, attrs...)
}

// rowIndices returns the tensor of one index per row when a ScatterElements along axis 0 is a
// row scatter: indices is Expand(rows, ...) with rows of shape [n, 1, ..., 1] (or is itself of
// that shape), and updates has data's shape after the first axis. Otherwise it returns "".
func (l *lowerer) rowIndices(indices, updates string, ds shape, axis int64) string {
	if axis != 0 || len(ds) < 2 {
		return ""
	}
	us := l.shapes.shapes[updates]
	if len(us) != len(ds) {
		return ""
	}
	for i := 1; i < len(ds); i++ {
		a, b := ds[i], us[i]
		if !(a.isFixed() && a.v == b.v) && !(!a.isFixed() && a.p != "" && a.p == b.p) {
			return ""
		}
	}
	column := func(name string) bool {
		s := l.shapes.shapes[name]
		if len(s) != len(ds) {
			return false
		}
		for _, d := range s[1:] {
			if !d.isFixed() || d.v != 1 {
				return false
			}
		}
		return true
	}
	if column(indices) {
		return indices
	}
	if p := l.producer[indices]; p != nil && p.GetOpType() == "Expand" && len(p.GetInput()) == 2 && column(p.GetInput()[0]) {
		return p.GetInput()[0]
	}
	return ""
}

// gemm lowers Gemm with alpha or beta != 1 (onnx-gomlx reads beta from the alpha attribute).
func (l *lowerer) gemm(n *onnxpb.NodeProto) {
	alpha, beta := attrFloat(n, "alpha", 1), attrFloat(n, "beta", 1)
	if alpha == 1 && beta == 1 {
		l.keep(n)
		return
	}
	in := n.GetInput()
	a, b, y := in[0], in[1], n.GetOutput()[0]
	if attrInt(n, "transA", 0) != 0 {
		a = l.emit("Transpose", []string{a}, AttrInts("perm", []int64{1, 0}))
	}
	if attrInt(n, "transB", 0) != 0 {
		b = l.emit("Transpose", []string{b}, AttrInts("perm", []int64{1, 0}))
	}
	hasC := len(in) > 2 && in[2] != "" && beta != 0
	out := l.emit("MatMul", []string{a, b})
	if alpha != 1 {
		out = l.emit("Mul", []string{out, l.scalar(alpha)})
	}
	if hasC {
		c := in[2]
		if beta != 1 {
			c = l.emit("Mul", []string{c, l.scalar(beta)})
		}
		out = l.emit("Add", []string{out, c})
	}
	// The last node emitted computes out: let it write y directly.
	l.nodes[len(l.nodes)-1].Output[0] = y
}

// convPool writes out the attributes onnx-gomlx would otherwise get wrong (item 6 of the field
// notes): strides, pads, Conv dilations and kernel_shape.
func (l *lowerer) convPool(n *onnxpb.NodeProto) {
	op := n.GetOpType()
	kernel := attrInts(n, "kernel_shape", nil)
	if kernel == nil && op == "Conv" && len(n.GetInput()) > 1 {
		if w, ok := l.consts[n.GetInput()[1]]; ok && len(w.Shape) >= 3 {
			for _, d := range w.Shape[2:] {
				kernel = append(kernel, int64(d))
			}
		}
	}
	if kernel == nil {
		l.fail(n, "kernel_shape is missing and cannot be read from a constant weight; add the attribute")
		return
	}
	sp := len(kernel)
	auto := attrString(n, "auto_pad", "NOTSET")
	switch auto {
	case "NOTSET", "":
	case "VALID":
		if findAttr(n, "pads") != nil {
			l.fail(n, "auto_pad=VALID together with pads")
			return
		}
	default:
		l.notSupported(n, fmt.Sprintf(" with auto_pad=%s; export with explicit pads", auto))
		return
	}
	if op != "Conv" && attrInt(n, "ceil_mode", 0) != 0 {
		l.notSupported(n, " with ceil_mode=1")
		return
	}
	if op == "MaxPool" && !l.maxPoolOutputsSupported(n) {
		return
	}
	if op != "Conv" {
		if d := attrInts(n, "dilations", nil); d != nil {
			for _, v := range d {
				if v != 1 {
					l.notSupported(n, fmt.Sprintf(" with dilations=%v", d))
					return
				}
			}
		}
	}
	pads := attrInts(n, "pads", make([]int64, 2*sp))
	if op == "AveragePool" && attrInt(n, "count_include_pad", 0) != 0 {
		for _, p := range pads {
			if p != 0 {
				l.notSupported(n, " with count_include_pad=1 and non-zero pads")
				return
			}
		}
	}
	strides := attrInts(n, "strides", ones(sp))
	dil := attrInts(n, "dilations", ones(sp))
	if len(strides) != sp || len(pads) != 2*sp || len(dil) != sp {
		l.fail(n, "kernel_shape %v, strides %v, pads %v, dilations %v disagree on the number of spatial axes", kernel, strides, pads, dil)
		return
	}
	if op == "Conv" && !allOnes(strides) && !allOnes(dil) {
		l.notSupported(n, fmt.Sprintf(" with both strides %v and dilations %v (GoMLX convolutions take one or the other)", strides, dil))
		return
	}
	attrs := []*onnxpb.AttributeProto{AttrInts("kernel_shape", kernel), AttrInts("strides", strides), AttrInts("pads", pads)}
	if op == "Conv" {
		attrs = append(attrs, AttrInts("dilations", dil), AttrInt("group", attrInt(n, "group", 1)))
	}
	// Keep any other attribute as is; the ones rewritten or dropped above are replaced.
	for _, a := range n.GetAttribute() {
		switch a.GetName() {
		case "kernel_shape", "strides", "pads", "dilations", "group", "auto_pad", "count_include_pad":
		default:
			attrs = append(attrs, a)
		}
	}
	n.Attribute = attrs
	l.keep(n)
}

// finish applies the aliases, rewires graph outputs, declares mask inputs and prunes.
func (l *lowerer) finish() {
	rename := map[string]string{}
	resolve := func(name string) string {
		for i := 0; i < len(l.alias)+1; i++ {
			src, ok := l.alias[name]
			if !ok {
				break
			}
			name = src
		}
		if r, ok := rename[name]; ok {
			return r
		}
		return name
	}
	producer := map[string]*onnxpb.NodeProto{}
	for _, n := range l.nodes {
		for _, o := range n.GetOutput() {
			producer[o] = n
		}
	}
	isOutput := map[string]bool{}
	for _, o := range l.g.GetOutput() {
		isOutput[o.GetName()] = true
	}
	// A graph output that was the output of a removed node: rename the producer of its source to
	// the output's name where possible (the source is a plain intermediate); otherwise copy it
	// with a Reshape to its own shape, a differentiable pass-through (Identity is not).
	var fallbacks []string
	for _, o := range l.g.GetOutput() {
		name := o.GetName()
		if _, aliased := l.alias[name]; !aliased {
			continue
		}
		src := resolve(name)
		if p, ok := producer[src]; ok && !isOutput[src] && rename[src] == "" && src != name {
			for i, out := range p.Output {
				if out == src {
					p.Output[i] = name
				}
			}
			rename[src] = name
			continue
		}
		fallbacks = append(fallbacks, name)
	}
	for _, n := range l.nodes {
		for i, in := range n.Input {
			if in != "" {
				n.Input[i] = resolve(in)
			}
		}
	}
	for _, name := range fallbacks {
		src := resolve(name)
		l.base = name
		l.emitTo("Reshape", []string{src, l.emit("Shape", []string{src})}, name)
	}
	for _, s := range l.sites {
		s.Input = resolve(s.Input)
	}

	// Inputs: drop initializers listed as inputs, add the mask inputs.
	var inputs []*onnxpb.ValueInfoProto
	for _, vi := range l.g.GetInput() {
		if !l.inits[vi.GetName()] {
			inputs = append(inputs, vi)
		}
	}
	l.g.Input = append(inputs, l.maskInputs...)
	l.g.ValueInfo = nil
	for _, vi := range l.g.Input {
		if tt := vi.GetType().GetTensorType(); tt == nil || tt.GetShape() == nil {
			l.errs = append(l.errs, fmt.Sprintf("graph input %q declares no tensor shape; onnx-gomlx needs "+
				"its rank (give it a shape, with symbolic names for dynamic dims)", vi.GetName()))
		}
	}
	// onnx-gomlx reads every output's declared shape (and crashes on a missing one) but checks
	// none: declare what inference knows, unknown dims left unnamed.
	for _, vi := range l.g.Output {
		tt := vi.GetType().GetTensorType()
		if tt == nil || tt.GetShape() != nil {
			continue
		}
		tt.Shape = &onnxpb.TensorShapeProto{}
		for _, d := range l.shapes.shapes[vi.GetName()] {
			dim := &onnxpb.TensorShapeProto_Dimension{}
			if d.isFixed() {
				dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d.v}
			} else if d.p != "" {
				dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: d.p}
			}
			tt.Shape.Dim = append(tt.Shape.Dim, dim)
		}
	}

	// Drop initializers that only removed nodes read.
	before, after := map[string]bool{}, map[string]bool{}
	for _, n := range l.g.GetNode() {
		for _, in := range n.GetInput() {
			before[in] = true
		}
	}
	for _, n := range l.nodes {
		for _, in := range n.GetInput() {
			after[in] = true
		}
	}
	for _, o := range l.g.GetOutput() {
		after[o.GetName()] = true
	}
	var kept []*onnxpb.TensorProto
	for _, t := range l.g.GetInitializer() {
		if before[t.GetName()] && !after[t.GetName()] {
			continue
		}
		kept = append(kept, t)
	}
	l.g.Initializer = kept
	l.g.Node = l.nodes
}

func allOnes(v []int64) bool {
	for _, x := range v {
		if x != 1 {
			return false
		}
	}
	return true
}

// gather makes the indices of Gather and GatherElements non-negative (idx + size(data, axis)
// where idx < 0, as ONNX specifies; onnx-gomlx reads negative indices as out of range). Constant
// indices that are all non-negative are kept as they are.
func (l *lowerer) gather(n *onnxpb.NodeProto) {
	data, indices := n.GetInput()[0], n.GetInput()[1]
	if t, ok := l.consts[indices]; ok && t.I64 != nil && !slices.ContainsFunc(t.I64, func(v int64) bool { return v < 0 }) {
		l.keep(n)
		return
	}
	axis := attrInt(n, "axis", 0)
	if axis < 0 {
		ds := l.shapes.shapes[data]
		if !ds.known() {
			l.fail(n, "cannot infer the rank of data %q to resolve axis %d; add a value_info entry for it or use a non-negative axis", data, axis)
			return
		}
		axis += int64(len(ds))
	}
	if axis < 0 {
		l.fail(n, "axis %d is out of range for data %q", attrInt(n, "axis", 0), data)
		return
	}
	if t, ok := l.consts[indices]; ok && t.I64 != nil {
		// Constant indices along an axis of known size (often a Shape's output, read by
		// exporters' shape arithmetic): normalise them here rather than in the graph.
		if ds := l.shapes.shapes[data]; int(axis) < len(ds) && ds[axis].isFixed() {
			norm := make([]int64, len(t.I64))
			for i, v := range t.I64 {
				if v < 0 {
					v += ds[axis].v
				}
				norm[i] = v
			}
			c := proto.Clone(n).(*onnxpb.NodeProto)
			c.Input[1] = l.emit("Constant", nil, AttrTensor("value", tensor.I64s(norm, t.Shape...)))
			l.keep(c)
			return
		}
	}
	zero := l.intScalar(0)
	size := l.emit("Gather", []string{l.emit("Shape", []string{data}), l.intScalar(axis)}, AttrInt("axis", 0))
	idx := l.emit("Cast", []string{indices}, AttrInt("to", int64(onnxpb.TensorProto_INT64)))
	idx = l.emit("Where", []string{l.emit("Less", []string{idx, zero}), l.emit("Add", []string{idx, size}), idx})
	c := proto.Clone(n).(*onnxpb.NodeProto)
	c.Input[1] = idx
	l.keep(c)
}

// globalAveragePool lowers GlobalAveragePool to ReduceMean over the spatial axes with keepdims,
// giving ONNX's [N, C, 1, ...] (onnx-gomlx returns [N, C]).
func (l *lowerer) globalAveragePool(n *onnxpb.NodeProto) {
	x, y := n.GetInput()[0], n.GetOutput()[0]
	s := l.shapes.shapes[x]
	if !s.known() {
		l.fail(n, "cannot infer the rank of its input %q; add a value_info entry for it", x)
		return
	}
	if len(s) < 2 {
		l.fail(n, "input %q has rank %d; GlobalAveragePool needs [N, C, spatial...]", x, len(s))
		return
	}
	if len(s) == 2 { // no spatial axes: the mean over nothing
		l.alias[y] = x
		return
	}
	var axes []int64
	for a := 2; a < len(s); a++ {
		axes = append(axes, int64(a))
	}
	l.reduceMean(x, axes, true)
	l.nodes[len(l.nodes)-1].Output[0] = y
}

// slice rewrites Slice with negative steps (opset >= 10), which GoMLX's Slice cannot stride:
// the axes with positive steps stay a Slice, each axis with a negative step becomes a Gather of
// the constant indices start, start+step, ... (clamped as ONNX specifies). starts, ends, axes
// and steps must be constants, and the size of each reversed axis known.
func (l *lowerer) slice(n *onnxpb.NodeProto) {
	in := n.GetInput()
	if l.opset < 10 || len(in) < 5 || in[4] == "" {
		l.keep(n)
		return
	}
	steps, ok := l.consts[in[4]]
	if !ok || steps.I64 == nil || !slices.ContainsFunc(steps.I64, func(v int64) bool { return v < 0 }) {
		l.keep(n) // no negative step (or steps onnx-gomlx will have to materialize itself)
		return
	}
	x, y := in[0], n.GetOutput()[0]
	starts, ok1 := l.consts[in[1]]
	ends, ok2 := l.consts[in[2]]
	if !ok1 || !ok2 || starts.I64 == nil || ends.I64 == nil {
		l.notSupported(n, " with negative steps and starts/ends that are not int64 constants")
		return
	}
	s := l.shapes.shapes[x]
	if !s.known() {
		l.fail(n, "cannot infer the rank of data %q for its negative steps; add a value_info entry for it", x)
		return
	}
	rank := int64(len(s))
	var axes []int64
	if len(in) > 3 && in[3] != "" {
		a, ok := l.consts[in[3]]
		if !ok || a.I64 == nil {
			l.notSupported(n, " with negative steps and axes that are not an int64 constant")
			return
		}
		axes = a.I64
	} else {
		for a := int64(0); a < int64(len(starts.I64)); a++ {
			axes = append(axes, a)
		}
	}
	if len(starts.I64) != len(axes) || len(ends.I64) != len(axes) || len(steps.I64) != len(axes) {
		l.fail(n, "starts %v, ends %v, axes %v and steps %v differ in length", starts.I64, ends.I64, axes, steps.I64)
		return
	}
	var pos [4][]int64 // starts, ends, axes, steps of the positive-step axes
	type reversed struct {
		axis    int64
		indices []int64
	}
	var negs []reversed
	for i, a := range axes {
		if a < 0 {
			a += rank
		}
		if a < 0 || a >= rank {
			l.fail(n, "axis %d is out of range for data of rank %d", axes[i], rank)
			return
		}
		st := steps.I64[i]
		switch {
		case st == 0:
			l.fail(n, "step 0 for axis %d", axes[i])
			return
		case st > 0:
			pos[0], pos[1] = append(pos[0], starts.I64[i]), append(pos[1], ends.I64[i])
			pos[2], pos[3] = append(pos[2], a), append(pos[3], st)
			continue
		}
		d := s[a]
		if !d.isFixed() {
			l.notSupported(n, fmt.Sprintf(" with a negative step along axis %d, whose size is not known before run time", a))
			return
		}
		if d.v > 1<<24 {
			l.notSupported(n, fmt.Sprintf(" with a negative step along axis %d of size %d (more than 2^24 indices)", a, d.v))
			return
		}
		negs = append(negs, reversed{a, reverseIndices(starts.I64[i], ends.I64[i], st, d.v)})
	}
	cur := x
	if len(pos[2]) > 0 {
		cur = l.emit("Slice", []string{x, l.ints(pos[0]...), l.ints(pos[1]...), l.ints(pos[2]...), l.ints(pos[3]...)})
	}
	for _, r := range negs {
		if len(r.indices) == 0 {
			l.notSupported(n, fmt.Sprintf(" selecting nothing along axis %d (GoMLX has no empty tensors)", r.axis))
			return
		}
		cur = l.emit("Gather", []string{cur, l.ints(r.indices...)}, AttrInt("axis", r.axis))
	}
	l.nodes[len(l.nodes)-1].Output[0] = y
}

// reverseIndices lists the indices a Slice with negative step visits along an axis of size
// dim: start clamped to [0, dim-1] and end to [-1, dim-1] after negative values count from the
// end, as ONNX specifies.
func reverseIndices(start, end, step, dim int64) []int64 {
	if start < 0 {
		start += dim
	}
	if end < 0 {
		end += dim
	}
	start = max(0, min(start, dim-1))
	end = max(-1, min(end, dim-1))
	var idx []int64
	for i := start; i > end; i += step {
		idx = append(idx, i)
	}
	return idx
}

// clip lowers the Clip forms onnx-gomlx gets wrong: min/max attributes (opset < 11), which it
// ignores, and an omitted min (input ""), which it cannot read. The rest is kept.
func (l *lowerer) clip(n *onnxpb.NodeProto) {
	in := n.GetInput()
	x, y := in[0], n.GetOutput()[0]
	var lo, hi string
	if l.opset < 11 {
		if findAttr(n, "min") != nil {
			lo = l.scalar(attrFloat(n, "min", 0))
		}
		if findAttr(n, "max") != nil {
			hi = l.scalar(attrFloat(n, "max", 0))
		}
	} else {
		if len(in) > 1 {
			lo = in[1]
		}
		if len(in) > 2 {
			hi = in[2]
		}
		if !slices.Contains(in[1:], "") {
			l.keep(n) // Clip(x), Clip(x, min), Clip(x, min, max): onnx-gomlx reads them right
			return
		}
	}
	out := x
	if lo != "" {
		out = l.emit("Max", []string{out, lo})
	}
	if hi != "" {
		out = l.emit("Min", []string{out, hi})
	}
	if out == x {
		l.alias[y] = x
		return
	}
	l.nodes[len(l.nodes)-1].Output[0] = y
}

// cumSum lowers CumSum with exclusive=1 to the inclusive sum minus x: simplego builds the
// exclusive form with an empty piece along a size-1 axis and crashes on it.
func (l *lowerer) cumSum(n *onnxpb.NodeProto) {
	if attrInt(n, "exclusive", 0) == 0 {
		l.keep(n)
		return
	}
	x, y := n.GetInput()[0], n.GetOutput()[0]
	var attrs []*onnxpb.AttributeProto
	for _, a := range n.GetAttribute() {
		if a.GetName() != "exclusive" {
			attrs = append(attrs, a)
		}
	}
	sum := l.emit("CumSum", []string{x, n.GetInput()[1]}, attrs...)
	l.emitTo("Sub", []string{sum, x}, y)
}

// shapeOp clamps Shape's start and end to [0, rank] as ONNX specifies (onnx-gomlx slices
// without clamping, and reads end=0 as "to the end").
func (l *lowerer) shapeOp(n *onnxpb.NodeProto) {
	if findAttr(n, "start") == nil && findAttr(n, "end") == nil {
		l.keep(n)
		return
	}
	s := l.shapes.shapes[n.GetInput()[0]]
	if !s.known() {
		l.keep(n)
		return
	}
	r := int64(len(s))
	clamp := func(v int64) int64 {
		if v < 0 {
			v += r
		}
		return max(0, min(v, r))
	}
	start, end := clamp(attrInt(n, "start", 0)), clamp(attrInt(n, "end", r))
	if end <= start {
		start, end = r, r // empty; end = 0 would mean "to the end" to onnx-gomlx
	}
	var attrs []*onnxpb.AttributeProto
	for _, a := range n.GetAttribute() {
		if a.GetName() != "start" && a.GetName() != "end" {
			attrs = append(attrs, a)
		}
	}
	c := proto.Clone(n).(*onnxpb.NodeProto)
	c.Attribute = append(attrs, AttrInt("start", start), AttrInt("end", end))
	l.keep(c)
}

// lstm gives an LSTM without its optional bias input B the zero bias ONNX defines
// ([num_directions, 8*hidden_size]); onnx-gomlx fails without one.
func (l *lowerer) lstm(n *onnxpb.NodeProto) {
	if len(n.GetInput()) > 3 && n.GetInput()[3] != "" {
		l.keep(n)
		return
	}
	hidden := attrInt(n, "hidden_size", 0)
	if hidden <= 0 || hidden > 1<<16 {
		l.fail(n, "hidden_size %d is missing or invalid", hidden)
		return
	}
	dirs := int64(1)
	if attrString(n, "direction", "forward") == "bidirectional" {
		dirs = 2
	}
	b := l.emit("Constant", nil, AttrTensor("value", tensor.F32s(make([]float32, dirs*8*hidden), int(dirs), int(8*hidden))))
	c := proto.Clone(n).(*onnxpb.NodeProto)
	for len(c.Input) < 4 {
		c.Input = append(c.Input, "")
	}
	c.Input[3] = b
	l.keep(c)
}

// layerNorm rebuilds LayerNormalization from ReduceMean, Sub, Mul, Add, Sqrt and Div when its
// optional Mean or InvStdDev output is used (onnx-gomlx computes only Y); otherwise it is kept.
func (l *lowerer) layerNorm(n *onnxpb.NodeProto) {
	outs := n.GetOutput()
	if !slices.ContainsFunc(outs[1:], func(o string) bool { return o != "" && l.consumed(o) }) {
		l.keep(n)
		return
	}
	x, scale := n.GetInput()[0], n.GetInput()[1]
	s := l.shapes.shapes[x]
	if !s.known() {
		l.fail(n, "cannot infer the rank of its input %q to compute its Mean/InvStdDev outputs; add a value_info entry for it", x)
		return
	}
	axis := attrInt(n, "axis", -1)
	if axis < 0 {
		axis += int64(len(s))
	}
	if axis < 0 || axis >= int64(len(s)) {
		l.fail(n, "axis %d is out of range for input of rank %d", attrInt(n, "axis", -1), len(s))
		return
	}
	var axes []int64
	for a := axis; a < int64(len(s)); a++ {
		axes = append(axes, a)
	}
	mean := l.reduceMean(x, axes, true)
	d := l.emit("Sub", []string{x, mean})
	variance := l.reduceMean(l.emit("Mul", []string{d, d}), axes, true)
	std := l.emit("Sqrt", []string{l.emit("Add", []string{variance, l.scalar(attrFloat(n, "epsilon", 1e-5))})})
	inv := l.emit("Div", []string{l.scalar(1), std})
	y := l.emit("Mul", []string{l.emit("Mul", []string{d, inv}), scale})
	if len(n.GetInput()) > 2 && n.GetInput()[2] != "" {
		y = l.emit("Add", []string{y, n.GetInput()[2]})
	}
	for i, name := range []string{y, mean, inv} {
		if i < len(outs) && outs[i] != "" {
			l.alias[outs[i]] = name
		}
	}
}
