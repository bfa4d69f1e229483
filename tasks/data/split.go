package data

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// Random streams of the package: a PCG generator seeded with (seed, stream), one stream per
// purpose so that, e.g., the split and the batch order of one seed are independent. Shuffling
// and Gaussian draws are implemented here on top of the PCG output (whose sequence Go fixes), so
// shuffles depend only on the seed, not on the Go release (Gaussian draws also go through math
// functions that may differ in the last bit between architectures). Results are deterministic
// per seed but not the same as torch's or numpy's for that seed.
const (
	streamPerm  = 0x666f622d7065726d // "fob-perm"
	streamBatch = 0x666f622d62617463 // "fob-batc"
	streamNoise = 0x666f622d6e6f6973 // "fob-nois"
)

func newPCG(seed int64, stream uint64) *rand.PCG { return rand.NewPCG(uint64(seed), stream) }

// below returns a uniform integer in [0, n) (Lemire's multiply-and-reject method).
func below(r *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(r.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(r.Uint64(), n)
		}
	}
	return hi
}

// shuffled returns a permutation of 0..n-1 (Fisher-Yates).
func shuffled(r *rand.PCG, n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(below(r, uint64(i+1)))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// Permutation returns a random permutation of 0..n-1, fixed by seed (the same for every run and
// Go release, but not the permutation torch or numpy would draw for that seed).
func Permutation(seed int64, n int) []int {
	if n <= 0 {
		return []int{}
	}
	return shuffled(newPCG(seed, streamPerm), n)
}

// SplitIndices splits 0..n-1 at random (fixed by seed) into parts of the given sizes, as
// torch's random_split does: consecutive pieces of one permutation, each in permutation order.
// One size may be -1, meaning the rest; the sizes must add up to n.
func SplitIndices(seed int64, n int, sizes ...int) ([][]int, error) {
	sizes = slices.Clone(sizes)
	rest, sum := -1, 0
	for i, s := range sizes {
		switch {
		case s == -1 && rest < 0:
			rest = i
		case s < 0:
			return nil, fmt.Errorf("data: split sizes %v: only one may be -1 and none other negative", sizes)
		default:
			sum += s
		}
	}
	if rest >= 0 {
		if sum > n {
			return nil, fmt.Errorf("data: split sizes %v exceed the %d examples", sizes, n)
		}
		sizes[rest] = n - sum
		sum = n
	}
	if sum != n {
		return nil, fmt.Errorf("data: split sizes %v add up to %d, not the %d examples", sizes, sum, n)
	}
	perm := Permutation(seed, n)
	parts := make([][]int, len(sizes))
	off := 0
	for i, s := range sizes {
		parts[i] = perm[off : off+s : off+s]
		off += s
	}
	return parts, nil
}

// Complement returns the indices in 0..n-1 not in exclude, increasing (numpy's
// setdiff1d(arange(n), exclude)).
func Complement(n int, exclude []int64) []int {
	drop := make([]bool, n)
	for _, i := range exclude {
		if i >= 0 && i < int64(n) {
			drop[i] = true
		}
	}
	out := make([]int, 0, n)
	for i, d := range drop {
		if !d {
			out = append(out, i)
		}
	}
	return out
}

// Batches returns the example indices of each batch of one epoch over n examples: in order, or
// shuffled with a permutation derived from seed and epoch alone, so that a run resumed at an
// epoch sees the same order as the uninterrupted run. The last batch may be smaller.
func Batches(n, batchSize int, shuffle bool, seed int64, epoch int) [][]int {
	if n <= 0 {
		return nil
	}
	if batchSize <= 0 {
		batchSize = n
	}
	var order []int
	if shuffle {
		// A distinct PCG stream per epoch (odd multiplier keeps the map injective).
		order = shuffled(newPCG(seed, streamBatch^(uint64(epoch)*0x9e3779b97f4a7c15)), n)
	} else {
		order = make([]int, n)
		for i := range order {
			order[i] = i
		}
	}
	batches := make([][]int, 0, (n+batchSize-1)/batchSize)
	for lo := 0; lo < n; lo += batchSize {
		hi := min(lo+batchSize, n)
		batches = append(batches, order[lo:hi:hi])
	}
	return batches
}

// gaussian draws standard normal values (Box-Muller on PCG output).
type gaussian struct {
	r     *rand.PCG
	spare float64
	has   bool
}

func newGaussian(seed int64, stream uint64) *gaussian { return &gaussian{r: newPCG(seed, stream)} }

func (g *gaussian) next() float64 {
	if g.has {
		g.has = false
		return g.spare
	}
	// u1 in (0, 1] so the logarithm is finite; u2 in [0, 1).
	u1 := (float64(g.r.Uint64()>>11) + 1) / (1 << 53)
	u2 := float64(g.r.Uint64()>>11) / (1 << 53)
	rad := math.Sqrt(-2 * math.Log(u1))
	s, c := math.Sincos(2 * math.Pi * u2)
	g.spare, g.has = rad*s, true
	return rad * c
}
