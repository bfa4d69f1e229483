package runtime

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// convParams are a ConvGeneral node's parameters (unexported in GoMLX).
type convParams struct {
	axes                            backends.ConvolveAxesConfig
	strides, inputDil, kernelDil    []int
	paddings                        [][2]int
	channelGroups, batchGroups, dim int
}

// readConvParams reads them from the node (nodeParams).
func readConvParams(node *graph.Node) (p convParams, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("reading ConvGeneral parameters: %v", r)
		}
	}()
	params, err := nodeParams(node, "ConvGeneral")
	if err != nil {
		return p, err
	}
	p.axes = paramField[backends.ConvolveAxesConfig](params, "axes")
	p.strides = paramField[[]int](params, "strides")
	p.paddings = paramField[[][2]int](params, "paddings")
	p.inputDil = paramField[[]int](params, "inputDilations")
	p.kernelDil = paramField[[]int](params, "kernelDilations")
	p.channelGroups = paramField[int](params, "channelGroupCount")
	p.batchGroups = paramField[int](params, "batchGroupCount")
	p.dim = len(p.axes.InputSpatial)
	return p, nil
}

// convVJP replaces GoMLX's ConvGeneral gradient, which gets asymmetric and even-kernel paddings
// wrong (the input gradient of a 2x3 kernel with pads (0,1,2,0) and strides (2,1) differs from
// PyTorch's) and panics on some 3-D cases, and which splits grouped convolutions into one
// convolution per group. With x [N, C, S...], w [M, C/G, K...], v = dL/dy [N, M, O...] (any
// axis layout; brought to this one and back), strides s, kernel dilations d, pads (lo, hi):
//
//   - dL/dx is a convolution of v, dilated by s, with the spatially reversed kernel whose
//     channel roles are swapped within each group, padded so that output position i reads
//     v[o] where o*s + t*d = i + lo;
//   - dL/dw is a convolution of x, batch and channel roles swapped, with v as the kernel
//     (strides and kernel dilations trade places); for grouped convolutions, one DotGeneral
//     with the groups as a batch axis (groupedKernelGrad).
//
// Nodes with input dilations or batch groups (gradients of gradients) keep GoMLX's gradient.
func convVJP(node *graph.Node, v []*graph.Node, outputShape shapes.Shape) []*graph.Node {
	p, err := readConvParams(node)
	if err != nil || p.batchGroups > 1 || !allOne(p.inputDil) {
		return stockVJPs[graph.NodeTypeConvGeneral](node, v, outputShape)
	}
	x, w := node.Inputs()[0], node.Inputs()[1]
	k := p.dim
	ones := slices.Repeat([]int{1}, k)
	strides, kdil := orOnes(p.strides, k), orOnes(p.kernelDil, k)
	pads := orZeroPads(p.paddings, k)
	g := max(p.channelGroups, 1)
	ax := p.axes
	inPerm := append([]int{ax.InputBatch, ax.InputChannels}, ax.InputSpatial...)
	kPerm := append([]int{ax.KernelOutputChannels, ax.KernelInputChannels}, ax.KernelSpatial...)
	outPerm := append([]int{ax.OutputBatch, ax.OutputChannels}, ax.OutputSpatial...)
	xc, wc, vc := permute(x, inPerm), permute(w, kPerm), permute(v[0], outPerm)

	c := xc.Shape().Dimensions[1]
	m, cg := wc.Shape().Dimensions[0], wc.Shape().Dimensions[1]
	mg := m / g
	xDims, kDims, oDims := xc.Shape().Dimensions[2:], wc.Shape().Dimensions[2:], vc.Shape().Dimensions[2:]
	spatial := seq(2, k)
	canon := backends.ConvolveAxesConfig{InputBatch: 0, InputChannels: 1, InputSpatial: spatial,
		KernelOutputChannels: 0, KernelInputChannels: 1, KernelSpatial: spatial,
		OutputBatch: 0, OutputChannels: 1, OutputSpatial: spatial}

	// dL/dx.
	wt := wc // [M, Cg, K] -> [C, Mg, K]: transposed within each group
	dxAxes := canon
	if g == 1 {
		// No transpose: the convolution reads the kernel's channel axes the other way round.
		dxAxes.KernelOutputChannels, dxAxes.KernelInputChannels = 1, 0
	} else {
		wt = graph.Reshape(wc, slices.Concat([]int{g, mg, cg}, kDims)...)
		wt = graph.TransposeAllAxes(wt, append([]int{0, 2, 1}, seq(3, k)...)...)
		wt = graph.Reshape(wt, slices.Concat([]int{c, mg}, kDims)...)
	}
	wtForward := wt // before reversal, for stridedInputGrad
	wt = graph.Reverse(wt, spatial...)
	dxPads := make([][2]int, k)
	for i := range k {
		eff := (kDims[i]-1)*kdil[i] + 1
		dilated := (oDims[i]-1)*strides[i] + 1
		dxPads[i][0] = eff - 1 - pads[i][0]
		dxPads[i][1] = xDims[i] + eff - 1 - dilated - dxPads[i][0]
	}
	var dx *graph.Node
	if !allOne(strides) && allOne(kdil) {
		dx = stridedInputGrad(vc, wtForward, dxAxes, strides, pads, xDims, kDims, oDims, g)
	} else {
		dx = graph.ConvGeneral(vc, wt, dxAxes, ones, dxPads, strides, kdil, g, 1)
	}

	// dL/dw.
	// The input padding that makes the kernel gradient exactly K: the forward start padding,
	// and the end padding that the last tap's last output position reaches.
	dwPads := make([][2]int, k)
	for i := range k {
		dwPads[i] = [2]int{pads[i][0], (kDims[i]-1)*kdil[i] + (oDims[i]-1)*strides[i] + 1 - xDims[i] - pads[i][0]}
	}
	var dw *graph.Node
	if g == 1 {
		// A convolution of x (batch and channel roles swapped) with v as the kernel: strides and
		// kernel dilations trade places.
		swapped := backends.ConvolveAxesConfig{InputBatch: 1, InputChannels: 0, InputSpatial: spatial,
			KernelOutputChannels: 1, KernelInputChannels: 0, KernelSpatial: spatial,
			OutputBatch: 1, OutputChannels: 0, OutputSpatial: spatial}
		dw = graph.ConvGeneral(xc, vc, swapped, kdil, dwPads, nil, strides, 1, 1)
	} else {
		dw = groupedKernelGrad(xc, vc, g, kDims, oDims, strides, kdil, dwPads)
	}
	return []*graph.Node{unpermute(dx, inPerm), unpermute(dw, kPerm)}
}

