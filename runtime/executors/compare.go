package executors

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// compare returns the executor of a float32 comparison of two operands of the same shape (ReLU
// and pooling gradients compare activations with their maxima), in parallel chunks; other
// shapes go to simplego.
func compare(op backends.OpType) fastFn {
	return func(b *simplego.Backend, n *simplego.Node, inputs []*simplego.Buffer, _ []bool) (*simplego.Buffer, bool) {
		os := nodeShape(n)
		if os.DType != dtypes.Bool || len(inputs) != 2 {
			return nil, false
		}
		ls, rs := bufShape(inputs[0]), bufShape(inputs[1])
		x, _ := bufFlat(inputs[0]).([]float32)
		y, _ := bufFlat(inputs[1]).([]float32)
		if ls.DType != dtypes.Float32 || !ls.Equal(rs) || ls.Size() != os.Size() || len(x) < os.Size() || len(y) < os.Size() {
			return nil, false
		}
		out := getBufferForShape(b, os)
		dst := bufFlat(out).([]bool)[:os.Size()]
		forChunks(len(dst), func(start, end int) {
			d, a, c := dst[start:end], x[start:end], y[start:end]
			c = c[:len(a)]
			d = d[:len(a)]
			switch op {
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
