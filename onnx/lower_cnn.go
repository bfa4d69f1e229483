package onnx

import (
	"fmt"
	"math"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
	"google.golang.org/protobuf/proto"
)

// BatchNormMode says which statistics ForImport's BatchNormalization normalises with.
type BatchNormMode int

const (
	// BatchNormAsIs follows each node's training_mode, as ONNX specifies: training_mode=1 nodes
	// normalise with batch statistics and write ONNX's running-statistic outputs (biased batch
	// variance, as ONNX's reference implementation); the others use their running statistics.
	BatchNormAsIs BatchNormMode = iota
	// BatchNormInference normalises every node with its running statistics (evaluation), whatever
	// its training_mode; running-statistic outputs must then be unused.
	BatchNormInference
	// BatchNormTrain normalises every node with the statistics of the batch (biased variance, as
	// PyTorch's train mode) and computes, for each node, the updated running statistics with
	// PyTorch's rule (see BatchNormSite); the trainer assigns them after each step.
	BatchNormTrain
)

// BatchNormSite is one BatchNormalization lowered in BatchNormTrain mode: after a step, the
// running statistics Mean and Var (initializer names) take the values of the lowered graph's
// tensors NewMean and NewVar:
//
//	new = (1 - m) * running + m * batch, m = 1 - momentum (ONNX's attribute, default 0.9)
//
// with the unbiased batch variance for Var, which is what torch.nn.BatchNorm does (PyTorch's
// momentum 0.1 is ONNX's 0.9).
type BatchNormSite struct {
	Node            string
	Mean, Var       string
	NewMean, NewVar string
}

// Lowered is ForImport's result with everything a trainer needs besides the graph.
type Lowered struct {
	Model     *onnxpb.ModelProto
	Dropout   []DropoutSite
	BatchNorm []BatchNormSite
}

func init() {
	minInputs["BatchNormalization"] = 5
	minInputs["GlobalMaxPool"] = 1
	for _, op := range []string{"BatchNormalization", "MaxPool", "AveragePool"} {
		rewritten[op] = true
	}
}

// batchNorm lowers BatchNormalization according to ImportOptions.BatchNorm.
func (l *lowerer) batchNorm(n *onnxpb.NodeProto) {
	if l.opset < 9 && attrInt(n, "spatial", 1) != 1 {
		l.notSupported(n, " with spatial=0 (opset < 9 per-activation statistics)")
		return
	}
	training := attrInt(n, "training_mode", 0) != 0
	switch l.opt.BatchNorm {
	case BatchNormInference:
		training = false
	case BatchNormTrain:
		training = true
	}
	if !training {
		for i, o := range n.GetOutput()[1:] {
			if o != "" && l.consumed(o) {
				l.notSupported(n, fmt.Sprintf(" in inference form with its output %d (%q) used", i+1, o))
				return
			}
		}
		// onnx-gomlx computes the inference form but rejects training_mode=1 and any momentum
		// other than 0.9, although neither changes inference: drop both, and the unused outputs.
		var attrs []*onnxpb.AttributeProto
		for _, a := range n.GetAttribute() {
			if a.GetName() != "training_mode" && a.GetName() != "momentum" {
				attrs = append(attrs, a)
			}
		}
		n.Attribute = attrs
		n.Output = n.Output[:1]
		l.keep(n)
		return
	}
	l.batchNormTrain(n)
}

// FusedDomain and FusedBatchNormOp name the node ImportOptions.FusedBatchNorm puts in place of a
// training-mode BatchNormalization: inputs X, scale, B (as ONNX's); outputs Y, the batch mean
// and the biased batch variance ([C]); attribute epsilon. It normalises over every axis but 1.
const (
	FusedDomain      = "ai.fob"
	FusedBatchNormOp = "BatchNormalizationTraining"
)

