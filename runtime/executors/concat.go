package executors

import (
	"github.com/fob-go/fob/internal/parallel"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// concatenate is Concatenate for float32: per index of the axes before the joined one, each
// input's run is copied in turn; short runs (fob's strided-convolution gradients interleave
// phases along a trailing axis of 1) are assigned element by element rather than through copy.
func concatenate(b *simplego.Backend, n *simplego.Node, inputs []*simplego.Buffer, _ []bool) (*simplego.Buffer, bool) {
	os := nodeShape(n)
	axis, ok := nodeData(n).(int)
	if os.DType != dtypes.Float32 || !ok || axis < 0 || axis >= os.Rank() || len(inputs) == 0 {
		return nil, false
	}
	outer, inner := aroundAxis(os.Dimensions, axis)
	srcs := make([][]float32, len(inputs))
	runs := make([]int, len(inputs)) // elements per outer index, per input
	total := 0
	for i, in := range inputs {
		s := bufShape(in)
		x, _ := bufFlat(in).([]float32)
		if s.DType != dtypes.Float32 || s.Rank() != os.Rank() || len(x) < s.Size() {
			return nil, false
		}
		srcs[i], runs[i] = x[:s.Size()], s.Dimensions[axis]*inner
		total += runs[i]
	}
	if total*outer != os.Size() {
		return nil, false
	}
	out := getBufferForShape(b, os)
	dst := bufFlat(out).([]float32)[:os.Size()]
	if len(dst) == 0 {
		return out, true
	}
	size, count := chunking(len(dst), total)
	if total == len(srcs) { // one element per input and outer index: interleave, input by input
		parallel.For(count, func(c int) {
			o0, o1 := c*size/total, min(outer, (c+1)*size/total)
			for i, src := range srcs {
				d := dst[o0*total+i:]
				for o, v := range src[o0:o1] {
					d[o*total] = v
				}
			}
		})
		return out, true
	}
	forEach := func(c int) {
		for o := c * size / total; o < min(outer, (c+1)*size/total); o++ {
			row := dst[o*total : (o+1)*total]
			for i, src := range srcs {
				k := runs[i]
				part := src[o*k : (o+1)*k]
				if k <= 4 {
					for j, v := range part {
						row[j] = v
					}
				} else {
					copy(row, part)
				}
				row = row[k:]
			}
		}
	}
	parallel.For(count, forEach)
	return out, true
}
