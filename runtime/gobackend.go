package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"

	"github.com/fob-go/fob/runtime/executors"
	"github.com/fob-go/fob/runtime/gemm"
)

// GoBackendName is the name the pure-Go backend with fob's extra ops is registered under
// (GOMLX_BACKEND=fobgo reaches it from GoMLX tools; fob itself spells it "go").
const GoBackendName = "fobgo"

// goBackend is GoMLX's pure-Go backend ("simplego") plus ops that gradients need and simplego
// lacks (Pad for Slice/Split gradients, Reverse for convolution input gradients). simplego's
// executor table is private, so the extra ops are composed at graph-build time from ops it does
// execute. Its float32 matrix products and convolutions run on fob's AVX2/FMA (or AVX-512) block
// kernels where the CPU has them (runtime/gemm), and its float32 elementwise ops, reductions,
// broadcasts, gathers and concatenations on runtime/executors' chunked, parallel ones.
// FOB_GEMM=off keeps all of simplego's own (convolutions are then rewritten into one matrix
// product, see conv.go).
type goBackend struct {
	*simplego.Backend
	conv convMode // NativeConvOption, ComposeConvOption
}

// newGoBackend takes simplego's configuration string ("ops_sequential", "parallelism=N", ...).
func newGoBackend(config string) (b backends.Backend, err error) {
	defer recoverTo(&err, "creating the pure-Go backend")
	gemmOnce.Do(installGEMM)
	config, mode := splitGoConfig(config)
	inner, err := simplego.New(config)
	if err != nil {
		return nil, err
	}
	sg, ok := inner.(*simplego.Backend)
	if !ok {
		return nil, fmt.Errorf("simplego.New returned %T, want *simplego.Backend", inner)
	}
	return &goBackend{Backend: sg, conv: mode}, nil
}

var gemmOnce sync.Once

// installGEMM switches simplego's float32 block kernel and convolution to runtime/gemm's, and its
// float32 elementwise executors to runtime/executors'. Without AVX2/FMA (kernels), or with
// FOB_GEMM=off (everything), simplego keeps its own; a GoMLX whose internals differ is reported
// once.
func installGEMM() {
	if os.Getenv("FOB_GEMM") == "off" {
		return
	}
	if err := gemm.Install(); err != nil {
		level := slog.LevelWarn
		if errors.Is(err, gemm.ErrUnavailable) {
			level = slog.LevelDebug
		}
		slog.Log(context.Background(), level, "matrix products use simplego's scalar kernel", "reason", err)
	}
	if err := gemm.InstallConv(); err != nil {
		level := slog.LevelWarn
		if errors.Is(err, gemm.ErrUnavailable) {
			level = slog.LevelDebug
		}
		slog.Log(context.Background(), level, "float32 convolutions are rewritten into matrix products", "reason", err)
	}
	if err := executors.Install(); err != nil {
		slog.Warn("float32 elementwise ops and reductions use simplego's", "reason", err)
	} else if gemm.ConvActive() {
		executors.SetConvRunner(gemm.RunConvNode)
	}
}

// Name implements backends.Backend.
func (b *goBackend) Name() string { return "SimpleGo+fob (" + GoBackendName + ")" }

// String implements backends.Backend.
func (b *goBackend) String() string { return GoBackendName }

// Description implements backends.Backend.
func (b *goBackend) Description() string {
	kernel := "simplego's float32 matmul kernel"
	if gemm.Active() {
		kernel = "fob's AVX2/FMA float32 matmul kernel"
	}
	conv := "simplego's convolution loop"
	switch {
	case b.conv == convCompose || (b.conv == convDefault && !gemm.ConvActive()):
		conv = "convolutions rewritten into one matrix product"
	case gemm.ConvActive():
		conv = "fob's block-kernel float32 convolution"
	}
	return "GoMLX pure-Go backend (simplego) with Pad and Reverse composed from its own ops, ConvGeneral defaults filled in, " +
		kernel + " and " + conv
}

// Capabilities implements backends.Backend: simplego's plus the composed ops.
func (b *goBackend) Capabilities() backends.Capabilities {
	c := simplego.Capabilities.Clone()
	c.Operations[backends.OpTypePad] = true
	c.Operations[backends.OpTypeReverse] = true
	if executors.BatchNormReady() {
		c.Operations[backends.OpTypeBatchNormForTraining] = true
		c.Operations[backends.OpTypeBatchNormGradient] = true
	}
	return c
}

