//go:build amd64

#include "textflag.h"

// func transpose32AVX2(dst *uint32, dstStride int, src *uint32, srcStride int, nb8, na8 int)
//
// Transposes an (8·nb8)×(8·na8) block of 4-byte elements, 8×8 at a time in
// registers: dst[a][b] = src[b][a], row strides in elements.
TEXT ·transpose32AVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), R9
	MOVQ nb8+32(FP), R10
	MOVQ na8+40(FP), R11
	SHLQ $2, R8                 // strides in bytes
	SHLQ $2, R9
	TESTQ R10, R10
	JZ   tr_done
	TESTQ R11, R11
	JZ   tr_done
	LEAQ (R9)(R9*2), R12        // 3·srcStride
	LEAQ (R8)(R8*2), R13        // 3·dstStride

tr_brow:
	// One band of 8 source rows: SI walks along it, DI down the destination.
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ R11, CX

tr_block:
	MOVQ    AX, DX
	VMOVUPS (DX), Y0
	VMOVUPS (DX)(R9*1), Y1
	VMOVUPS (DX)(R9*2), Y2
	VMOVUPS (DX)(R12*1), Y3
	LEAQ    (DX)(R9*4), DX
	VMOVUPS (DX), Y4
	VMOVUPS (DX)(R9*1), Y5
	VMOVUPS (DX)(R9*2), Y6
	VMOVUPS (DX)(R12*1), Y7

	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15

	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7

	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15

	MOVQ    BX, DX
	VMOVUPS Y8, (DX)
	VMOVUPS Y9, (DX)(R8*1)
	VMOVUPS Y10, (DX)(R8*2)
	VMOVUPS Y11, (DX)(R13*1)
	LEAQ    (DX)(R8*4), DX
	VMOVUPS Y12, (DX)
	VMOVUPS Y13, (DX)(R8*1)
	VMOVUPS Y14, (DX)(R8*2)
	VMOVUPS Y15, (DX)(R13*1)

	ADDQ $32, AX                // next 8 source columns
	LEAQ (BX)(R8*8), BX         // next 8 destination rows
	DECQ CX
	JNZ  tr_block

	LEAQ (SI)(R9*8), SI         // next 8 source rows
	ADDQ $32, DI                // next 8 destination columns
	DECQ R10
	JNZ  tr_brow

tr_done:
	VZEROUPPER
	RET
