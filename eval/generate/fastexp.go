package generate

import "math"

// Constants of exp32: x = k·ln2 + r with ln2 split in two for an exact k·ln2hi.
const (
	expLog2e = 1.44269504088896341
	expLn2hi = 0.693359375
	expLn2lo = -2.12194440e-4
	expMin   = -87.3 // e^x underflows float32 below this
	expMax   = 88.7
	expP0    = 1.9875691500e-4
	expP1    = 1.3981999507e-3
	expP2    = 8.3334519073e-3
	expP3    = 4.1665795894e-2
	expP4    = 1.6666665459e-1
	expP5    = 5.0000001201e-1
)

// exp32 is e^x in float32 precision (relative error under one float32 ulp, see TestExp32),
// faster than math.Exp: x = k·ln2 + r with |r| ≤ ln2/2, e^r by a degree-7 polynomial
// (1 + r + r²·p(r), p of degree 5 fitted on that interval), scaled by 2^k through the
// exponent bits.
func exp32(x float32) float32 {
	if x < expMin {
		return 0
	}
	if x > expMax {
		return float32(math.Inf(1))
	}
	t := x * expLog2e
	var k int32
	if t < 0 {
		k = int32(t - 0.5)
	} else {
		k = int32(t + 0.5)
	}
	n := float32(k)
	r := x - n*expLn2hi - n*expLn2lo
	p := float32(expP0)
	p = p*r + expP1
	p = p*r + expP2
	p = p*r + expP3
	p = p*r + expP4
	p = p*r + expP5
	y := p*r*r + r + 1
	return y * math.Float32frombits(uint32(k+127)<<23)
}

// sumExpShifted returns Σ e^(x[i]-m) for m ≥ every x[i] (so every exponent is ≤ 0), with
// exp32's arithmetic, four elements at a time so that their polynomial chains overlap.
func sumExpShifted(x []float32, m float32) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a0, a1, a2, a3 := x[i]-m, x[i+1]-m, x[i+2]-m, x[i+3]-m
		a0, a1, a2, a3 = max(a0, expMin), max(a1, expMin), max(a2, expMin), max(a3, expMin)
		k0, k1, k2, k3 := int32(a0*expLog2e-0.5), int32(a1*expLog2e-0.5), int32(a2*expLog2e-0.5), int32(a3*expLog2e-0.5)
		n0, n1, n2, n3 := float32(k0), float32(k1), float32(k2), float32(k3)
		r0, r1, r2, r3 := a0-n0*expLn2hi-n0*expLn2lo, a1-n1*expLn2hi-n1*expLn2lo, a2-n2*expLn2hi-n2*expLn2lo, a3-n3*expLn2hi-n3*expLn2lo
		p0, p1, p2, p3 := expP0*r0+expP1, expP0*r1+expP1, expP0*r2+expP1, expP0*r3+expP1
		p0, p1, p2, p3 = p0*r0+expP2, p1*r1+expP2, p2*r2+expP2, p3*r3+expP2
		p0, p1, p2, p3 = p0*r0+expP3, p1*r1+expP3, p2*r2+expP3, p3*r3+expP3
		p0, p1, p2, p3 = p0*r0+expP4, p1*r1+expP4, p2*r2+expP4, p3*r3+expP4
		p0, p1, p2, p3 = p0*r0+expP5, p1*r1+expP5, p2*r2+expP5, p3*r3+expP5
		y0, y1, y2, y3 := p0*r0*r0+r0+1, p1*r1*r1+r1+1, p2*r2*r2+r2+1, p3*r3*r3+r3+1
		s0 += float64(y0 * math.Float32frombits(uint32(k0+127)<<23))
		s1 += float64(y1 * math.Float32frombits(uint32(k1+127)<<23))
		s2 += float64(y2 * math.Float32frombits(uint32(k2+127)<<23))
		s3 += float64(y3 * math.Float32frombits(uint32(k3+127)<<23))
	}
	for ; i < len(x); i++ {
		s0 += float64(exp32(x[i] - m))
	}
	return (s0 + s1) + (s2 + s3)
}
