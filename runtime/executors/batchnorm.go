package executors

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"

	"github.com/fob-go/fob/internal/parallel"
)

// Batch normalisation in training, fused: simplego has no BatchNormForTraining or
// BatchNormGradient, and the same computation composed from its elementwise ops and reductions
// (and differentiated by GoMLX) makes about 19 full reads and 12 full writes of the activation
// per BatchNorm and step. Here the forward pass reads it twice and writes it once (statistics,
// then the normalised output), the gradient reads the activation and its output gradient twice
// and writes once. The four kernels are nodes of one op type whose executor simplego lacks
// (OpTypeBatchNormForTraining), told apart by their parameters.

// bnKind is one of the fused kernels.
type bnKind int

const (
	bnStats       bnKind = iota // x → [2, C]: batch mean, biased batch variance
	bnNormalize                 // x, mean, var, scale, offset → (x − mean)/√(var + ε)·scale + offset
	bnGradSums                  // x, mean, var, dy → [2, C]: Σ dy, Σ dy·x̂
	bnGradOperand               // x, mean, var, scale, sums → dx
)

type bnParams struct {
	kind bnKind
	eps  float64
	axis int
}

// with returns a copy of p for kernel k (each node keeps its own parameters).
func (p bnParams) with(k bnKind) *bnParams {
	p.kind = k
	return &p
}

// newNode adds a node to a simplego graph (unexported there).
//
//go:linkname newNode github.com/gomlx/gomlx/backends/simplego.(*Builder).newNode
func newNode(b *simplego.Builder, opType backends.OpType, shape shapes.Shape, inputs ...*simplego.Node) *simplego.Node

func setNodeData(n *simplego.Node, d any) { *(*any)(unsafe.Add(unsafe.Pointer(n), offNodeData)) = d }

// bnOp is the op type the fused kernels run under.
const bnOp = backends.OpTypeBatchNormForTraining

// BatchNormForTraining builds the fused training-mode batch normalisation of operand over every
// axis but featureAxis on a simplego builder (float32 and float64; Install must have run): the
// normalised operand and the batch mean and biased variance, as XLA's BatchNormTraining.
func BatchNormForTraining(b *simplego.Builder, operand, scale, offset backends.Op, epsilon float32, featureAxis int) (normalized, mean, variance backends.Op, err error) {
	defer recoverErr(&err, "BatchNormForTraining")
	xs := mustShape(b, operand)
	c := xs.Dimensions[featureAxis]
	p := bnParams{eps: float64(epsilon), axis: featureAxis}
	stats := bnNode(b, p.with(bnStats), shapes.Make(xs.DType, 2, c), operand)
	mean, variance = row(b, stats, 0, c), row(b, stats, 1, c)
	normalized = bnNode(b, p.with(bnNormalize), xs, operand, mean, variance, scale, offset)
	return normalized, mean, variance, nil
}

// BatchNormGradient builds the fused gradient of BatchNormForTraining with respect to its
// operand, scale and offset, given the gradient of its normalised output.
func BatchNormGradient(b *simplego.Builder, operand, scale, mean, variance, gradOutput backends.Op, epsilon float32, featureAxis int) (gradOperand, gradScale, gradOffset backends.Op, err error) {
	defer recoverErr(&err, "BatchNormGradient")
	xs := mustShape(b, operand)
	c := xs.Dimensions[featureAxis]
	p := bnParams{eps: float64(epsilon), axis: featureAxis}
	sums := bnNode(b, p.with(bnGradSums), shapes.Make(xs.DType, 2, c), operand, mean, variance, gradOutput)
	gradOperand = bnNode(b, p.with(bnGradOperand), xs, operand, mean, variance, scale, gradOutput, sums)
	return gradOperand, row(b, sums, 1, c), row(b, sums, 0, c), nil
}

// BatchNormReady reports whether the fused batch normalisation can run (Install succeeded).
func BatchNormReady() bool {
	installMu.Lock()
	defer installMu.Unlock()
	return installed && nodeExecutors[bnOp] != nil
}

func recoverErr(err *error, what string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("executors: %s: %v", what, r)
	}
}

func mustShape(b *simplego.Builder, op backends.Op) shapes.Shape {
	s, err := b.OpShape(op)
	if err != nil {
		panic(err)
	}
	return s
}

