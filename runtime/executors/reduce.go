package executors

import (
	"math"

	"github.com/fob-go/fob/internal/parallel"

	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// reduceKind is a float32 reduction.
type reduceKind int

const (
	reduceSum reduceKind = iota
	reduceMax
)

// rgroup is a run of adjacent input axes that are all reduced or all kept, merged.
type rgroup struct {
	dim, outStride int // outStride: 0 for reduced groups
}

// reduction returns the executor of a float32 reduction over any axes. The input is split into
// fixed chunks (parallel for large inputs), each reduced in float64 into its own partial output
// along runs of the innermost merged axis group; the partials are then combined in chunk order,
// so the result does not depend on the number of goroutines.
func reduction(kind reduceKind) fastFn {
	return func(b *simplego.Backend, n *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, bool) {
		os := nodeShape(n)
		axes, ok := nodeData(n).([]int)
		if os.DType != dtypes.Float32 || len(inputs) != 1 || !ok || len(axes) == 0 {
			return nil, false
		}
		is := bufShape(inputs[0])
		x, _ := bufFlat(inputs[0]).([]float32)
		if is.DType != dtypes.Float32 || len(x) < is.Size() {
			return nil, false
		}
		x = x[:is.Size()]
		reduced := make([]bool, is.Rank())
		for _, a := range axes {
			if a < 0 || a >= is.Rank() {
				return nil, false
			}
			reduced[a] = true
		}
		var gs []rgroup
		var gRed []bool
		for a, d := range is.Dimensions {
			if d == 1 {
				continue
			}
			if len(gs) > 0 && gRed[len(gRed)-1] == reduced[a] {
				gs[len(gs)-1].dim *= d
				continue
			}
			gs = append(gs, rgroup{dim: d})
			gRed = append(gRed, reduced[a])
		}
		outSize := os.Size()
		s := 1
		for g := len(gs) - 1; g >= 0; g-- {
			if !gRed[g] {
				gs[g].outStride = s
				s *= gs[g].dim
			}
		}
		if s != outSize {
			return nil, false
		}
		out := getBufferForShape(b, os)
		dst := bufFlat(out).([]float32)[:outSize]
		if len(gs) == 0 {
			copy(dst, x)
			return out, true
		}
		size, count := chunking(len(x), 1)
		if count*outSize > len(x) { // partials would outgrow the input: one chunk
			size, count = len(x), 1
		}
		init := 0.0
		if kind == reduceMax {
			init = math.Inf(-1)
		}
		part := make([]float64, count*outSize)
		for i := range part {
			part[i] = init
		}
		innerRed := gRed[len(gRed)-1]
		inner := gs[len(gs)-1].dim
		parallel.For(count, func(c int) {
			p := part[c*outSize : (c+1)*outSize]
			for pos, end := c*size, min(len(x), (c+1)*size); pos < end; {
				k, i := pos/inner, pos%inner
				m := min(inner-i, end-pos)
				o := 0
				for g := len(gs) - 2; g >= 0 && k > 0; g-- {
					o += (k % gs[g].dim) * gs[g].outStride
					k /= gs[g].dim
				}
				seg := x[pos : pos+m]
				switch {
				case innerRed && kind == reduceSum:
					p[o] += sum64(seg)
				case innerRed:
					p[o] = max(p[o], max64(seg))
				case kind == reduceSum:
					q := p[o+i : o+i+m]
					for j, v := range seg {
						q[j] += float64(v)
					}
				default:
					q := p[o+i : o+i+m]
					for j, v := range seg {
						q[j] = max(q[j], float64(v))
					}
				}
				pos += m
			}
		})
		for o := range dst {
			acc := part[o]
			for c := 1; c < count; c++ {
				if kind == reduceSum {
					acc += part[c*outSize+o]
				} else {
					acc = max(acc, part[c*outSize+o])
				}
			}
			dst[o] = float32(acc)
		}
		return out, true
	}
}

// sum64 adds a run in float64 with four accumulators (independent add chains).
func sum64(v []float32) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(v); i += 4 {
		s0 += float64(v[i])
		s1 += float64(v[i+1])
		s2 += float64(v[i+2])
		s3 += float64(v[i+3])
	}
	for ; i < len(v); i++ {
		s0 += float64(v[i])
	}
	return (s0 + s1) + (s2 + s3)
}

func max64(v []float32) float64 {
	m := float32(math.Inf(-1))
	for _, x := range v {
		m = max(m, x)
	}
	return float64(m)
}
