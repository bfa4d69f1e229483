package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// nchwConv returns a stride-1 2-D convolution of x [n][c][h][w] with kernel [m][c][kh][kw]
// and low pads lo (high pads making the output oh × ow), in GoMLX's usual layouts, with
// random input and kernel.
func nchwConv(rng *rand.Rand, n, c, h, w, m, kh, kw int, lo [2]int, oh, ow int) *conv {
	cv := &conv{k: 2, n: n, c: c, m: m, groups: 1, cg: c, mg: m,
		xsN: c * h * w, xsC: h * w, xsS: []int{w, 1}, xDim: []int{h, w}, inDil: []int{1, 1},
		wsM: c * kh * kw, wsC: kh * kw, wsS: []int{kw, 1}, kDim: []int{kh, kw},
		osN: m * oh * ow, osM: oh * ow, osS: []int{ow, 1}, oDim: []int{oh, ow},
		stride: []int{1, 1}, kDil: []int{1, 1}, lo: lo[:]}
	cv.x, cv.w, cv.out = randSlice(rng, n*c*h*w), randSlice(rng, m*c*kh*kw), make([]float32, n*m*oh*ow)
	cv.blocks()
	return cv
}

// kernelGradConv returns the convolution GoMLX builds for the kernel gradient of a stride-1
// convolution of x [n][c][h][w] whose output gradient is dy [n][m][oh][ow], for a kh × kw
// kernel with low pads lo: input channels as the batch, images as the channels, dy as the
// kernel; the result [c][m][kh][kw].
func kernelGradConv(rng *rand.Rand, n, c, h, w, m, oh, ow, kh, kw int, lo [2]int) *conv {
	return stridedKernelGradConv(rng, n, c, h, w, m, oh, ow, kh, kw, lo, 1)
}

// stridedKernelGradConv is kernelGradConv for a forward stride s: dy dilated by s.
func stridedKernelGradConv(rng *rand.Rand, n, c, h, w, m, oh, ow, kh, kw int, lo [2]int, s int) *conv {
	cv := &conv{k: 2, n: c, c: n, m: m, groups: 1, cg: n, mg: m,
		xsN: h * w, xsC: c * h * w, xsS: []int{w, 1}, xDim: []int{h, w}, inDil: []int{1, 1},
		wsM: oh * ow, wsC: m * oh * ow, wsS: []int{ow, 1}, kDim: []int{oh, ow},
		osN: m * kh * kw, osM: kh * kw, osS: []int{kw, 1}, oDim: []int{kh, kw},
		stride: []int{1, 1}, kDil: []int{s, s}, lo: lo[:]}
	cv.x, cv.w, cv.out = randSlice(rng, n*c*h*w), randSlice(rng, n*m*oh*ow), make([]float32, c*m*kh*kw)
	cv.blocks()
	return cv
}

// naive is the convolution (without input dilation) summed in float64 straight from its
// definition.
func (c *conv) naive() []float64 {
	out := make([]float64, len(c.out))
	for b := range c.n {
		for m := range c.m {
			for oy := range c.oDim[0] {
				for ox := range c.oDim[1] {
					var s float64
					for ch := range c.c {
						for ky := range c.kDim[0] {
							iy := oy*c.stride[0] + ky*c.kDil[0] - c.lo[0]
							if iy < 0 || iy >= c.xDim[0] {
								continue
							}
							for kx := range c.kDim[1] {
								ix := ox*c.stride[1] + kx*c.kDil[1] - c.lo[1]
								if ix < 0 || ix >= c.xDim[1] {
									continue
								}
								s += float64(c.x[b*c.xsN+ch*c.xsC+iy*c.xsS[0]+ix*c.xsS[1]]) *
									float64(c.w[m*c.wsM+ch*c.wsC+ky*c.wsS[0]+kx*c.wsS[1]])
							}
						}
					}
					out[b*c.osN+m*c.osM+oy*c.osS[0]+ox*c.osS[1]] = s
				}
			}
		}
	}
	return out
}

