package runtime

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/shapeinference"
	"github.com/gomlx/gomlx/pkg/core/dtypes"

	"github.com/fob-go/fob/runtime/gemm"
)

// Convolution options of a "go:" backend spec, for tests and benchmarks that compare the paths:
// by default float32 convolutions are simplego ConvGeneral nodes executed by fob's block-kernel
// convolution (runtime/gemm InstallConv), other dtypes are rewritten into one matrix product.
const (
	// NativeConvOption leaves every ConvGeneral to simplego (which runs fob's block kernel for
	// float32 unless gemm.SetConvEnabled(false), else its plain loop, 20-100x slower).
	NativeConvOption = "conv=native"
	// ComposeConvOption rewrites every ConvGeneral into pad + strided slices + one DotGeneral.
	ComposeConvOption = "conv=compose"
)

// convMode says how goBuilder builds ConvGeneral.
type convMode int

const (
	convDefault convMode = iota
	convNative
	convCompose
)

// splitGoConfig removes fob's own options from a simplego configuration string.
func splitGoConfig(config string) (simplegoConfig string, mode convMode) {
	var rest []string
	for _, part := range strings.Split(config, ",") {
		switch strings.TrimSpace(part) {
		case NativeConvOption:
			mode = convNative
		case ComposeConvOption:
			mode = convCompose
		case "":
		default:
			rest = append(rest, part)
		}
	}
	return strings.Join(rest, ","), mode
}

