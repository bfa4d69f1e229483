package executors

import "github.com/fob-go/fob/internal/parallel"

// group is a run of adjacent output axes that every operand either spans or is broadcast
// along in the same way, merged into one axis.
type group struct {
	dim     int
	strides [2]int // per operand; 0 where the operand is broadcast along the group
}

// collapse merges the axes of out into groups. in[i][a] is operand i's size along axis a (1
// where broadcast); axes of size 1 in out vanish. At most two operands.
func collapse(out []int, in ...[]int) []group {
	var gs []group
	var prev [2]bool
	for a, d := range out {
		if d == 1 {
			continue
		}
		var bc [2]bool
		for i := range in {
			bc[i] = in[i][a] == 1
		}
		if len(gs) > 0 && bc == prev {
			gs[len(gs)-1].dim *= d
			continue
		}
		gs = append(gs, group{dim: d})
		prev = bc
		for i := range in {
			if !bc[i] {
				gs[len(gs)-1].strides[i] = 1 // marks "spans"; real strides below
			}
		}
	}
	// Contiguous strides per operand over the groups it spans, innermost first.
	for i := range in {
		s := 1
		for g := len(gs) - 1; g >= 0; g-- {
			if gs[g].strides[i] != 0 {
				gs[g].strides[i] = s
				s *= gs[g].dim
			}
		}
	}
	return gs
}

// run is a stretch of the output along the innermost group: n elements from out[o], with
// operand i at off[i] (stepping 1 along the run, or 0 where broadcast).
type run struct {
	o, n int
	off  [2]int
}

// runs calls fn for the runs covering output elements [start, end) in order.
func runs(gs []group, start, end int, fn func(r run)) {
	if len(gs) == 0 {
		if start < end {
			fn(run{o: 0, n: 1})
		}
		return
	}
	inner := gs[len(gs)-1].dim
	for pos := start; pos < end; {
		outer, i := pos/inner, pos%inner
		n := min(inner-i, end-pos)
		r := run{o: pos, n: n}
		for k := range 2 {
			r.off[k] = i * gs[len(gs)-1].strides[k]
		}
		rest := outer
		for g := len(gs) - 2; g >= 0 && rest > 0; g-- {
			idx := rest % gs[g].dim
			rest /= gs[g].dim
			r.off[0] += idx * gs[g].strides[0]
			r.off[1] += idx * gs[g].strides[1]
		}
		fn(r)
		pos += n
	}
}

// minParallel is the output size below which an op runs on one goroutine.
const minParallel = 1 << 15

// chunking splits n elements into count chunks of size elements (the last may be shorter), at
// least minParallel each and a multiple of align. It depends on n and align only, so results
// that combine per-chunk partials are the same on every machine.
func chunking(n, align int) (size, count int) {
	size = max(minParallel, (n+15)/16)
	size = (size + align - 1) / align * align
	return size, (n + size - 1) / size
}

// forChunks runs fn over [0, n) in chunks, in parallel when n is large.
func forChunks(n int, fn func(start, end int)) {
	size, count := chunking(n, 1)
	parallel.For(count, func(c int) { fn(c*size, min(n, (c+1)*size)) })
}

// aroundAxis returns the products of the dimensions before and after axis: the tensor seen as
// [outer, dims[axis], inner].
func aroundAxis(dims []int, axis int) (outer, inner int) {
	outer, inner = 1, 1
	for i, d := range dims {
		if i < axis {
			outer *= d
		} else if i > axis {
			inner *= d
		}
	}
	return outer, inner
}
