package gemm

import "golang.org/x/sys/cpu"

// hasKernel: the assembly kernel needs AVX2 and FMA (x86-64-v3); with AVX-512F (x86-64-v4) it
// uses 16-lane registers.
var (
	hasKernel = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	useAVX512 = hasKernel && cpu.X86.HasAVX512F
)

//go:noescape
func block32AVX2(out, lhs, rhsT *float32)

//go:noescape
func block32AVX512(out, lhs, rhsT *float32)

func block32(out, lhs, rhsT []float32) {
	_, _, _ = out[BlockSize-1], lhs[BlockSize-1], rhsT[BlockSize-1]
	if useAVX512 {
		block32AVX512(&out[0], &lhs[0], &rhsT[0])
		return
	}
	block32AVX2(&out[0], &lhs[0], &rhsT[0])
}

//go:noescape
func gatherChunks(dst, src *uintptr, masks *uint32, n int)

//go:noescape
func direct8x48AVX512(in0, in1, in2, w *float32, taps *int, ntaps, channels, plane int, out0, out1, out2 *float32, coStride int)

// direct8x48 runs the direct convolution kernel (AVX-512 only) for one tile of three vectors
// of 16 positions: vector v reads the padded planes in from in[pos[v]] on and is written, for
// eight output channels, at out[opos[v] + j·coStride] (see directPlan).
func direct8x48(in []float32, pos [3]int, w []float32, p *directPlan, out []float32, opos [3]int, coStride int) {
	for v := range 3 {
		_, _ = in[pos[v]+p.reach-1], out[opos[v]+7*coStride+15]
	}
	_ = w[p.channels*len(p.tapBytes)*directCo-1]
	direct8x48AVX512(&in[pos[0]], &in[pos[1]], &in[pos[2]], &w[0], &p.tapBytes[0], len(p.tapBytes), p.channels, p.plane*4,
		&out[opos[0]], &out[opos[1]], &out[opos[2]], 4*coStride)
}

//go:noescape
func wgrad8x32AVX512(acc *float32, accStride int, dy *float32, coStride int, xt *float32, xRow, rows, cols, rowSkip, images, dySkip, xtSkip int)

// wgrad8x32 runs the direct kernel-gradient kernel (AVX-512 only): acc[j·accStride + 0:32] +=
// Σ_img Σ_pos dy[img·dyImage + j·coStride + pos] · xt[img·xtImage + pos'·xRow + 0:32] for eight
// output channels j and rows × cols positions per image, dy's consecutive, xt's rowSkip further
// apart at each row end (strides in elements).
func wgrad8x32(acc []float32, accStride int, dy []float32, coStride, dyImage int, xt []float32, xRow, rows, cols, rowSkip, xtImage, images int) {
	xtSpan := rows * (cols*xRow + rowSkip) // what one image's rows advance xt by
	_ = acc[7*accStride+31]
	_ = dy[(images-1)*dyImage+7*coStride+rows*cols-1]
	_ = xt[(images-1)*xtImage+xtSpan-rowSkip-xRow+31]
	wgrad8x32AVX512(&acc[0], 4*accStride, &dy[0], 4*coStride, &xt[0], 4*xRow, rows, cols, 4*rowSkip,
		images, 4*(dyImage-rows*cols), 4*(xtImage-xtSpan))
}
