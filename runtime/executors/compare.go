package executors

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// compare returns the executor of a float32 comparison of two operands of the same shape (ReLU
// and pooling gradients compare activations with their maxima) or of one with a scalar (fob's
// ReLU compares with a scalar 0), in parallel chunks; other shapes go to simplego.
func compare(op backends.OpType) fastFn {
	return func(b *simplego.Backend, n *simplego.Node, inputs []*simplego.Buffer, _ []bool) (*simplego.Buffer, bool) {
		os := nodeShape(n)
		if os.DType != dtypes.Bool || len(inputs) != 2 {
			return nil, false
		}
		ls, rs := bufShape(inputs[0]), bufShape(inputs[1])
		x, _ := bufFlat(inputs[0]).([]float32)
		y, _ := bufFlat(inputs[1]).([]float32)
		if ls.DType != dtypes.Float32 || rs.DType != dtypes.Float32 || len(x) < ls.Size() || len(y) < rs.Size() {
			return nil, false
		}
		cmpOp := op
		switch {
		case ls.Equal(rs) && ls.Size() == os.Size():
		case rs.IsScalar() && ls.Size() == os.Size():
		case ls.IsScalar() && rs.Size() == os.Size(): // s op y is y op' s
			x, y = y, x
			cmpOp = map[backends.OpType]backends.OpType{backends.OpTypeGreaterOrEqual: backends.OpTypeLessOrEqual,
				backends.OpTypeGreaterThan: backends.OpTypeLessThan, backends.OpTypeLessOrEqual: backends.OpTypeGreaterOrEqual,
				backends.OpTypeLessThan: backends.OpTypeGreaterThan}[op]
		default:
			return nil, false
		}
		out := getBufferForShape(b, os)
		dst := bufFlat(out).([]bool)[:os.Size()]
		scalar := len(y) == 1 && os.Size() != 1
		forChunks(len(dst), func(start, end int) {
			d, a := dst[start:end], x[start:end]
			d = d[:len(a)]
			if scalar {
				compareScalar(cmpOp, d, a, y[0])
				return
			}
			c := y[start:end]
			c = c[:len(a)]
			switch cmpOp {
			case backends.OpTypeGreaterOrEqual:
				for i, v := range a {
					d[i] = v >= c[i]
				}
			case backends.OpTypeGreaterThan:
				for i, v := range a {
					d[i] = v > c[i]
				}
			case backends.OpTypeLessOrEqual:
				for i, v := range a {
					d[i] = v <= c[i]
				}
			default: // LessThan
				for i, v := range a {
					d[i] = v < c[i]
				}
			}
		})
		return out, true
	}
}

// compareScalar sets d[i] = a[i] op c.
func compareScalar(op backends.OpType, d []bool, a []float32, c float32) {
	switch op {
	case backends.OpTypeGreaterOrEqual:
		for i, v := range a {
			d[i] = v >= c
		}
	case backends.OpTypeGreaterThan:
		for i, v := range a {
			d[i] = v > c
		}
	case backends.OpTypeLessOrEqual:
		for i, v := range a {
			d[i] = v <= c
		}
	default: // LessThan
		for i, v := range a {
			d[i] = v < c
		}
	}
}