// permute returns x with axis i taken from axis perm[i] (x itself for the identity).
func permute(x *graph.Node, perm []int) *graph.Node {
	for i, p := range perm {
		if i != p {
			return graph.TransposeAllAxes(x, perm...)
		}
	}
	return x
}

// unpermute undoes permute(·, perm).
func unpermute(x *graph.Node, perm []int) *graph.Node {
	inv := make([]int, len(perm))
	for i, p := range perm {
		inv[p] = i
	}
	return permute(x, inv)
}

// orOnes is v, or n ones when empty (XLA's reading of empty strides and dilations).
func orOnes(v []int, n int) []int {
	if len(v) == 0 {
		return slices.Repeat([]int{1}, n)
	}
	return v
}

// orZeroPads is pads, or n zero paddings when empty (XLA's reading of empty paddings).
func orZeroPads(pads [][2]int, n int) [][2]int {
	if len(pads) == 0 {
		return make([][2]int, n)
	}
	return pads
}

func allOne(v []int) bool {
	for _, x := range v {
		if x != 1 {
			return false
		}
	}
	return true
}

// groupedKernelGrad is dL/dw of a grouped convolution (canonical layouts): the padded input cut
// into one strided slice per kernel tap, contracted with v over batch and output positions, the
// groups a DotGeneral batch axis (one product, where GoMLX runs one convolution per group).
// pads are convVJP's dwPads.
func groupedKernelGrad(xc, vc *graph.Node, g int, kDims, oDims, strides, kdil []int, pads [][2]int) *graph.Node {
	k := len(kDims)
	n, c := xc.Shape().Dimensions[0], xc.Shape().Dimensions[1]
	m := vc.Shape().Dimensions[1]
	cg, mg := c/g, m/g
	padCfg := make([]backends.PadAxis, 2+k)
	for i := range k {
		padCfg[2+i] = backends.PadAxis{Start: pads[i][0], End: pads[i][1]}
	}
	xp := xc
	if slices.ContainsFunc(padCfg, func(a backends.PadAxis) bool { return a != backends.PadAxis{} }) {
		xp = graph.Pad(xc, graph.ScalarZero(xc.Graph(), xc.DType()), padCfg...)
	}
	var taps []*graph.Node
	idx := make([]int, k)
	for {
		spec := []graph.SliceAxisSpec{graph.AxisRange(), graph.AxisRange()}
		for i := range k {
			start := idx[i] * kdil[i]
			spec = append(spec, graph.AxisRange(start, start+(oDims[i]-1)*strides[i]+1).Stride(strides[i]))
		}
		taps = append(taps, graph.InsertAxes(graph.Slice(xp, spec...), 0))
		if !next(idx, kDims) {
			break
		}
	}
	patches := taps[0]
	if len(taps) > 1 {
		patches = graph.Concatenate(taps, 0) // [T, N, C, O...]
	}
	t := len(taps)
	// patches [T, N, G, Cg, O...] and v [N, G, Mg, O...]: contract N and O, batch G.
	patches = graph.Reshape(patches, slices.Concat([]int{t, n, g, cg}, oDims)...)
	vg := graph.Reshape(vc, slices.Concat([]int{n, g, mg}, oDims)...)
	dw := graph.DotGeneral(vg, append([]int{0}, seq(3, k)...), []int{1},
		patches, append([]int{1}, seq(4, k)...), []int{2}) // [G, Mg, T, Cg]
	dw = graph.TransposeAllAxes(dw, 0, 1, 3, 2)
	return graph.Reshape(dw, slices.Concat([]int{m, cg}, kDims)...)
}

