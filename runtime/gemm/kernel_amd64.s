#include "textflag.h"

// func block32AVX2(out, lhs, rhsT *float32)
//
// out[i][j] += Σ_k lhs[i][k] · rhsT[k][j] for 32×32 row-major float32 blocks. Two rows of out
// at a time live in Y0-Y7 (4 × 8 lanes each); per k, the two lhs values are broadcast (Y8, Y9)
// and row k of rhsT is loaded once (Y10-Y13) for eight FMAs.
TEXT ·block32AVX2(SB), NOSPLIT, $0-24
	MOVQ out+0(FP), DI
	MOVQ lhs+8(FP), SI
	MOVQ rhsT+16(FP), DX
	MOVQ $16, CX

rows:
	VMOVUPS 0(DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VMOVUPS 128(DI), Y4
	VMOVUPS 160(DI), Y5
	VMOVUPS 192(DI), Y6
	VMOVUPS 224(DI), Y7
	MOVQ    DX, BX
	MOVQ    SI, R8
	MOVQ    $32, R9

ks:
	VBROADCASTSS 0(R8), Y8
	VBROADCASTSS 128(R8), Y9
	VMOVUPS      0(BX), Y10
	VMOVUPS      32(BX), Y11
	VMOVUPS      64(BX), Y12
	VMOVUPS      96(BX), Y13
	VFMADD231PS  Y10, Y8, Y0
	VFMADD231PS  Y11, Y8, Y1
	VFMADD231PS  Y12, Y8, Y2
	VFMADD231PS  Y13, Y8, Y3
	VFMADD231PS  Y10, Y9, Y4
	VFMADD231PS  Y11, Y9, Y5
	VFMADD231PS  Y12, Y9, Y6
	VFMADD231PS  Y13, Y9, Y7
	ADDQ         $4, R8
	ADDQ         $128, BX
	DECQ         R9
	JNZ          ks

	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	ADDQ    $256, DI
	ADDQ    $256, SI
	DECQ    CX
	JNZ     rows
	VZEROUPPER
	RET

// func block32AVX512(out, lhs, rhsT *float32)
//
// block32AVX2 with 16-lane registers: eight rows of out at a time live in Z0-Z15 (2 × 16
// lanes each); per k, row k of rhsT is loaded once (Z16, Z17) and each row's lhs value is
// broadcast from memory into its two FMAs.
TEXT ·block32AVX512(SB), NOSPLIT, $0-24
	MOVQ out+0(FP), DI
	MOVQ lhs+8(FP), SI
	MOVQ rhsT+16(FP), DX
	MOVQ $4, CX

rows512:
	VMOVUPS 0(DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VMOVUPS 192(DI), Z3
	VMOVUPS 256(DI), Z4
	VMOVUPS 320(DI), Z5
	VMOVUPS 384(DI), Z6
	VMOVUPS 448(DI), Z7
	VMOVUPS 512(DI), Z8
	VMOVUPS 576(DI), Z9
	VMOVUPS 640(DI), Z10
	VMOVUPS 704(DI), Z11
	VMOVUPS 768(DI), Z12
	VMOVUPS 832(DI), Z13
	VMOVUPS 896(DI), Z14
	VMOVUPS 960(DI), Z15
	MOVQ    DX, BX
	MOVQ    SI, R8
	MOVQ    $32, R9

ks512:
	VMOVUPS           0(BX), Z16
	VMOVUPS           64(BX), Z17
	VBROADCASTSS      0(R8), Z18
	VBROADCASTSS      128(R8), Z19
	VBROADCASTSS      256(R8), Z20
	VBROADCASTSS      384(R8), Z21
	VFMADD231PS       Z16, Z18, Z0
	VFMADD231PS       Z17, Z18, Z1
	VFMADD231PS       Z16, Z19, Z2
	VFMADD231PS       Z17, Z19, Z3
	VFMADD231PS       Z16, Z20, Z4
	VFMADD231PS       Z17, Z20, Z5
	VFMADD231PS       Z16, Z21, Z6
	VFMADD231PS       Z17, Z21, Z7
	VBROADCASTSS      512(R8), Z22
	VBROADCASTSS      640(R8), Z23
	VBROADCASTSS      768(R8), Z24
	VBROADCASTSS      896(R8), Z25
	VFMADD231PS       Z16, Z22, Z8
	VFMADD231PS       Z17, Z22, Z9
	VFMADD231PS       Z16, Z23, Z10
	VFMADD231PS       Z17, Z23, Z11
	VFMADD231PS       Z16, Z24, Z12
	VFMADD231PS       Z17, Z24, Z13
	VFMADD231PS       Z16, Z25, Z14
	VFMADD231PS       Z17, Z25, Z15
	ADDQ              $4, R8
	ADDQ              $128, BX
	DECQ              R9
	JNZ               ks512

	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	VMOVUPS Z8, 512(DI)
	VMOVUPS Z9, 576(DI)
	VMOVUPS Z10, 640(DI)
	VMOVUPS Z11, 704(DI)
	VMOVUPS Z12, 768(DI)
	VMOVUPS Z13, 832(DI)
	VMOVUPS Z14, 896(DI)
	VMOVUPS Z15, 960(DI)
	ADDQ    $1024, DI
	ADDQ    $1024, SI
	DECQ    CX
	JNZ     rows512
	VZEROUPPER
	RET

// func gatherChunks(dst, src *uintptr, masks *uint32, n int)
//
// For each of n chunks: 16 floats are loaded from src[i] with the lanes of masks[i]'s low 16
// bits (the others read as 0, and are not accessed: they may lie outside the image), and stored
// to dst[i] in the lanes of its high 16 bits. This is the patch gathering of convolutions
// without a memmove call per row and without branches at the image borders.
TEXT ·gatherChunks(SB), NOSPLIT, $0-32
	MOVQ  dst+0(FP), DI
	MOVQ  src+8(FP), SI
	MOVQ  masks+16(FP), DX
	MOVQ  n+24(FP), CX
	TESTQ CX, CX
	JZ    gatherDone

gatherLoop:
	MOVQ      0(DI), R8
	MOVQ      0(SI), R9
	MOVL      0(DX), AX
	KMOVW     AX, K1
	SHRL      $16, AX
	KMOVW     AX, K2
	VMOVUPS.Z 0(R9), K1, Z0
	VMOVUPS   Z0, K2, 0(R8)
	ADDQ      $8, DI
	ADDQ      $8, SI
	ADDQ      $4, DX
	DECQ      CX
	JNZ       gatherLoop

gatherDone:
	VZEROUPPER
	RET
