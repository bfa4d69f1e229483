package executors

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// binOp is a float32 binary operation.
type binOp int

const (
	opAdd binOp = iota
	opSub
	opMul
	opDiv
	opMax
	opMin
)

// binary returns the executor of a float32 binary op with broadcasting: the output is walked
// in runs along the innermost merged axis group, each operand a vector or a repeated scalar
// along the run, in parallel chunks for large outputs.
func binary(op binOp) fastFn {
	return func(b *simplego.Backend, n *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, bool) {
		os := nodeShape(n)
		if os.DType != dtypes.Float32 || len(inputs) != 2 {
			return nil, false
		}
		lhs, rhs := inputs[0], inputs[1]
		ls, rs := bufShape(lhs), bufShape(rhs)
		if ls.DType != dtypes.Float32 || rs.DType != dtypes.Float32 {
			return nil, false
		}
		ld, rd := dimsIn(ls, os), dimsIn(rs, os)
		if ld == nil || rd == nil {
			return nil, false
		}
		a, _ := bufFlat(lhs).([]float32)
		c, _ := bufFlat(rhs).([]float32)
		if len(a) < ls.Size() || len(c) < rs.Size() {
			return nil, false
		}
		a, c = a[:ls.Size()], c[:rs.Size()]
		out := outputFor(b, os, inputs, owned)
		dst := bufFlat(out).([]float32)[:os.Size()]
		gs := collapse(os.Dimensions, ld, rd)
		forChunks(len(dst), func(start, end int) {
			runs(gs, start, end, func(r run) {
				applyBinary(op, dst[r.o:r.o+r.n], a, r.off[0], gs, 0, c, r.off[1], 1)
			})
		})
		return out, true
	}
}

// dimsIn returns an operand's dimensions aligned to the output's (a scalar or size-1 operand
// becomes all ones), or nil when it does not broadcast to it.
func dimsIn(s, out shapes.Shape) []int {
	if s.Size() == 1 {
		d := make([]int, out.Rank())
		for i := range d {
			d[i] = 1
		}
		return d
	}
	if s.Rank() != out.Rank() {
		return nil
	}
	for i, d := range s.Dimensions {
		if d != out.Dimensions[i] && d != 1 {
			return nil
		}
	}
	return s.Dimensions
}

// outputFor reuses an owned input of the output's shape (as simplego does, marking it taken)
// or allocates a buffer.
func outputFor(b *simplego.Backend, os shapes.Shape, inputs []*simplego.Buffer, owned []bool) *simplego.Buffer {
	for i := len(inputs) - 1; i >= 0; i-- {
		if owned[i] && inputs[i] != nil && bufShape(inputs[i]).Equal(os) {
			out := inputs[i]
			inputs[i] = nil
			return out
		}
	}
	return getBufferForShape(b, os)
}

// innerStep reports whether operand k steps along the innermost group (a vector) or not (a
// scalar repeated along the run).
func innerStep(gs []group, k int) bool {
	return len(gs) > 0 && gs[len(gs)-1].strides[k] != 0
}

// applyBinary computes dst = a op c along one run; a and c are vectors or repeated scalars.
func applyBinary(op binOp, dst, a []float32, ao int, gs []group, ka int, c []float32, co int, kc int) {
	n := len(dst)
	av, cv := innerStep(gs, ka), innerStep(gs, kc)
	switch {
	case av && cv:
		vecVec(op, dst, a[ao:ao+n], c[co:co+n])
	case av:
		vecScalar(op, dst, a[ao:ao+n], c[co])
	case cv:
		scalarVec(op, dst, a[ao], c[co:co+n])
	default:
		v := scalarOp(op, a[ao], c[co])
		for i := range dst {
			dst[i] = v
		}
	}
}

func scalarOp(op binOp, x, y float32) float32 {
	switch op {
	case opAdd:
		return x + y
	case opSub:
		return x - y
	case opMul:
		return x * y
	case opDiv:
		return x / y
	case opMax:
		return max(x, y)
	default:
		return min(x, y)
	}
}

func vecVec(op binOp, dst, a, c []float32) {
	c = c[:len(a)]
	dst = dst[:len(a)]
	switch op {
	case opAdd:
		for i, x := range a {
			dst[i] = x + c[i]
		}
	case opSub:
		for i, x := range a {
			dst[i] = x - c[i]
		}
	case opMul:
		for i, x := range a {
			dst[i] = x * c[i]
		}
	case opDiv:
		for i, x := range a {
			dst[i] = x / c[i]
		}
	case opMax:
		for i, x := range a {
			dst[i] = max(x, c[i])
		}
	case opMin:
		for i, x := range a {
			dst[i] = min(x, c[i])
		}
	}
}

func vecScalar(op binOp, dst, a []float32, y float32) {
	dst = dst[:len(a)]
	switch op {
	case opAdd:
		for i, x := range a {
			dst[i] = x + y
		}
	case opSub:
		for i, x := range a {
			dst[i] = x - y
		}
	case opMul:
		for i, x := range a {
			dst[i] = x * y
		}
	case opDiv:
		for i, x := range a {
			dst[i] = x / y
		}
	case opMax:
		for i, x := range a {
			dst[i] = max(x, y)
		}
	case opMin:
		for i, x := range a {
			dst[i] = min(x, y)
		}
	}
}

// scalarVec computes dst = x op c; the commutative ops are vecScalar's.
func scalarVec(op binOp, dst []float32, x float32, c []float32) {
	dst = dst[:len(c)]
	switch op {
	case opSub:
		for i, y := range c {
			dst[i] = x - y
		}
	case opDiv:
		for i, y := range c {
			dst[i] = x / y
		}
	default:
		vecScalar(op, dst, c, x)
	}
}

var binaryOps = map[backends.OpType]binOp{
	backends.OpTypeAdd: opAdd, backends.OpTypeSub: opSub, backends.OpTypeMul: opMul,
	backends.OpTypeDiv: opDiv, backends.OpTypeMax: opMax, backends.OpTypeMin: opMin,
}