// batchNormTrain builds training-mode batch normalisation from ReduceMean/Sub/Mul/Sqrt/Div (or
// one fused node), over every axis but 1 of an [N, C, ...] input (rank 2 and up), and the
// running-statistic updates.
func (l *lowerer) batchNormTrain(n *onnxpb.NodeProto) {
	in := n.GetInput()
	x, scale, bias, mean, variance := in[0], in[1], in[2], in[3], in[4]
	xs := l.shapes.shapes[x]
	if !xs.known() {
		l.fail(n, "cannot infer the rank of its input %q; add a value_info entry for it", x)
		return
	}
	rank := len(xs)
	if rank < 2 {
		l.fail(n, "input %q has rank %d; BatchNormalization needs [N, C, ...]", x, rank)
		return
	}
	eps := attrFloat(n, "epsilon", 1e-5)
	momentum := attrFloat(n, "momentum", 0.9)
	axes := []int64{0}
	for a := 2; a < rank; a++ {
		axes = append(axes, int64(a))
	}
	perChannel := ones(rank) // [1, C, 1, ...]
	perChannel[1] = -1
	cshape := l.ints(perChannel...)

	var meanC, varC string // batch mean and biased variance, [C]
	if l.opt.FusedBatchNorm {
		meanC, varC = l.fresh("batch_mean"), l.fresh("batch_var")
		l.nodes = append(l.nodes, &onnxpb.NodeProto{Name: proto.String(l.fresh("batchnorm")),
			OpType: proto.String(FusedBatchNormOp), Domain: proto.String(FusedDomain),
			Input: []string{x, scale, bias}, Output: []string{n.GetOutput()[0], meanC, varC},
			Attribute: []*onnxpb.AttributeProto{AttrFloat("epsilon", float32(eps))}})
	} else {
		bmean := l.reduceMean(x, axes, true)
		d := l.emit("Sub", []string{x, bmean})
		bvar := l.reduceMean(l.emit("Mul", []string{d, d}), axes, true)
		g := l.emit("Div", []string{l.emit("Reshape", []string{scale, cshape}), l.emit("Sqrt", []string{l.emit("Add", []string{bvar, l.scalar(eps)})})})
		l.emitTo("Add", []string{l.emit("Mul", []string{d, g}), l.emit("Reshape", []string{bias, cshape})}, n.GetOutput()[0])
		flat := l.ints(-1)
		meanC = l.emit("Reshape", []string{bmean, flat})
		varC = l.emit("Reshape", []string{bvar, flat})
	}
	update := func(running, batch string) string {
		return l.emit("Add", []string{l.emit("Mul", []string{running, l.scalar(momentum)}), l.emit("Mul", []string{batch, l.scalar(1 - momentum)})})
	}
	// ONNX's own running-statistic outputs (training_mode=1 files): biased variance.
	outs := n.GetOutput()
	if len(outs) > 1 && outs[1] != "" {
		update(mean, meanC)
		l.nodes[len(l.nodes)-1].Output[0] = outs[1]
	}
	if len(outs) > 2 && outs[2] != "" {
		update(variance, varC)
		l.nodes[len(l.nodes)-1].Output[0] = outs[2]
	}
	if l.opt.BatchNorm != BatchNormTrain {
		return
	}
	// The trainer's update: PyTorch's rule, unbiased variance var * k/(k-1), k = elements per channel.
	k := l.dimCount(x, 0)
	for _, a := range axes[1:] {
		k = l.emit("Mul", []string{k, l.dimCount(x, a)})
	}
	unbiased := l.emit("Mul", []string{varC, l.emit("Div", []string{k, l.emit("Sub", []string{k, l.scalar(1)})})})
	l.bnSites = append(l.bnSites, BatchNormSite{Node: nodeLabel(n), Mean: mean, Var: variance,
		NewMean: update(mean, meanC), NewVar: update(variance, unbiased)})
}

