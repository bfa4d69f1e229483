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

// func direct8x48AVX512(in0, in1, in2, w *float32, taps *int, ntaps, channels, plane int, out0, out1, out2 *float32, coStride int)
//
// The direct convolution's inner product: out_v[co·coStride + 0:16] = Σ_ch Σ_t w[ch][t][co] ·
// in_v[ch·plane + taps[t] + 0:16] for eight output channels co and three vectors v of 16
// positions of the padded, flattened input planes (plane, taps and coStride in bytes). Z0-Z23
// hold the 8 × 3 accumulators; per tap, three input vectors (Z24-Z26) feed 24 FMAs with the
// eight weights broadcast.
TEXT ·direct8x48AVX512(SB), NOSPLIT, $0-96
	MOVQ in0+0(FP), SI
	MOVQ in1+8(FP), DI
	MOVQ in2+16(FP), BX
	MOVQ w+24(FP), DX
	MOVQ taps+32(FP), R10
	MOVQ ntaps+40(FP), R11
	MOVQ channels+48(FP), CX
	MOVQ plane+56(FP), R12
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23

directChannel:
	MOVQ R10, R8
	MOVQ R11, R9

directTap:
	MOVQ         (R8), AX
	VMOVUPS      (SI)(AX*1), Z24
	VMOVUPS      (DI)(AX*1), Z25
	VMOVUPS      (BX)(AX*1), Z26
	VBROADCASTSS 0(DX), Z27
	VBROADCASTSS 4(DX), Z28
	VBROADCASTSS 8(DX), Z29
	VBROADCASTSS 12(DX), Z30
	VFMADD231PS  Z24, Z27, Z0
	VFMADD231PS  Z25, Z27, Z1
	VFMADD231PS  Z26, Z27, Z2
	VFMADD231PS  Z24, Z28, Z3
	VFMADD231PS  Z25, Z28, Z4
	VFMADD231PS  Z26, Z28, Z5
	VFMADD231PS  Z24, Z29, Z6
	VFMADD231PS  Z25, Z29, Z7
	VFMADD231PS  Z26, Z29, Z8
	VFMADD231PS  Z24, Z30, Z9
	VFMADD231PS  Z25, Z30, Z10
	VFMADD231PS  Z26, Z30, Z11
	VBROADCASTSS 16(DX), Z27
	VBROADCASTSS 20(DX), Z28
	VBROADCASTSS 24(DX), Z29
	VBROADCASTSS 28(DX), Z30
	VFMADD231PS  Z24, Z27, Z12
	VFMADD231PS  Z25, Z27, Z13
	VFMADD231PS  Z26, Z27, Z14
	VFMADD231PS  Z24, Z28, Z15
	VFMADD231PS  Z25, Z28, Z16
	VFMADD231PS  Z26, Z28, Z17
	VFMADD231PS  Z24, Z29, Z18
	VFMADD231PS  Z25, Z29, Z19
	VFMADD231PS  Z26, Z29, Z20
	VFMADD231PS  Z24, Z30, Z21
	VFMADD231PS  Z25, Z30, Z22
	VFMADD231PS  Z26, Z30, Z23
	ADDQ         $32, DX
	ADDQ         $8, R8
	DECQ         R9
	JNZ          directTap
	ADDQ         R12, SI
	ADDQ         R12, DI
	ADDQ         R12, BX
	DECQ         CX
	JNZ          directChannel

	MOVQ    out0+64(FP), SI
	MOVQ    out1+72(FP), DI
	MOVQ    out2+80(FP), BX
	MOVQ    coStride+88(FP), AX
	VMOVUPS Z0, (SI)
	VMOVUPS Z1, (DI)
	VMOVUPS Z2, (BX)
	ADDQ    AX, SI
	ADDQ    AX, DI
	ADDQ    AX, BX
	VMOVUPS Z3, (SI)
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, (BX)
	ADDQ    AX, SI
	ADDQ    AX, DI
	ADDQ    AX, BX
	VMOVUPS Z6, (SI)
	VMOVUPS Z7, (DI)
	VMOVUPS Z8, (BX)
	ADDQ    AX, SI
	ADDQ    AX, DI
	ADDQ    AX, BX
	VMOVUPS Z9, (SI)
	VMOVUPS Z10, (DI)
	VMOVUPS Z11, (BX)
	ADDQ    AX, SI
	ADDQ    AX, DI
	ADDQ    AX, BX
	VMOVUPS Z12, (SI)
	VMOVUPS Z13, (DI)
	VMOVUPS Z14, (BX)
	ADDQ    AX, SI
	ADDQ    AX, DI
	ADDQ    AX, BX
	VMOVUPS Z15, (SI)
	VMOVUPS Z16, (DI)
	VMOVUPS Z17, (BX)
	ADDQ    AX, SI
	ADDQ    AX, DI
	ADDQ    AX, BX
	VMOVUPS Z18, (SI)
	VMOVUPS Z19, (DI)
	VMOVUPS Z20, (BX)
	ADDQ    AX, SI
	ADDQ    AX, DI
	ADDQ    AX, BX
	VMOVUPS Z21, (SI)
	VMOVUPS Z22, (DI)
	VMOVUPS Z23, (BX)
	VZEROUPPER
	RET