// BatchNormForTraining implements backends.Builder with runtime/executors' fused kernels
// (float32 and float64), when they are installed.
func (b *goBuilder) BatchNormForTraining(operand, scale, offset backends.Op, epsilon float32, featureAxis int) (backends.Op, backends.Op, backends.Op, error) {
	if !executors.BatchNormReady() {
		return b.Builder.BatchNormForTraining(operand, scale, offset, epsilon, featureAxis)
	}
	return executors.BatchNormForTraining(b.Builder, operand, scale, offset, epsilon, featureAxis)
}

// BatchNormGradient implements backends.Builder: the gradient of BatchNormForTraining.
func (b *goBuilder) BatchNormGradient(operand, scale, mean, variance, gradOutput backends.Op, epsilon float32, featureAxis int) (backends.Op, backends.Op, backends.Op, error) {
	if !executors.BatchNormReady() {
		return b.Builder.BatchNormGradient(operand, scale, mean, variance, gradOutput, epsilon, featureAxis)
	}
	return executors.BatchNormGradient(b.Builder, operand, scale, mean, variance, gradOutput, epsilon, featureAxis)
}

// Builder implements backends.Builder.
func (b *goBackend) Builder(name string) backends.Builder {
	return &goBuilder{Builder: b.Backend.Builder(name).(*simplego.Builder), conv: b.conv}
}

// goBuilder adds Pad, Reverse and training-mode batch normalisation to simplego's builder.
type goBuilder struct {
	*simplego.Builder
	conv convMode
}

// Pad implements backends.Builder with the XLA semantics: per axis, interior padding first
// (Interior fill values between neighbours), then the edges (negative Start/End remove elements).
func (b *goBuilder) Pad(x, fill backends.Op, axesConfig ...backends.PadAxis) (backends.Op, error) {
	shape, err := b.OpShape(x)
	if err != nil {
		return nil, err
	}
	if len(axesConfig) > shape.Rank() {
		return nil, fmt.Errorf("Pad: %d axis configurations for an operand of rank %d (%s)", len(axesConfig), shape.Rank(), shape)
	}
	fillShape, err := b.OpShape(fill)
	if err != nil {
		return nil, err
	}
	if fillShape.Rank() != 0 || fillShape.DType != shape.DType {
		return nil, fmt.Errorf("Pad: fill value must be a %s scalar, got %s", shape.DType, fillShape)
	}
	y := x
	for axis, cfg := range axesConfig {
		if cfg.Interior < 0 {
			return nil, fmt.Errorf("Pad: negative interior padding %d on axis %d", cfg.Interior, axis)
		}
		if y, err = b.padInterior(y, fill, axis, cfg.Interior); err != nil {
			return nil, err
		}
		if y, err = b.padEdges(y, fill, axis, cfg.Start, cfg.End); err != nil {
			return nil, err
		}
	}
	return y, nil
}

// filled returns a tensor of the given shape holding the scalar fill.
func (b *goBuilder) filled(fill backends.Op, dtype dtypes.DType, dims []int) (backends.Op, error) {
	return b.BroadcastInDim(fill, shapes.Make(dtype, dims...), nil)
}

// padInterior inserts k fill values between neighbours along axis: view [.., n, ..] as
// [.., n, 1, ..], append a [.., n, k, ..] fill block on the new axis, flatten to [.., n*(1+k), ..]
// and drop the k trailing fills.
func (b *goBuilder) padInterior(y, fill backends.Op, axis, k int) (backends.Op, error) {
	shape, err := b.OpShape(y)
	if err != nil {
		return nil, err
	}
	n := shape.Dimensions[axis]
	if k == 0 || n <= 1 {
		return y, nil
	}
	dims := shape.Dimensions
	split := slices.Concat(dims[:axis+1], []int{1}, dims[axis+1:])
	y1, err := b.Reshape(y, split...)
	if err != nil {
		return nil, err
	}
	block := slices.Clone(split)
	block[axis+1] = k
	f, err := b.filled(fill, shape.DType, block)
	if err != nil {
		return nil, err
	}
	cat, err := b.Concatenate(axis+1, y1, f)
	if err != nil {
		return nil, err
	}
	flat := slices.Clone(dims)
	flat[axis] = n * (1 + k)
	y2, err := b.Reshape(cat, flat...)
	if err != nil {
		return nil, err
	}
	return b.sliceAxis(y2, axis, 0, n+(n-1)*k)
}

