package executors

import (
	"reflect"
	"slices"
	"unsafe"

	"github.com/fob-go/fob/internal/parallel"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// gatherParams are simplego's Gather parameters (an unexported struct in the node's data).
type gatherParams struct {
	indexVectorAxis                                            int
	offsetOutputAxes, collapsedAxes, startIndexMap, sliceSizes []int
}

// readGatherParams reads them by field name; ok is false when the struct is not as expected.
func readGatherParams(data any) (p gatherParams, ok bool) {
	v := reflect.ValueOf(data)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return p, false
	}
	e := v.Elem()
	read := func(name string, dst any) bool {
		f := e.FieldByName(name)
		if !f.IsValid() {
			return false
		}
		val := reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
		d := reflect.ValueOf(dst).Elem()
		if val.Type() != d.Type() {
			return false
		}
		d.Set(val)
		return true
	}
	ok = read("indexVectorAxis", &p.indexVectorAxis) && read("offsetOutputAxes", &p.offsetOutputAxes) &&
		read("collapsedSlicesAxes", &p.collapsedAxes) && read("startIndexMap", &p.startIndexMap) &&
		read("sliceSizes", &p.sliceSizes)
	return p, ok
}

// gatherTake is Gather for float32 when it takes whole slices along one axis a: one index per
// output slice (indices [..., 1]), the slice spanning every other axis, and the indices' batch
// axes in place of axis a. That is what fob's Reverse (kernel flips of convolution gradients)
// and embedding lookups build; the output is then copies of runs of the axes after a.
func gatherTake(b *simplego.Backend, n *simplego.Node, inputs []*simplego.Buffer, _ []bool) (*simplego.Buffer, bool) {
	os := nodeShape(n)
	if os.DType != dtypes.Float32 || len(inputs) != 2 {
		return nil, false
	}
	p, ok := readGatherParams(nodeData(n))
	xs, is := bufShape(inputs[0]), bufShape(inputs[1])
	if !ok || xs.DType != dtypes.Float32 || len(p.startIndexMap) != 1 || is.Rank() == 0 ||
		p.indexVectorAxis != is.Rank()-1 || is.Dimensions[is.Rank()-1] != 1 {
		return nil, false
	}
	a := p.startIndexMap[0]
	if a < 0 || a >= xs.Rank() || !slices.Equal(p.collapsedAxes, []int{a}) || len(p.sliceSizes) != xs.Rank() {
		return nil, false
	}
	for i, d := range p.sliceSizes {
		if (i == a && d != 1) || (i != a && d != xs.Dimensions[i]) {
			return nil, false
		}
	}
	batch := is.Rank() - 1
	if len(p.offsetOutputAxes) != xs.Rank()-1 || os.Rank() != batch+xs.Rank()-1 {
		return nil, false
	}
	for i, ax := range p.offsetOutputAxes { // operand axes before a, then those after the batch axes
		want := i
		if i >= a {
			want = i + batch
		}
		if ax != want {
			return nil, false
		}
	}
	x, _ := bufFlat(inputs[0]).([]float32)
	if len(x) < xs.Size() {
		return nil, false
	}
	nIdx, dimA := is.Size(), xs.Dimensions[a]
	src := make([]int, nIdx) // the slice each index takes; out-of-range starts clamped, as in XLA
	switch idx := bufFlat(inputs[1]).(type) {
	case []int32:
		for k := range src {
			src[k] = min(max(int(idx[k]), 0), dimA-1)
		}
	case []int64:
		for k := range src {
			src[k] = min(max(int(idx[k]), 0), dimA-1)
		}
	default:
		return nil, false
	}
	outer, inner := aroundAxis(xs.Dimensions, a)
	out := getBufferForShape(b, os)
	dst := bufFlat(out).([]float32)[:os.Size()]
	if len(dst) == 0 {
		return out, true
	}
	rows := outer * nIdx
	size, count := chunking(rows*inner, inner)
	parallel.For(count, func(c int) {
		r0, r1 := c*size/inner, min(rows, (c+1)*size/inner)
		o, k := r0/nIdx, r0%nIdx
		if inner == 1 { // single floats (reversed kernel taps)
			for r := r0; r < r1; r++ {
				dst[r] = x[o*dimA+src[k]]
				if k++; k == nIdx {
					o, k = o+1, 0
				}
			}
			return
		}
		for r := r0; r < r1; r++ {
			from := x[(o*dimA+src[k])*inner:][:inner]
			to := dst[r*inner:][:inner]
			if inner >= 16 {
				copy(to, from)
			} else { // short runs: a loop beats a copy call per run
				for j, v := range from {
					to[j] = v
				}
			}
			if k++; k == nIdx {
				o, k = o+1, 0
			}
		}
	})
	return out, true
}