// convGeneral builds ConvGeneral. float32 convolutions stay simplego nodes, which fob's block
// kernel executes (gemm.InstallConv: patches gathered straight into blocks). Otherwise (float64,
// no AVX2, or ComposeConvOption) it is rewritten into one matrix product (im2col): the input is brought to
// [batch, channels, spatial...], zero-padded (with interior padding for input dilation, as
// GoMLX's input gradients of strided convolutions ask), then cut into strided slices that are
// stacked along new leading axes and contracted with the kernel by a single DotGeneral, which
// runs on fob's AVX2 kernel (runtime/gemm). The slices are taken either per kernel tap (each
// slice spans every output position) or per output position (each spans the kernel window),
// whichever needs fewer: both copy the same amount, but a kernel gradient has a "kernel" as
// large as the image and few output positions. Channel groups become a DotGeneral batch axis.
// Batch groups (never emitted by ONNX Conv or by GoMLX's gradients of it) and dtypes other than
// float32/float64 keep simplego's kernel.
func (b *goBuilder) convGeneral(input, kernel backends.Op, axes backends.ConvolveAxesConfig, strides []int, paddings [][2]int,
	inputDilations, kernelDilations []int, groups, batchGroups int) (backends.Op, error) {
	inShape, err := b.OpShape(input)
	if err != nil {
		return nil, err
	}
	kShape, err := b.OpShape(kernel)
	if err != nil {
		return nil, err
	}
	outShape, err := shapeinference.ConvGeneralOp(inShape, kShape, axes, strides, paddings, inputDilations, kernelDilations, groups, batchGroups)
	if err != nil {
		return nil, fmt.Errorf("ConvGeneral: %w", err)
	}
	kernelRuns := inShape.DType == dtypes.Float32 && gemm.ConvActive()
	if b.conv == convNative || batchGroups > 1 || (b.conv == convDefault && kernelRuns) ||
		(inShape.DType != dtypes.Float32 && inShape.DType != dtypes.Float64) {
		return b.Builder.ConvGeneral(input, kernel, axes, strides, paddings, inputDilations, kernelDilations, groups, batchGroups)
	}
	k := len(axes.InputSpatial)

	// Canonical layouts: x [N, C, S...], w [M, Cg, K...].
	x, err := b.transposeTo(input, append([]int{axes.InputBatch, axes.InputChannels}, axes.InputSpatial...))
	if err != nil {
		return nil, err
	}
	w, err := b.transposeTo(kernel, append([]int{axes.KernelOutputChannels, axes.KernelInputChannels}, axes.KernelSpatial...))
	if err != nil {
		return nil, err
	}
	pad := make([]backends.PadAxis, 2+k)
	padded := false
	for i := range k {
		pad[2+i] = backends.PadAxis{Start: paddings[i][0], End: paddings[i][1], Interior: inputDilations[i] - 1}
		padded = padded || pad[2+i] != backends.PadAxis{}
	}
	if padded {
		zero, err := b.zero(inShape.DType)
		if err != nil {
			return nil, err
		}
		if x, err = b.Pad(x, zero, pad...); err != nil {
			return nil, err
		}
	}
	xs, err := b.OpShape(x)
	if err != nil {
		return nil, err
	}
	ws, err := b.OpShape(w)
	if err != nil {
		return nil, err
	}
	n, c := xs.Dimensions[0], xs.Dimensions[1]
	m, cg := ws.Dimensions[0], ws.Dimensions[1]
	kDims := ws.Dimensions[2:]
	oDims := make([]int, k)
	for i, a := range axes.OutputSpatial {
		oDims[i] = outShape.Dimensions[a]
	}
	taps, positions := prod(kDims), prod(oDims)
	perTap := taps <= positions

	// One slice per kernel tap ([N, C, O...]) or per output position ([N, C, K...]).
	lead, span := kDims, oDims
	if !perTap {
		lead, span = oDims, kDims
	}
	parts := make([]backends.Op, 0, prod(lead))
	idx := make([]int, k)
	for {
		starts := make([]int, 2+k)
		limits := append([]int{n, c}, make([]int, k)...)
		steps := []int{1, 1}
		for i := range k {
			step := strides[i] // per tap: successive output positions
			if perTap {
				starts[2+i] = idx[i] * kernelDilations[i]
			} else {
				starts[2+i] = idx[i] * strides[i]
				step = kernelDilations[i] // per position: successive kernel taps
			}
			limits[2+i] = starts[2+i] + (span[i]-1)*step + 1
			steps = append(steps, step)
		}
		s, err := b.Slice(x, starts, limits, steps)
		if err != nil {
			return nil, err
		}
		if s, err = b.Reshape(s, append([]int{1, n, c}, span...)...); err != nil {
			return nil, err
		}
		parts = append(parts, s)
		if !next(idx, lead) {
			break
		}
	}
	patches := parts[0]
	if len(parts) > 1 {
		if patches, err = b.Concatenate(0, parts...); err != nil {
			return nil, err
		}
	}
	// patches [L1..Lk, N, G, Cg, X1..Xk]; kernel [G, Mg, Cg, K1..Kk] (G axes only when grouped).
	g := groups
	mg := m / g
	pDims := slices.Concat(lead, []int{n}, groupDims(g, cg), span)
	if patches, err = b.Reshape(patches, pDims...); err != nil {
		return nil, err
	}
	if g > 1 {
		if w, err = b.Reshape(w, slices.Concat([]int{g, mg, cg}, kDims)...); err != nil {
			return nil, err
		}
	}
	gOff := 0 // extra axes before Mg in the kernel, after N in the patches
	if g > 1 {
		gOff = 1
	}
	pCg := k + 1 + gOff
	pX := seq(pCg+1, k)
	pL := seq(0, k)
	wCg := 1 + gOff
	wK := seq(wCg+1, k)
	var pBatch, wBatch []int
	if g > 1 {
		pBatch, wBatch = []int{k + 1}, []int{0}
	}
	var lc, rc []int
	if perTap {
		lc, rc = append(pL, pCg), append(wK, wCg) // taps and channels
	} else {
		lc, rc = append([]int{pCg}, pX...), append([]int{wCg}, wK...) // channels and window
	}
	y, err := b.DotGeneral(patches, lc, pBatch, w, rc, wBatch)
	if err != nil {
		return nil, err
	}
	// y: [G?, (N, O...) or (P..., N), Mg] -> [N, G?, Mg, O...]
	var perm []int
	if perTap {
		// [G?, N, O1..Ok, Mg]
		perm = append([]int{gOff}, seq(0, gOff)...)
		perm = append(perm, gOff+1+k)
		perm = append(perm, seq(gOff+1, k)...)
	} else {
		// [G?, P1..Pk, N, Mg]
		perm = append([]int{gOff + k}, seq(0, gOff)...)
		perm = append(perm, gOff+k+1)
		perm = append(perm, seq(gOff, k)...)
	}
	if y, err = b.transposeTo(y, perm); err != nil {
		return nil, err
	}
	if g > 1 {
		if y, err = b.Reshape(y, append([]int{n, m}, oDims...)...); err != nil {
			return nil, err
		}
	}
	// Canonical [N, M, O...] -> the requested output layout.
	out := make([]int, 2+k)
	out[axes.OutputBatch], out[axes.OutputChannels] = 0, 1
	for i, a := range axes.OutputSpatial {
		out[a] = 2 + i
	}
	return b.transposeTo(y, out)
}

// transposeTo returns x with axis i of the result being axis perm[i] of x (x itself when perm is
// the identity).
func (b *goBuilder) transposeTo(x backends.Op, perm []int) (backends.Op, error) {
	for i, p := range perm {
		if i != p {
			return b.Transpose(x, perm...)
		}
	}
	return x, nil
}

// zero returns a scalar 0 of dtype (float32 or float64).
func (b *goBuilder) zero(dtype dtypes.DType) (backends.Op, error) {
	if dtype == dtypes.Float64 {
		return b.Constant([]float64{0})
	}
	return b.Constant([]float32{0})
}

func groupDims(g, cg int) []int {
	if g > 1 {
		return []int{g, cg}
	}
	return []int{cg}
}

func prod(v []int) int {
	p := 1
	for _, d := range v {
		p *= d
	}
	return p
}

// next advances the row-major multi-index idx within dims; false after the last one.
func next(idx, dims []int) bool {
	for i := len(idx) - 1; i >= 0; i-- {
		if idx[i]++; idx[i] < dims[i] {
			return true
		}
		idx[i] = 0
	}
	return false
}