// func wgrad8x32AVX512(acc *float32, accStride int, dy *float32, coStride int, xt *float32, xRow, rows, cols, rowSkip, images, dySkip, xtSkip int)
//
// The direct kernel gradient's inner product: acc[j][0:32] += Σ_img Σ_pos dy[j·coStride + pos]
// · xt[pos][0:32] for eight output channels j, over images × rows × cols positions; dy
// advances 4 bytes per position and dySkip more per image, xt xRow bytes per position, rowSkip
// more at the end of each row and xtSkip more per image (strides in bytes). Z0-Z15 hold the
// 8 × 2 accumulators; per position two xt vectors (Z16, Z17) feed 16 FMAs with the eight dy
// values broadcast (addressed from three bases: channels 0, 3 and 6).
TEXT ·wgrad8x32AVX512(SB), NOSPLIT, $0-96
	MOVQ acc+0(FP), DI
	MOVQ accStride+8(FP), DX
	MOVQ dy+16(FP), SI
	MOVQ coStride+24(FP), R10
	MOVQ xt+32(FP), R11
	MOVQ xRow+40(FP), R12
	MOVQ cols+56(FP), BX
	MOVQ rowSkip+64(FP), R14
	LEAQ (SI)(R10*2), R8
	ADDQ R10, R8
	LEAQ (R8)(R10*2), R9
	ADDQ R10, R9

	MOVQ    DI, AX
	VMOVUPS 0(AX), Z0
	VMOVUPS 64(AX), Z1
	ADDQ    DX, AX
	VMOVUPS 0(AX), Z2
	VMOVUPS 64(AX), Z3
	ADDQ    DX, AX
	VMOVUPS 0(AX), Z4
	VMOVUPS 64(AX), Z5
	ADDQ    DX, AX
	VMOVUPS 0(AX), Z6
	VMOVUPS 64(AX), Z7
	ADDQ    DX, AX
	VMOVUPS 0(AX), Z8
	VMOVUPS 64(AX), Z9
	ADDQ    DX, AX
	VMOVUPS 0(AX), Z10
	VMOVUPS 64(AX), Z11
	ADDQ    DX, AX
	VMOVUPS 0(AX), Z12
	VMOVUPS 64(AX), Z13
	ADDQ    DX, AX
	VMOVUPS 0(AX), Z14
	VMOVUPS 64(AX), Z15
	MOVQ    images+72(FP), DX

wgradImage:
	MOVQ rows+48(FP), CX

wgradRow:
	MOVQ BX, R13

wgradCol:
	VMOVUPS      0(R11), Z16
	VMOVUPS      64(R11), Z17
	VBROADCASTSS (SI), Z18
	VBROADCASTSS (SI)(R10*1), Z19
	VBROADCASTSS (SI)(R10*2), Z20
	VBROADCASTSS (R8), Z21
	VFMADD231PS  Z16, Z18, Z0
	VFMADD231PS  Z17, Z18, Z1
	VFMADD231PS  Z16, Z19, Z2
	VFMADD231PS  Z17, Z19, Z3
	VFMADD231PS  Z16, Z20, Z4
	VFMADD231PS  Z17, Z20, Z5
	VFMADD231PS  Z16, Z21, Z6
	VFMADD231PS  Z17, Z21, Z7
	VBROADCASTSS (SI)(R10*4), Z22
	VBROADCASTSS (R8)(R10*2), Z23
	VBROADCASTSS (R9), Z24
	VBROADCASTSS (R9)(R10*1), Z25
	VFMADD231PS  Z16, Z22, Z8
	VFMADD231PS  Z17, Z22, Z9
	VFMADD231PS  Z16, Z23, Z10
	VFMADD231PS  Z17, Z23, Z11
	VFMADD231PS  Z16, Z24, Z12
	VFMADD231PS  Z17, Z24, Z13
	VFMADD231PS  Z16, Z25, Z14
	VFMADD231PS  Z17, Z25, Z15
	ADDQ         $4, SI
	ADDQ         $4, R8
	ADDQ         $4, R9
	ADDQ         R12, R11
	DECQ         R13
	JNZ          wgradCol
	ADDQ         R14, R11
	DECQ         CX
	JNZ          wgradRow
	MOVQ         dySkip+80(FP), AX
	ADDQ         AX, SI
	ADDQ         AX, R8
	ADDQ         AX, R9
	ADDQ         xtSkip+88(FP), R11
	DECQ         DX
	JNZ          wgradImage

	MOVQ    accStride+8(FP), DX
	MOVQ    DI, AX
	VMOVUPS Z0, 0(AX)
	VMOVUPS Z1, 64(AX)
	ADDQ    DX, AX
	VMOVUPS Z2, 0(AX)
	VMOVUPS Z3, 64(AX)
	ADDQ    DX, AX
	VMOVUPS Z4, 0(AX)
	VMOVUPS Z5, 64(AX)
	ADDQ    DX, AX
	VMOVUPS Z6, 0(AX)
	VMOVUPS Z7, 64(AX)
	ADDQ    DX, AX
	VMOVUPS Z8, 0(AX)
	VMOVUPS Z9, 64(AX)
	ADDQ    DX, AX
	VMOVUPS Z10, 0(AX)
	VMOVUPS Z11, 64(AX)
	ADDQ    DX, AX
	VMOVUPS Z12, 0(AX)
	VMOVUPS Z13, 64(AX)
	ADDQ    DX, AX
	VMOVUPS Z14, 0(AX)
	VMOVUPS Z15, 64(AX)
	VZEROUPPER
	RET