func bnNode(b *simplego.Builder, p *bnParams, shape shapes.Shape, inputs ...backends.Op) backends.Op {
	xs := mustShape(b, inputs[0])
	if xs.DType != dtypes.Float32 && xs.DType != dtypes.Float64 {
		panic(fmt.Sprintf("operand is %s; the fused kernels take float32 and float64", xs.DType))
	}
	if p.axis < 0 || p.axis >= xs.Rank() {
		panic(fmt.Sprintf("feature axis %d out of range for %s", p.axis, xs))
	}
	nodes := make([]*simplego.Node, len(inputs))
	for i, in := range inputs {
		n, ok := in.(*simplego.Node)
		if !ok {
			panic(fmt.Sprintf("input %d is a %T, not a simplego node", i, in))
		}
		s := mustShape(b, in)
		if s.DType != xs.DType {
			panic(fmt.Sprintf("input %d is %s, the operand %s", i, s, xs))
		}
		if c := xs.Dimensions[p.axis]; i > 0 && s.Size() != c && s.Size() != 2*c && !s.Equal(xs) {
			panic(fmt.Sprintf("input %d has shape %s: neither per channel (%d) nor the operand's %s", i, s, c, xs))
		}
		nodes[i] = n
	}
	n := newNode(b, bnOp, shape, nodes...)
	setNodeData(n, p)
	return n
}

// row returns row r of a [2, c] node as a [c] vector.
func row(b *simplego.Builder, m backends.Op, r, c int) backends.Op {
	s, err := b.Slice(m, []int{r, 0}, []int{r + 1, c}, []int{1, 1})
	if err != nil {
		panic(err)
	}
	v, err := b.Reshape(s, c)
	if err != nil {
		panic(err)
	}
	return v
}

// execBatchNorm is the executor of the fused kernels.
// The full-size outputs are written in place of a full-size input this node owns (its last
// user), as the elementwise executors do: each element is read before it is written.
func execBatchNorm(b *simplego.Backend, n *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
	p, ok := nodeData(n).(*bnParams)
	if !ok {
		return nil, fmt.Errorf("executors: %s node without fob's batch-norm parameters", bnOp)
	}
	xs := bufShape(inputs[0])
	flats := make([]any, len(inputs))
	for i, in := range inputs {
		flats[i] = bufFlat(in)
	}
	out := outputFor(b, nodeShape(n), inputs, owned)
	switch xs.DType {
	case dtypes.Float32:
		runBatchNorm[float32](p, xs, flats, bufFlat(out).([]float32))
	case dtypes.Float64:
		runBatchNorm[float64](p, xs, flats, bufFlat(out).([]float64))
	default:
		return nil, fmt.Errorf("executors: fused batch norm of %s", xs.DType)
	}
	return out, nil
}

// bnChunks is the number of image ranges the channel sums are split into: partial sums per
// range, added in range order (the same result on any core count).
const bnChunks = 16

// runBatchNorm runs one kernel with the operand viewed as [outer, C, inner]. Work goes in
// memory order (ranges of images, each plane a contiguous run) so that every worker streams
// long runs; per-channel coefficients are computed first.
func runBatchNorm[T float32 | float64](p *bnParams, xs shapes.Shape, inputs []any, dst []T) {
	c := xs.Dimensions[p.axis]
	outer, inner := aroundAxis(xs.Dimensions, p.axis)
	count := float64(outer * inner)
	flat := func(i int) []T { return inputs[i].([]T) }
	x := flat(0)
	invStd := func(variance []T, ch int) float64 { return 1 / math.Sqrt(float64(variance[ch])+p.eps) }
	switch p.kind {
	case bnStats, bnGradSums:
		var dy []T
		if p.kind == bnGradSums {
			dy = flat(3)
		}
		s := channelSums(x, dy, outer, c, inner)
		for ch := range c {
			if p.kind == bnStats {
				m := s[ch] / count
				dst[ch], dst[c+ch] = T(m), T(max(s[c+ch]/count-m*m, 0))
				continue
			}
			// Σ dy·x̂ = (Σ dy·x − mean·Σ dy)/σ
			mean, variance := flat(1), flat(2)
			dst[ch], dst[c+ch] = T(s[ch]), T((s[c+ch]-float64(mean[ch])*s[ch])*invStd(variance, ch))
		}
	case bnNormalize:
		mean, variance, scale, offset := flat(1), flat(2), flat(3), flat(4)
		a, b := make([]T, c), make([]T, c) // y = a·x + b
		for ch := range c {
			k := invStd(variance, ch) * float64(scale[ch])
			a[ch], b[ch] = T(k), T(float64(offset[ch])-float64(mean[ch])*k)
		}
		forRows(outer, c*inner, func(o int) {
			for ch := range c {
				at := (o*c + ch) * inner
				ac, bc := a[ch], b[ch]
				v, y := x[at:at+inner], dst[at:at+inner]
				for i, xv := range v {
					y[i] = ac*xv + bc
				}
			}
		})
	case bnGradOperand:
		mean, variance, scale, dy, s := flat(1), flat(2), flat(3), flat(4), flat(5)
		// dx = scale/σ · (dy − Σdy/n − x̂·Σdy·x̂/n), x̂ = (x − mean)/σ: dx = a·dy + b·x + d
		a, b, d := make([]T, c), make([]T, c), make([]T, c)
		for ch := range c {
			is := invStd(variance, ch)
			k := float64(scale[ch]) * is
			mdy, mdyx := float64(s[ch])/count, float64(s[c+ch])/count
			a[ch], b[ch] = T(k), T(-k*mdyx*is)
			d[ch] = T(k * (-mdy + float64(mean[ch])*mdyx*is))
		}
		forRows(outer, c*inner, func(o int) {
			for ch := range c {
				at := (o*c + ch) * inner
				ac, bc, dc := a[ch], b[ch], d[ch]
				g, v, y := dy[at:at+inner], x[at:at+inner], dst[at:at+inner]
				for i, xv := range v {
					y[i] = ac*g[i] + bc*xv + dc
				}
			}
		})
	}
}

