package data

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Normalizer is fitted on the training features and then applied to every split. Matrices are
// row-major float32 [n, d].
type Normalizer interface {
	Fit(x []float32, n, d int) error
	Transform(x []float32, n, d int) ([]float32, error)
}

// NewNormalizer returns the normalizer FOB's tabular task names by kind: "quantile"
// (QuantileTransformer with normal output and QuantileCount(nTrain) quantiles) or "standard"
// (StandardScaler).
func NewNormalizer(kind string, nTrain int) (Normalizer, error) {
	switch kind {
	case "quantile":
		return &QuantileNormalizer{NQuantiles: QuantileCount(nTrain)}, nil
	case "standard":
		return &StandardNormalizer{}, nil
	}
	return nil, fmt.Errorf("data: unknown normalizer %q (valid: quantile, standard)", kind)
}

// QuantileCount is FOB's number of quantiles for nTrain training rows:
// max(min(nTrain/30, 1000), 10).
func QuantileCount(nTrain int) int { return max(min(nTrain/30, 1000), 10) }

func checkShape(x []float32, n, d int) error {
	if n < 0 || d <= 0 || len(x) != n*d {
		return fmt.Errorf("data: matrix of %d values is not %d×%d", len(x), n, d)
	}
	return nil
}

// boundsThreshold is scikit-learn's BOUNDS_THRESHOLD: inputs this close to the extreme
// quantiles map to the clipped tails.
const boundsThreshold = 1e-7

var (
	// The output clip keeps the transform finite, at norm.ppf(1e-7 - eps) and its mirror image,
	// as scikit-learn does.
	quantileClipMin = normPPF(boundsThreshold - 0x1p-52)
	quantileClipMax = normPPF(1 - (boundsThreshold - 0x1p-52))
)

// QuantileNormalizer maps each feature through its empirical CDF to a standard normal,
// reproducing scikit-learn's QuantileTransformer(output_distribution="normal") on float32 input
// without subsampling (FOB sets subsample=1e9): quantiles by numpy's linear percentile at
// np.linspace(0, 1, NQuantiles) (capped at the number of rows), made monotone; values
// interpolated forward and backward through the quantiles and averaged (so ties map to the
// middle of their range), inputs within 1e-7 of the extremes sent to the tails, then the normal
// quantile function, clipped to ±5.1993.
type QuantileNormalizer struct {
	// NQuantiles is the requested number of quantiles.
	NQuantiles int
	// References are the probabilities of the quantiles (after Fit).
	References []float64
	// Quantiles holds per feature the values at References (after Fit).
	Quantiles [][]float64
}

// Fit computes the quantiles of each feature of x [n, d].
func (q *QuantileNormalizer) Fit(x []float32, n, d int) error {
	if err := checkShape(x, n, d); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("data: quantile normalizer fitted on no rows")
	}
	if q.NQuantiles <= 0 {
		return fmt.Errorf("data: quantile normalizer needs NQuantiles > 0")
	}
	nq := max(1, min(q.NQuantiles, n))
	refs := make([]float64, nq)
	if nq > 1 {
		// np.linspace(0, 1, nq): i * (1/(nq-1)), the last pinned to 1.
		step := 1.0 / float64(nq-1)
		for i := range refs {
			refs[i] = float64(i) * step
		}
		refs[nq-1] = 1
	}
	q.References = refs
	q.Quantiles = make([][]float64, d)
	col := make([]float32, n)
	for j := range d {
		for i := range n {
			v := x[i*d+j]
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("data: quantile normalizer: non-finite value at row %d feature %d", i, j)
			}
			col[i] = v
		}
		slices.Sort(col)
		qs := make([]float64, nq)
		for k, r := range refs {
			// nanpercentile(col, r*100) divides by 100 again before taking the quantile.
			qs[k] = linearQuantile(col, r*100/100)
			if k > 0 && qs[k] < qs[k-1] { // np.maximum.accumulate
				qs[k] = qs[k-1]
			}
		}
		q.Quantiles[j] = qs
	}
	return nil
}

// linearQuantile is numpy's "linear" quantile of sorted float32 data, including its
// arithmetic: the neighbour difference is taken in float32, the interpolation in float64 from
// the nearer end.
func linearQuantile(sorted []float32, p float64) float64 {
	n := len(sorted)
	virtual := float64(n-1) * p
	if virtual >= float64(n-1) {
		return float64(sorted[n-1])
	}
	if virtual < 0 {
		return float64(sorted[0])
	}
	prev := math.Floor(virtual)
	gamma := virtual - prev
	a, b := sorted[int(prev)], sorted[int(prev)+1]
	diff := float64(b - a)
	if gamma >= 0.5 {
		return float64(b) - diff*(1-gamma)
	}
	return float64(a) + diff*gamma
}

