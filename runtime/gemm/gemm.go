// Package gemm speeds up float32 matrix products on GoMLX's pure-Go backend (simplego) with an
// AVX2/FMA block kernel.
//
// simplego multiplies large matrices by copying both operands into 32×32 blocks and calling a
// kernel per (lhs block, rhs block, output block) triple; its kernel is scalar Go, and it takes
// about three quarters of a training step of fob's larger models. Install replaces, for float32:
//   - the kernel: the rhs blocks are transposed once per product, then each block product runs
//     as broadcast-and-FMA over eight 8-lane accumulators (Go assembly);
//   - the copy of the operands into blocks, for the layouts products almost always have
//     ([batch, rows, contracting] or its transpose): row copies and tile transposes instead of
//     simplego's element-by-element index walk. Other layouts keep simplego's copy.
//
// The blocking, the parallelism and the order in which contracting blocks are added stay
// simplego's, so results are deterministic; they differ from the scalar kernel's only by rounding
// (FMA, another summation order within a block).
package gemm

// Dim is the block side the kernel handles (simplego's float32 default).
const Dim = 32

// BlockSize is the number of elements of a block.
const BlockSize = Dim * Dim

// Available reports whether this CPU runs the kernel (amd64 with AVX2 and FMA).
func Available() bool { return hasKernel }

// block32Go is the portable reference of block32: out += lhs · rhsTᵀᵀ, i.e.
// out[i][j] += Σ_k lhs[i][k] · rhsT[k][j], all 32×32 row-major.
func block32Go(out, lhs, rhsT []float32) {
	for i := 0; i < Dim; i++ {
		o := out[i*Dim : (i+1)*Dim]
		for k := 0; k < Dim; k++ {
			a := lhs[i*Dim+k]
			r := rhsT[k*Dim : (k+1)*Dim]
			for j := range o {
				o[j] += a * r[j]
			}
		}
	}
}

// transposeBlocks writes each 32×32 block of src, transposed, to dst.
func transposeBlocks(dst, src []float32) {
	for b := 0; b+BlockSize <= len(src); b += BlockSize {
		s, d := src[b:b+BlockSize], dst[b:b+BlockSize]
		for r := 0; r < Dim; r++ {
			row := s[r*Dim : (r+1)*Dim]
			for c, v := range row {
				d[c*Dim+r] = v
			}
		}
	}
}