// pool lowers MaxPool and AveragePool (float inputs with known spatial sizes) to a padded
// input, one strided Slice per kernel tap and a Max or Add chain: every piece has a gradient on
// the pure-Go backend (simplego has no SelectAndScatterMax for ReduceWindow's), dilations and
// ceil_mode come for free, and count_include_pad both ways is a constant divisor. Max gradients
// go to the first maximal tap in row-major window order, as PyTorch routes ties. Other cases keep
// onnx-gomlx's ReduceWindow (inference only) after convPool's attribute fixes.
func (l *lowerer) pool(n *onnxpb.NodeProto) {
	op := n.GetOpType()
	x := n.GetInput()[0]
	xs := l.shapes.shapes[x]
	kernel := attrInts(n, "kernel_shape", nil)
	if !xs.known() || len(xs) < 3 || len(kernel) != len(xs)-2 || !l.floatInput(x) {
		l.convPool(n)
		return
	}
	sp := len(kernel)
	for _, d := range xs[2:] {
		if !d.isFixed() {
			l.convPool(n)
			return
		}
	}
	if op == "MaxPool" && !l.maxPoolOutputsSupported(n) {
		return
	}
	strides := attrInts(n, "strides", ones(sp))
	dil := attrInts(n, "dilations", ones(sp))
	pads := attrInts(n, "pads", make([]int64, 2*sp))
	if len(strides) != sp || len(pads) != 2*sp || len(dil) != sp {
		l.fail(n, "kernel_shape %v, strides %v, pads %v, dilations %v disagree on the number of spatial axes", kernel, strides, pads, dil)
		return
	}
	if op == "AveragePool" && findAttr(n, "dilations") != nil && !allOnes(dil) && l.opset < 19 {
		l.notSupported(n, fmt.Sprintf(" with dilations=%v (AveragePool has dilations from opset 19)", dil))
		return
	}
	ceil := attrInt(n, "ceil_mode", 0) != 0
	size := make([]int64, sp)
	for i := range sp {
		size[i] = xs[2+i].v
	}
	switch auto := attrString(n, "auto_pad", "NOTSET"); auto {
	case "NOTSET", "":
	case "VALID":
		pads = make([]int64, 2*sp)
	case "SAME_UPPER", "SAME_LOWER":
		// Output ceil(in / stride); the total padding split with the odd one at the end (UPPER) or start.
		for i := range sp {
			out := (size[i] + strides[i] - 1) / strides[i]
			total := max(0, (out-1)*strides[i]+dil[i]*(kernel[i]-1)+1-size[i])
			small := total / 2
			if auto == "SAME_UPPER" {
				pads[i], pads[i+sp] = small, total-small
			} else {
				pads[i], pads[i+sp] = total-small, small
			}
		}
	default:
		l.fail(n, "auto_pad=%q is not an ONNX padding mode", auto)
		return
	}
	for i := range sp {
		if kernel[i] < 1 || strides[i] < 1 || dil[i] < 1 || pads[i] < 0 || pads[i+sp] < 0 {
			l.fail(n, "kernel_shape %v, strides %v, dilations %v must be positive and pads %v non-negative", kernel, strides, dil, pads)
			return
		}
	}
	// Output sizes, and how much extra end padding ceil_mode needs.
	outSize, extra := make([]int64, sp), make([]int64, sp)
	for i := range sp {
		eff := dil[i]*(kernel[i]-1) + 1
		span := size[i] + pads[i] + pads[i+sp] - eff
		if span < 0 {
			l.fail(n, "kernel %v (dilations %v) is larger than the padded input %v", kernel, dil, size)
			return
		}
		o := span/strides[i] + 1
		if ceil {
			o = (span+strides[i]-1)/strides[i] + 1
			// The last window must start inside the input or the start padding (as PyTorch and ONNX).
			if (o-1)*strides[i] >= size[i]+pads[i] {
				o--
			}
		}
		outSize[i] = o
		extra[i] = max(0, (o-1)*strides[i]+eff-(size[i]+pads[i]+pads[i+sp]))
	}
	fill := float32(0)
	if op == "MaxPool" {
		fill = -math.MaxFloat32 // finite: Max's gradient compares by subtraction, -inf - -inf is NaN
	}
	padVec := make([]int64, 2*(sp+2))
	padded := x
	for i := range sp {
		padVec[2+i] = pads[i]
		padVec[sp+2+2+i] = pads[i+sp] + extra[i]
	}
	if !allZero(padVec) {
		padded = l.emit("Pad", []string{x, l.ints(padVec...), l.scalar(fill)})
	}
	axes := make([]int64, sp)
	for i := range axes {
		axes[i] = int64(2 + i)
	}
	var acc string
	tap := make([]int64, sp)
	for {
		starts, ends := make([]int64, sp), make([]int64, sp)
		for i := range sp {
			starts[i] = tap[i] * dil[i]
			ends[i] = starts[i] + (outSize[i]-1)*strides[i] + 1
		}
		s := l.emit("Slice", []string{padded, l.ints(starts...), l.ints(ends...), l.ints(axes...), l.ints(strides...)})
		switch {
		case acc == "":
			acc = s
		case op == "MaxPool":
			acc = l.emit("Max", []string{acc, s})
		default:
			acc = l.emit("Add", []string{acc, s})
		}
		if !nextIndex(tap, kernel) {
			break
		}
	}
	y := n.GetOutput()[0]
	if op == "MaxPool" {
		l.nodes[len(l.nodes)-1].Output[0] = y // the last node emitted computes acc
		return
	}
	div := l.poolDivisor(n, size, kernel, strides, dil, pads, outSize)
	l.emitTo("Mul", []string{acc, div}, y)
}

// globalMaxPool lowers GlobalMaxPool as a MaxPool whose window is the whole (known) spatial extent.
func (l *lowerer) globalMaxPool(n *onnxpb.NodeProto) {
	x := n.GetInput()[0]
	xs := l.shapes.shapes[x]
	if !xs.known() || len(xs) < 3 {
		l.notSupported(n, fmt.Sprintf(" on input %q of unknown rank or without spatial axes", x))
		return
	}
	var kernel []int64
	for _, d := range xs[2:] {
		if !d.isFixed() {
			l.notSupported(n, fmt.Sprintf(" on input %q with dynamic spatial sizes", x))
			return
		}
		kernel = append(kernel, d.v)
	}
	if !l.floatInput(x) {
		l.notSupported(n, fmt.Sprintf(" on non-float32 input %q", x))
		return
	}
	l.pool(&onnxpb.NodeProto{Name: n.Name, OpType: proto.String("MaxPool"), Input: n.Input[:1], Output: n.Output[:1],
		Attribute: []*onnxpb.AttributeProto{AttrInts("kernel_shape", kernel)}})
}