// stridedInputGrad is dL/dx of a strided convolution (kernel dilation 1) without the zeros a
// dilated v would put into the product: output position i = φ + s·j (phase φ per axis) only
// receives the taps t ≡ φ + lo (mod s), so each phase is a stride-1 convolution of v with that
// sub-kernel (reversed), and the phases are interleaved. wt is the kernel, not reversed, read
// with the channel roles swapped by axes ([C, Mg, K...] in its terms).
func stridedInputGrad(vc, wt *graph.Node, axes backends.ConvolveAxesConfig, strides []int, pads [][2]int,
	xDims, kDims, oDims []int, g int) *graph.Node {
	k := len(strides)
	n, c := vc.Shape().Dimensions[0], wt.Shape().Dimensions[axes.KernelOutputChannels]
	jMax := make([]int, k)
	for i := range k {
		jMax[i] = (xDims[i] + strides[i] - 1) / strides[i]
	}
	ones := slices.Repeat([]int{1}, k)
	phase := func(ph []int) *graph.Node {
		spec := []graph.SliceAxisSpec{graph.AxisRange(), graph.AxisRange()}
		cPads := make([][2]int, k)
		for i := range k {
			s, lo := strides[i], pads[i][0]
			t0 := ((ph[i]+lo)%s + s) % s
			if t0 >= kDims[i] {
				return nil // no tap reaches this phase: its gradient is 0
			}
			q := (kDims[i]-1-t0)/s + 1
			spec = append(spec, graph.AxisRange(t0, t0+(q-1)*s+1).Stride(s))
			a := (t0 - ph[i] - lo) / s // exact: t0 ≡ φ + lo (mod s)
			b := -a - (q - 1)
			cPads[i] = [2]int{-b, jMax[i] - oDims[i] + b + q - 1}
		}
		sub := graph.Reverse(graph.Slice(wt, spec...), seq(2, k)...)
		return graph.ConvGeneral(vc, sub, axes, ones, cPads, nil, nil, g, 1)
	}
	// Phases nest as [N, C, J1, s1, J2, s2, ...], then fold to [N, C, J1·s1, ...] and trim.
	var build func(axis int, ph []int) *graph.Node
	build = func(axis int, ph []int) *graph.Node {
		if axis == k {
			dims := []int{n, c}
			for i := range k {
				dims = append(dims, jMax[i], 1)
			}
			p := phase(ph)
			if p == nil {
				return graph.Zeros(vc.Graph(), shapes.Make(vc.DType(), dims...))
			}
			return graph.Reshape(p, dims...)
		}
		parts := make([]*graph.Node, strides[axis])
		for f := range parts {
			parts[f] = build(axis+1, append(slices.Clone(ph), f))
		}
		if len(parts) == 1 {
			return parts[0]
		}
		return graph.Concatenate(parts, 2+2*axis+1)
	}
	dx := build(0, nil)
	folded := []int{n, c}
	for i := range k {
		folded = append(folded, jMax[i]*strides[i])
	}
	dx = graph.Reshape(dx, folded...)
	spec := []graph.SliceAxisSpec{graph.AxisRange(), graph.AxisRange()}
	trim := false
	for i := range k {
		spec = append(spec, graph.AxisRange(0, xDims[i]))
		trim = trim || folded[2+i] != xDims[i]
	}
	if trim {
		dx = graph.Slice(dx, spec...)
	}
	return dx
}
