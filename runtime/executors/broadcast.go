package executors

import (
	"unsafe"

	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// broadcastInDim is BroadcastInDim for float32: runs along the innermost merged axis group are
// copies of the operand or fills with one of its values.
func broadcastInDim(b *simplego.Backend, n *simplego.Node, inputs []*simplego.Buffer, _ []bool) (*simplego.Buffer, bool) {
	os := nodeShape(n)
	axes, ok := nodeData(n).([]int)
	if os.DType != dtypes.Float32 || len(inputs) != 1 || !ok {
		return nil, false
	}
	is := bufShape(inputs[0])
	x, _ := bufFlat(inputs[0]).([]float32)
	if is.DType != dtypes.Float32 || len(x) < is.Size() || len(axes) != is.Rank() {
		return nil, false
	}
	d := make([]int, os.Rank())
	for i := range d {
		d[i] = 1
	}
	for i, a := range axes {
		if a < 0 || a >= os.Rank() || (is.Dimensions[i] != 1 && is.Dimensions[i] != os.Dimensions[a]) {
			return nil, false
		}
		d[a] = is.Dimensions[i]
	}
	out := getBufferForShape(b, os)
	dst := bufFlat(out).([]float32)[:os.Size()]
	gs := collapse(os.Dimensions, d)
	vec := innerStep(gs, 0)
	forChunks(len(dst), func(start, end int) {
		runs(gs, start, end, func(r run) {
			seg := dst[r.o : r.o+r.n]
			if vec {
				copy(seg, x[r.off[0]:r.off[0]+r.n])
				return
			}
			v := x[r.off[0]]
			for i := range seg {
				seg[i] = v
			}
		})
	})
	return out, true
}

// convertFromBool is ConvertDType from bool to float32.
func convertFromBool(b *simplego.Backend, n *simplego.Node, inputs []*simplego.Buffer, _ []bool) (*simplego.Buffer, bool) {
	os := nodeShape(n)
	if os.DType != dtypes.Float32 || len(inputs) != 1 || bufShape(inputs[0]).DType != dtypes.Bool {
		return nil, false
	}
	x, _ := bufFlat(inputs[0]).([]bool)
	if len(x) < os.Size() {
		return nil, false
	}
	out := getBufferForShape(b, os)
	dst := bufFlat(out).([]float32)[:os.Size()]
	// A Go bool is one byte holding 0 or 1: converting the byte avoids a branch per element
	// (masks of ReLU gradients are random, so a branch mispredicts half the time).
	bytes := unsafe.Slice((*uint8)(unsafe.Pointer(unsafe.SliceData(x))), len(dst))
	forChunks(len(dst), func(start, end int) {
		d := dst[start:end]
		for i, v := range bytes[start:end] {
			d[i] = float32(v)
		}
	})
	return out, true
}
