#include "textflag.h"

// func gatherPieceAVX2(dst *float32, dstep int, src *float32, offs *int, rows, n int)
//
// For r in [0, rows): copies n (>= 8) float32s from src + 4·offs[r] to
// dst + r·dstep (dstep in bytes): one piece of an im2col strip, down its
// rows. Moves of 8 floats; a piece whose width is no multiple of 8 ends
// with a move of its last 8 (overlapping the one before, inside the
// piece).
TEXT ·gatherPieceAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ dstep+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ offs+24(FP), DX
	MOVQ rows+32(FP), CX
	MOVQ n+40(FP), BX
	TESTQ CX, CX
	JEQ  done
	CMPQ BX, $16
	JEQ  n16
	CMPQ BX, $32
	JEQ  n32
	CMPQ BX, $8
	JEQ  n8
	MOVQ BX, R9
	SHLQ $2, R9
	SUBQ $32, R9 // byte offset of the last move

gen:
	MOVQ (DX), AX
	LEAQ (SI)(AX*4), AX
	XORQ R10, R10

genloop:
	CMPQ R10, R9
	JGE  gentail
	VMOVUPS (AX)(R10*1), Y0
	VMOVUPS Y0, (DI)(R10*1)
	ADDQ $32, R10
	JMP  genloop

gentail:
	VMOVUPS (AX)(R9*1), Y0
	VMOVUPS Y0, (DI)(R9*1)
	ADDQ R8, DI
	ADDQ $8, DX
	DECQ CX
	JNE  gen
	JMP  done

n8:
	MOVQ    (DX), AX
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS Y0, (DI)
	ADDQ    R8, DI
	ADDQ    $8, DX
	DECQ    CX
	JNE     n8
	JMP     done

n16:
	MOVQ    (DX), AX
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    R8, DI
	ADDQ    $8, DX
	DECQ    CX
	JNE     n16
	JMP     done

n32:
	MOVQ    (DX), AX
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VMOVUPS 64(SI)(AX*4), Y2
	VMOVUPS 96(SI)(AX*4), Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    R8, DI
	ADDQ    $8, DX
	DECQ    CX
	JNE     n32

done:
	VZEROUPPER
	RET