// maxPoolOutputsSupported reports (and records as unsupported) MaxPool's Indices forms.
func (l *lowerer) maxPoolOutputsSupported(n *onnxpb.NodeProto) bool {
	if attrInt(n, "storage_order", 0) != 0 {
		l.notSupported(n, " with storage_order=1")
		return false
	}
	if len(n.GetOutput()) > 1 && n.GetOutput()[1] != "" && l.consumed(n.GetOutput()[1]) {
		l.notSupported(n, " with its Indices output used")
		return false
	}
	return true
}

// poolDivisor returns the [1, 1, out...] reciprocal counts AveragePool divides the window sums
// by: with count_include_pad=1 the window's taps inside the explicitly padded input (PyTorch's
// rule: ceil_mode's extra end padding does not count), otherwise the taps inside the input.
func (l *lowerer) poolDivisor(n *onnxpb.NodeProto, size, kernel, strides, dil, pads, outSize []int64) string {
	sp := len(size)
	include := attrInt(n, "count_include_pad", 0) != 0
	total := int64(1)
	for _, o := range outSize {
		total *= o
	}
	recip := make([]float32, total)
	idx := make([]int64, sp)
	for k := range recip {
		count := int64(1)
		for i := range sp {
			lo, hi := int64(0), size[i] // valid coordinates in the unpadded input
			if include {
				lo, hi = -pads[i], size[i]+pads[i+sp]
			}
			c := int64(0)
			for t := range kernel[i] {
				p := idx[i]*strides[i] + t*dil[i] - pads[i]
				if p >= lo && p < hi {
					c++
				}
			}
			count *= c
		}
		recip[k] = 1 / float32(max(count, 1))
		nextIndex(idx, outSize)
	}
	dims := []int{1, 1}
	for _, o := range outSize {
		dims = append(dims, int(o))
	}
	return l.emit("Constant", nil, AttrTensor("value", tensor.F32s(recip, dims...)))
}

// floatInput reports whether x may be float32: graph inputs and initializers that declare
// another element type are not (pooling them keeps onnx-gomlx's generic path).
func (l *lowerer) floatInput(x string) bool {
	for _, vi := range l.g.GetInput() {
		if vi.GetName() == x {
			et := vi.GetType().GetTensorType().GetElemType()
			return et == 0 || et == int32(onnxpb.TensorProto_FLOAT)
		}
	}
	for _, t := range l.g.GetInitializer() {
		if t.GetName() == x {
			return t.GetDataType() == int32(onnxpb.TensorProto_FLOAT)
		}
	}
	for _, vi := range l.g.GetValueInfo() {
		if vi.GetName() == x {
			et := vi.GetType().GetTensorType().GetElemType()
			return et == 0 || et == int32(onnxpb.TensorProto_FLOAT)
		}
	}
	return true
}

// nextIndex advances the row-major multi-index idx within dims; false (idx back to all zeros)
// after the last one.
func nextIndex(idx, dims []int64) bool {
	for i := len(idx) - 1; i >= 0; i-- {
		if idx[i]++; idx[i] < dims[i] {
			return true
		}
		idx[i] = 0
	}
	return false
}

func allZero(v []int64) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// BatchNormInferenceForm rewrites m in place so that every BatchNormalization normalises with
// its running statistics (training_mode removed, the running-statistic outputs dropped), which
// is the form trained models are exported in. Nodes whose extra outputs the graph reads are an
// error: they cannot change form without changing the graph's meaning.
func BatchNormInferenceForm(m *onnxpb.ModelProto) error {
	read := map[string]bool{}
	for _, n := range m.GetGraph().GetNode() {
		for _, in := range n.GetInput() {
			read[in] = true
		}
	}
	for _, o := range m.GetGraph().GetOutput() {
		read[o.GetName()] = true
	}
	for _, n := range m.GetGraph().GetNode() {
		if n.GetOpType() != "BatchNormalization" || (n.GetDomain() != "" && n.GetDomain() != "ai.onnx") || attrInt(n, "training_mode", 0) == 0 {
			continue
		}
		for _, o := range n.GetOutput()[1:] {
			if o != "" && read[o] {
				return fmt.Errorf("onnx: BatchNormalization node %q: its output %q is read, so it cannot be exported in inference form", nodeLabel(n), o)
			}
		}
		var attrs []*onnxpb.AttributeProto
		for _, a := range n.GetAttribute() {
			if a.GetName() != "training_mode" {
				attrs = append(attrs, a)
			}
		}
		n.Attribute = attrs
		n.Output = n.Output[:1]
	}
	return nil
}