// padEdges removes (negative) or appends (positive) elements at both ends of axis.
func (b *goBuilder) padEdges(y, fill backends.Op, axis, start, end int) (backends.Op, error) {
	shape, err := b.OpShape(y)
	if err != nil {
		return nil, err
	}
	n := shape.Dimensions[axis]
	from, to := max(0, -start), n-max(0, -end)
	if from > to {
		return nil, fmt.Errorf("Pad: negative padding (start %d, end %d) removes more than the %d elements of axis %d", start, end, n, axis)
	}
	if from != 0 || to != n {
		if y, err = b.sliceAxis(y, axis, from, to); err != nil {
			return nil, err
		}
		if shape, err = b.OpShape(y); err != nil {
			return nil, err
		}
	}
	parts := make([]backends.Op, 0, 3)
	for _, size := range []int{max(0, start), -1, max(0, end)} {
		switch {
		case size < 0:
			parts = append(parts, y)
		case size > 0:
			dims := slices.Clone(shape.Dimensions)
			dims[axis] = size
			f, err := b.filled(fill, shape.DType, dims)
			if err != nil {
				return nil, err
			}
			parts = append(parts, f)
		}
	}
	if len(parts) == 1 {
		return y, nil
	}
	return b.Concatenate(axis, parts...)
}

// sliceAxis keeps elements [from, to) of axis.
func (b *goBuilder) sliceAxis(y backends.Op, axis, from, to int) (backends.Op, error) {
	shape, err := b.OpShape(y)
	if err != nil {
		return nil, err
	}
	starts := make([]int, shape.Rank())
	limits := slices.Clone(shape.Dimensions)
	strides := make([]int, shape.Rank())
	for i := range strides {
		strides[i] = 1
	}
	starts[axis], limits[axis] = from, to
	return b.Slice(y, starts, limits, strides)
}

// Reverse implements backends.Builder: the listed axes are read back to front through Gathers
// with indices n-1, n-2, ..., 0 (any dtype). Adjacent axes are reversed together, as one axis
// of their combined size (reversing each of them is reversing their row-major flattening): a
// kernel flip of a convolution input gradient is then one gather of [out·in, kh·kw] instead of
// two passes, the second with runs of a single float.
func (b *goBuilder) Reverse(x backends.Op, axes ...int) (backends.Op, error) {
	shape, err := b.OpShape(x)
	if err != nil {
		return nil, err
	}
	rev := make([]bool, shape.Rank())
	for _, axis := range axes {
		if axis < 0 || axis >= shape.Rank() {
			return nil, fmt.Errorf("Reverse: axis %d out of range for %s", axis, shape)
		}
		if rev[axis] {
			return nil, fmt.Errorf("Reverse: axis %d listed twice", axis)
		}
		rev[axis] = shape.Dimensions[axis] > 1
	}
	y := x
	for a0 := 0; a0 < shape.Rank(); a0++ {
		if !rev[a0] {
			continue
		}
		a1 := a0 + 1 // reverse axes a0..a1-1 together
		for a1 < shape.Rank() && (rev[a1] || shape.Dimensions[a1] == 1) {
			a1++
		}
		before, n, after := 1, 1, 1
		for a, d := range shape.Dimensions {
			switch {
			case a < a0:
				before *= d
			case a < a1:
				n *= d
			default:
				after *= d
			}
		}
		if y, err = b.reverseMiddle(y, before, n, after); err != nil {
			return nil, err
		}
		if y, err = b.Reshape(y, shape.Dimensions...); err != nil {
			return nil, err
		}
		a0 = a1
	}
	return y, nil
}

// reverseMiddle reverses the middle axis of x seen as [before, n, after].
func (b *goBuilder) reverseMiddle(x backends.Op, before, n, after int) (backends.Op, error) {
	x, err := b.Reshape(x, before, n, after)
	if err != nil {
		return nil, err
	}
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(n - 1 - i)
	}
	indices, err := b.Constant(idx, n, 1)
	if err != nil {
		return nil, err
	}
	return b.Gather(x, indices, 1, []int{0, 2}, []int{1}, []int{1}, []int{before, 1, after}, false)
}

// ConvGeneral implements backends.Builder. XLA reads empty strides and dilations as all ones;
// simplego rejects empty strides ("stride[0]=0 must be >= 1") and fails inside a worker on empty
// dilations, and GoMLX's own convolution gradients pass them empty. Fill them in, then build the
// convolution (conv.go: fob's block kernel for float32, else one matrix product).
func (b *goBuilder) ConvGeneral(input, kernel backends.Op, axes backends.ConvolveAxesConfig, strides []int, paddings [][2]int,
	inputDilations, kernelDilations []int, channelGroupCount, batchGroupCount int) (backends.Op, error) {
	n := len(axes.InputSpatial)
	return b.convGeneral(input, kernel, axes, orOnes(strides, n), orZeroPads(paddings, n), orOnes(inputDilations, n),
		orOnes(kernelDilations, n), max(channelGroupCount, 1), max(batchGroupCount, 1))
}