// TestDirectConvolutions checks which convolutions take the direct kernels and that both
// (forward form and kernel-gradient form) match the definition and the block product, over
// wide and narrow rows, tails of tiles and channel blocks, asymmetric and negative pads.
func TestDirectConvolutions(t *testing.T) {
	if !useAVX512 {
		t.Skip("the direct kernels need AVX-512")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	cases := []struct {
		name           string
		c              *conv
		direct, kernel bool // which direct paths match it (run takes the first)
	}{
		{"3x3 p1, rows of 32 (ResNet layer 1)", nchwConv(rng, 2, 16, 32, 32, 16, 3, 3, [2]int{1, 1}, 32, 32), true, false},
		{"3x3 p1, rows of 16, output channels past the last block", nchwConv(rng, 3, 5, 9, 16, 13, 3, 3, [2]int{1, 1}, 9, 16), true, false},
		{"5x3, asymmetric pads", nchwConv(rng, 2, 7, 10, 20, 8, 5, 3, [2]int{2, 0}, 9, 20), true, false},
		{"3x3, negative pads (cropping)", nchwConv(rng, 1, 4, 12, 24, 8, 3, 3, [2]int{-1, -2}, 8, 20), true, false},
		{"1x1, one image, channel blocks split over workers", nchwConv(rng, 1, 9, 16, 16, 40, 1, 1, [2]int{0, 0}, 16, 16), true, false},
		{"8x8 images, four to a mosaic", nchwConv(rng, 4, 4, 8, 8, 8, 3, 3, [2]int{1, 1}, 8, 8), true, false},
		{"4x4 images, mosaics and a partial last one", nchwConv(rng, 37, 24, 4, 4, 16, 3, 3, [2]int{1, 1}, 4, 4), true, true},
		{"5x5 images, 3x2 kernel, asymmetric pads, mosaics", nchwConv(rng, 9, 6, 5, 5, 8, 3, 2, [2]int{2, 0}, 4, 6), true, false},
		{"one 4x4 image: too few positions kept", nchwConv(rng, 1, 4, 4, 4, 8, 3, 3, [2]int{1, 1}, 4, 4), false, false},
		{"kernel gradient, 32x32 images", kernelGradConv(rng, 5, 32, 32, 32, 16, 32, 32, 3, 3, [2]int{1, 1}), false, true},
		{"kernel gradient, 20 channels (lane tail), asymmetric pads", kernelGradConv(rng, 3, 20, 9, 16, 8, 9, 16, 3, 2, [2]int{1, 0}), false, true},
		{"kernel gradient, 8x8 images, 9 images in 4 groups", kernelGradConv(rng, 9, 16, 8, 8, 24, 8, 8, 3, 3, [2]int{1, 1}), false, true},
		{"kernel gradient, negative pads", kernelGradConv(rng, 2, 16, 12, 20, 8, 10, 16, 3, 5, [2]int{0, -1}), false, true},
		{"kernel gradient of a stride-2 3x3 convolution", stridedKernelGradConv(rng, 3, 16, 16, 16, 16, 8, 8, 3, 3, [2]int{1, 1}, 2), false, true},
		{"kernel gradient of a stride-2 1x1 convolution (downsample)", stridedKernelGradConv(rng, 3, 32, 16, 16, 8, 8, 8, 1, 1, [2]int{0, 0}, 2), false, true},
		{"kernel gradient of a stride-3 2x3 convolution, odd sizes", stridedKernelGradConv(rng, 2, 20, 11, 13, 8, 4, 4, 2, 3, [2]int{1, 0}, 3), false, true},
		{"kernel gradient, 12 output channels: not whole blocks", kernelGradConv(rng, 2, 16, 8, 8, 12, 8, 8, 3, 3, [2]int{1, 1}), false, false},
		{"kernel gradient, 4x4 images, 37 in uneven groups", kernelGradConv(rng, 37, 32, 4, 4, 16, 4, 4, 3, 3, [2]int{1, 1}), false, true},
		{"kernel gradient, 3 images: fewer than the groups", kernelGradConv(rng, 3, 16, 6, 6, 8, 6, 6, 3, 3, [2]int{1, 1}), false, true},
		{"kernel gradient, 8 input channels: too few lanes", kernelGradConv(rng, 2, 8, 8, 8, 8, 8, 8, 3, 3, [2]int{1, 1}), false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			if got := c.direct() != nil; got != tc.direct {
				t.Fatalf("direct() = %v, want %v", got, tc.direct)
			}
			if g := c.directPlan().images; strings.Contains(tc.name, "mosaic") && g < 2 {
				t.Fatalf("%d image per mosaic", g)
			}
			if got := c.directKernelGrad(); got != tc.kernel {
				t.Fatalf("directKernelGrad() = %v, want %v", got, tc.kernel)
			}
			want := c.naive()
			check := func(what string) {
				t.Helper()
				for i, v := range c.out {
					if math.Abs(float64(v)-want[i]) > 1e-4*(1+math.Abs(want[i])) {
						t.Fatalf("%s: out[%d] = %v, want %v", what, i, v, want[i])
					}
				}
			}
			c.run()
			check("default path")
			SetDirect(false)
			defer SetDirect(true)
			clear(c.out) // simplego hands the block product a zeroed output
			c.run()
			check("block product")
		})
	}
}

// BenchmarkDirect times the ResNet-18 CIFAR layers' 3×3 convolution at batch 128 in the
// forward form and the kernel-gradient form, on the direct kernels and on the block product
// (the kernels alone: no GoMLX graph around them).
//
//	go test -run '^$' -bench Direct -benchtime 5x ./runtime/gemm
func BenchmarkDirect(b *testing.B) {
	if !useAVX512 {
		b.Skip("the direct kernels need AVX-512")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, l := range []struct{ ch, size int }{{64, 32}, {128, 16}, {256, 8}, {512, 4}} {
		flops := 2 * float64(128*l.ch*l.ch*9*l.size*l.size)
		for _, form := range []string{"forward", "kernel-grad"} {
			var c *conv
			if form == "forward" {
				c = nchwConv(rng, 128, l.ch, l.size, l.size, l.ch, 3, 3, [2]int{1, 1}, l.size, l.size)
			} else {
				c = kernelGradConv(rng, 128, l.ch, l.size, l.size, l.ch, l.size, l.size, 3, 3, [2]int{1, 1})
			}
			for _, direct := range []bool{true, false} {
				name := fmt.Sprintf("%dx%dx%d/%s/direct", l.ch, l.size, l.size, form)
				if !direct {
					name = fmt.Sprintf("%dx%dx%d/%s/block", l.ch, l.size, l.size, form)
				}
				b.Run(name, func(b *testing.B) {
					SetDirect(direct)
					defer SetDirect(true)
					c.run()
					b.ResetTimer()
					for b.Loop() {
						c.run()
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
