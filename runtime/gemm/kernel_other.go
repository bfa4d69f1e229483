//go:build !amd64

package gemm

// Without the assembly kernels Install and InstallConv report ErrUnavailable, so the
// convolution code below them never runs; these keep it compiling.
var (
	hasKernel = false
	useAVX512 = false
)

func block32(out, lhs, rhsT []float32) { block32Go(out, lhs, rhsT) }

func gatherChunks(dst, src *uintptr, masks *uint32, n int) {
	panic("gemm: gatherChunks needs amd64")
}

func direct8x48(in []float32, pos [3]int, w []float32, p *directPlan, out []float32, opos [3]int, coStride int) {
	panic("gemm: direct8x48 needs amd64")
}

func wgrad8x32(acc []float32, accStride int, dy []float32, coStride, dyImage int, xt []float32, xRow, rows, cols, rowSkip, xtImage, images int) {
	panic("gemm: wgrad8x32 needs amd64")
}