// forRows calls fn for each of rows rows of size elements (an image: its channels' planes,
// consecutive in memory), in parallel chunks of consecutive rows.
func forRows(rows, size int, fn func(o int)) {
	forChunks(rows*size, func(start, end int) {
		for o := (start + size - 1) / size; o*size < end && o < rows; o++ {
			fn(o)
		}
	})
}

// channelSums returns, per channel of v [outer, c, inner], Σ v and Σ v² (g nil) or Σ g and
// Σ g·v, as [2c] float64: partial sums over bnChunks ranges of images, added in order.
func channelSums[T float32 | float64](v, g []T, outer, c, inner int) []float64 {
	chunks := min(bnChunks, outer)
	parts := make([][]float64, chunks)
	parallel.For(chunks, func(k int) {
		part := make([]float64, 2*c)
		for o := k * outer / chunks; o < (k+1)*outer/chunks; o++ {
			if inner == 1 { // [N, C]: one value per channel and row
				row := v[o*c : (o+1)*c]
				if g == nil {
					for ch, x := range row {
						part[ch] += float64(x)
						part[c+ch] += float64(x) * float64(x)
					}
				} else {
					for ch, x := range row {
						d := float64(g[o*c+ch])
						part[ch] += d
						part[c+ch] += d * float64(x)
					}
				}
				continue
			}
			for ch := range c {
				at := (o*c + ch) * inner
				var a, b float64
				if g == nil {
					a, b = sums(v[at : at+inner])
				} else {
					a, b = dots(g[at:at+inner], v[at:at+inner])
				}
				part[ch] += a
				part[c+ch] += b
			}
		}
		parts[k] = part
	})
	total := parts[0]
	for _, part := range parts[1:] {
		for i, x := range part {
			total[i] += x
		}
	}
	return total
}

// sums returns Σ v and Σ v² in float64 (four independent chains each).
func sums[T float32 | float64](v []T) (s, ss float64) {
	var s0, s1, s2, s3, q0, q1, q2, q3 float64
	i := 0
	for ; i+4 <= len(v); i += 4 {
		a, b, c, d := float64(v[i]), float64(v[i+1]), float64(v[i+2]), float64(v[i+3])
		s0, s1, s2, s3 = s0+a, s1+b, s2+c, s3+d
		q0, q1, q2, q3 = q0+a*a, q1+b*b, q2+c*c, q3+d*d
	}
	for ; i < len(v); i++ {
		a := float64(v[i])
		s0, q0 = s0+a, q0+a*a
	}
	return (s0 + s1) + (s2 + s3), (q0 + q1) + (q2 + q3)
}

// dots returns Σ g and Σ g·v in float64.
func dots[T float32 | float64](g, v []T) (s, sv float64) {
	v = v[:len(g)]
	var s0, s1, s2, s3, q0, q1, q2, q3 float64
	i := 0
	for ; i+4 <= len(g); i += 4 {
		a, b, c, d := float64(g[i]), float64(g[i+1]), float64(g[i+2]), float64(g[i+3])
		s0, s1, s2, s3 = s0+a, s1+b, s2+c, s3+d
		q0, q1 = q0+a*float64(v[i]), q1+b*float64(v[i+1])
		q2, q3 = q2+c*float64(v[i+2]), q3+d*float64(v[i+3])
	}
	for ; i < len(g); i++ {
		a := float64(g[i])
		s0, q0 = s0+a, q0+a*float64(v[i])
	}
	return (s0 + s1) + (s2 + s3), (q0 + q1) + (q2 + q3)
}
