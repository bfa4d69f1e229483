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
