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