// Transform maps x [n, d] (any rows) through the fitted quantiles into a new matrix.
func (q *QuantileNormalizer) Transform(x []float32, n, d int) ([]float32, error) {
	if err := checkShape(x, n, d); err != nil {
		return nil, err
	}
	if len(q.Quantiles) != d {
		return nil, fmt.Errorf("data: quantile normalizer fitted on %d features, given %d", len(q.Quantiles), d)
	}
	out := make([]float32, len(x))
	nq := len(q.References)
	negRefs := make([]float64, nq)
	for k := range nq {
		negRefs[k] = -q.References[nq-1-k]
	}
	negQs := make([]float64, nq)
	for j := range d {
		qs := q.Quantiles[j]
		for k := range nq {
			negQs[k] = -qs[nq-1-k]
		}
		lo, hi := qs[0], qs[nq-1]
		for i := range n {
			v := x[i*d+j]
			if math.IsNaN(float64(v)) {
				out[i*d+j] = v // scikit-learn passes NaN through
				continue
			}
			xv := float64(v)
			// The bound tests run in the input's float32 arithmetic, as numpy evaluates them.
			below := float64(v-float32(boundsThreshold)) < lo
			above := float64(v+float32(boundsThreshold)) > hi
			p := float32(0.5 * (npInterp(xv, qs, q.References) - npInterp(-xv, negQs, negRefs)))
			if above {
				p = 1
			}
			if below {
				p = 0
			}
			z := normPPF(float64(p))
			z = min(max(z, quantileClipMin), quantileClipMax)
			out[i*d+j] = float32(z)
		}
	}
	return out, nil
}

// npInterp is numpy.interp for increasing xp (ties allowed): below/above the range it returns
// the end values; otherwise it interpolates from the last xp[j] <= x.
func npInterp(x float64, xp, fp []float64) float64 {
	n := len(xp)
	if x < xp[0] {
		return fp[0]
	}
	if x > xp[n-1] {
		return fp[n-1]
	}
	j := sort.Search(n, func(i int) bool { return xp[i] > x }) - 1
	if j == n-1 || xp[j] == x {
		return fp[j]
	}
	slope := (fp[j+1] - fp[j]) / (xp[j+1] - xp[j])
	return slope*(x-xp[j]) + fp[j]
}

// normPPF is the standard normal quantile function (scipy.stats.norm.ppf).
func normPPF(p float64) float64 {
	switch {
	case p <= 0:
		return math.Inf(-1)
	case p >= 1:
		return math.Inf(1)
	case p < 0.5:
		return -math.Sqrt2 * math.Erfcinv(2*p)
	}
	return math.Sqrt2 * math.Erfcinv(2*(1-p))
}

// StandardNormalizer is scikit-learn's StandardScaler: subtract the mean and divide by the
// population standard deviation, both accumulated in float64; a constant feature keeps scale 1.
type StandardNormalizer struct {
	Mean, Scale []float64
}

// Fit computes the per-feature mean and standard deviation of x [n, d].
func (s *StandardNormalizer) Fit(x []float32, n, d int) error {
	if err := checkShape(x, n, d); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("data: standard normalizer fitted on no rows")
	}
	s.Mean, s.Scale = make([]float64, d), make([]float64, d)
	for j := range d {
		var sum float64
		for i := range n {
			sum += float64(x[i*d+j])
		}
		mean := sum / float64(n)
		// Two-pass variance with scikit-learn's correction term for rounding.
		var ss, corr float64
		for i := range n {
			t := float64(x[i*d+j]) - mean
			corr += t
			ss += t * t
		}
		variance := (ss - corr*corr/float64(n)) / float64(n)
		const eps = 0x1p-52
		nf := float64(n)
		scale := math.Sqrt(variance)
		if variance <= nf*eps*variance+(nf*mean*eps)*(nf*mean*eps) {
			scale = 1 // constant feature
		}
		s.Mean[j], s.Scale[j] = mean, scale
	}
	return nil
}

// Transform standardizes x [n, d] into a new matrix.
func (s *StandardNormalizer) Transform(x []float32, n, d int) ([]float32, error) {
	if err := checkShape(x, n, d); err != nil {
		return nil, err
	}
	if len(s.Mean) != d {
		return nil, fmt.Errorf("data: standard normalizer fitted on %d features, given %d", len(s.Mean), d)
	}
	out := make([]float32, len(x))
	for i := range n {
		for j := range d {
			// In place on a float32 copy, numpy rounds after each step.
			t := float32(float64(x[i*d+j]) - s.Mean[j])
			out[i*d+j] = float32(float64(t) / s.Scale[j])
		}
	}
	return out, nil
}

// AddFitNoise returns a copy of x [n, d] plus Gaussian noise with per-feature standard deviation
// noise / max(std_j, noise), std_j the feature's population standard deviation: FOB's
// train_transforms.noise, added only to the data the normalizer is fitted on. The noise is
// deterministic per seed (its own generator, not numpy's, so values differ from FOB's).
func AddFitNoise(x []float32, n, d int, noise float64, seed int64) ([]float32, error) {
	if err := checkShape(x, n, d); err != nil {
		return nil, err
	}
	out := slices.Clone(x)
	if noise <= 0 || n == 0 {
		return out, nil
	}
	sigma := make([]float64, d)
	for j := range d {
		var sum float64
		for i := range n {
			sum += float64(x[i*d+j])
		}
		mean := sum / float64(n)
		var ss float64
		for i := range n {
			t := float64(x[i*d+j]) - mean
			ss += t * t
		}
		sigma[j] = noise / math.Max(math.Sqrt(ss/float64(n)), noise)
	}
	g := newGaussian(seed, streamNoise)
	for i := range out {
		out[i] += float32(g.next() * sigma[i%d])
	}
	return out, nil
}
