//go:build amd64

#include "textflag.h"

// Sliding-window kernels over a prepared (padded, column-phase-split)
// plane; see depthwise32.go. Every output element is
//
//	o[oy·ostride + ox] = f over taps t of x[oy·xstep + ox + offs[t]]
//
// (strides in bytes, offs in bytes), computed 32, then 8 columns at a
// time, the last <8 columns with masked loads and stores.

DATA dwIota<>+0(SB)/4, $0
DATA dwIota<>+4(SB)/4, $1
DATA dwIota<>+8(SB)/4, $2
DATA dwIota<>+12(SB)/4, $3
DATA dwIota<>+16(SB)/4, $4
DATA dwIota<>+20(SB)/4, $5
DATA dwIota<>+24(SB)/4, $6
DATA dwIota<>+28(SB)/4, $7
GLOBL dwIota<>(SB), RODATA|NOPTR, $32

// func dwPlaneAVX2(o *float32, ow, oh, ostride int, x *float32, xstep int, offs *int, w *float32, ntaps int, bias float32)
//
// o = bias + Σ_t w[t]·x[.. + offs[t]]: one FMA per tap and 8 columns.
TEXT ·dwPlaneAVX2(SB), NOSPLIT, $0-76
	MOVQ         o+0(FP), DI
	MOVQ         ow+8(FP), R8
	SHLQ         $2, R8
	MOVQ         oh+16(FP), R9
	MOVQ         x+32(FP), SI
	MOVQ         offs+48(FP), R12
	MOVQ         w+56(FP), R13
	VBROADCASTSS bias+72(FP), Y15
	TESTQ        R9, R9
	JE           dwdone

dwrow:
	XORQ CX, CX

dwblk32:
	MOVQ R8, AX
	SUBQ CX, AX
	CMPQ AX, $128
	JLT  dwblk8
	VMOVAPS Y15, Y0
	VMOVAPS Y15, Y1
	VMOVAPS Y15, Y2
	VMOVAPS Y15, Y3
	MOVQ    R12, BX
	MOVQ    R13, DX
	MOVQ    ntaps+64(FP), R10

dwtap32:
	MOVQ         (BX), AX
	ADDQ         CX, AX
	ADDQ         SI, AX
	VBROADCASTSS (DX), Y4
	VFMADD231PS  (AX), Y4, Y0
	VFMADD231PS  32(AX), Y4, Y1
	VFMADD231PS  64(AX), Y4, Y2
	VFMADD231PS  96(AX), Y4, Y3
	ADDQ         $8, BX
	ADDQ         $4, DX
	DECQ         R10
	JNZ          dwtap32
	VMOVUPS      Y0, (DI)(CX*1)
	VMOVUPS      Y1, 32(DI)(CX*1)
	VMOVUPS      Y2, 64(DI)(CX*1)
	VMOVUPS      Y3, 96(DI)(CX*1)
	ADDQ         $128, CX
	JMP          dwblk32

dwblk8:
	CMPQ    AX, $32
	JLT     dwtail
	VMOVAPS Y15, Y0
	MOVQ    R12, BX
	MOVQ    R13, DX
	MOVQ    ntaps+64(FP), R10

dwtap8:
	MOVQ         (BX), AX
	ADDQ         CX, AX
	ADDQ         SI, AX
	VBROADCASTSS (DX), Y4
	VFMADD231PS  (AX), Y4, Y0
	ADDQ         $8, BX
	ADDQ         $4, DX
	DECQ         R10
	JNZ          dwtap8
	VMOVUPS      Y0, (DI)(CX*1)
	ADDQ         $32, CX
	MOVQ         R8, AX
	SUBQ         CX, AX
	JMP          dwblk8

dwtail:
	TESTQ        AX, AX
	JE           dwrowdone
	SHRQ         $2, AX
	MOVQ         AX, X6
	VPBROADCASTD X6, Y6
	VPCMPGTD     dwIota<>(SB), Y6, Y6
	VMOVAPS      Y15, Y0
	MOVQ         R12, BX
	MOVQ         R13, DX
	MOVQ         ntaps+64(FP), R10

dwtapt:
	MOVQ         (BX), AX
	ADDQ         CX, AX
	ADDQ         SI, AX
	VBROADCASTSS (DX), Y4
	VMASKMOVPS   (AX), Y6, Y5
	VFMADD231PS  Y5, Y4, Y0
	ADDQ         $8, BX
	ADDQ         $4, DX
	DECQ         R10
	JNZ          dwtapt
	LEAQ         (DI)(CX*1), AX
	VMASKMOVPS   Y0, Y6, (AX)

dwrowdone:
	ADDQ ostride+24(FP), DI
	ADDQ xstep+40(FP), SI
	DECQ R9
	JNZ  dwrow

dwdone:
	VZEROUPPER
	RET

// func maxPlaneAVX2(o *float32, ow, oh, ostride int, x *float32, xstep int, offs *int, ntaps int)
//
// o = the first tap's value, then each later tap v replaces it when
// v > o (VMAXPS with v first: a NaN o stays, a NaN v is skipped).
TEXT ·maxPlaneAVX2(SB), NOSPLIT, $0-64
	MOVQ  o+0(FP), DI
	MOVQ  ow+8(FP), R8
	SHLQ  $2, R8
	MOVQ  oh+16(FP), R9
	MOVQ  x+32(FP), SI
	MOVQ  offs+48(FP), R12
	MOVQ  ntaps+56(FP), R13
	DECQ  R13
	TESTQ R9, R9
	JE    mxdone

mxrow:
	XORQ CX, CX

mxblk32:
	MOVQ    R8, AX
	SUBQ    CX, AX
	CMPQ    AX, $128
	JLT     mxblk8
	MOVQ    R12, BX
	MOVQ    (BX), AX
	ADDQ    CX, AX
	ADDQ    SI, AX
	VMOVUPS (AX), Y0
	VMOVUPS 32(AX), Y1
	VMOVUPS 64(AX), Y2
	VMOVUPS 96(AX), Y3
	MOVQ    R13, R10
	TESTQ   R10, R10
	JE      mxstore32

mxtap32:
	ADDQ    $8, BX
	MOVQ    (BX), AX
	ADDQ    CX, AX
	ADDQ    SI, AX
	VMOVUPS (AX), Y4
	VMOVUPS 32(AX), Y5
	VMOVUPS 64(AX), Y6
	VMOVUPS 96(AX), Y7
	VMAXPS  Y0, Y4, Y0
	VMAXPS  Y1, Y5, Y1
	VMAXPS  Y2, Y6, Y2
	VMAXPS  Y3, Y7, Y3
	DECQ    R10
	JNZ     mxtap32

mxstore32:
	VMOVUPS Y0, (DI)(CX*1)
	VMOVUPS Y1, 32(DI)(CX*1)
	VMOVUPS Y2, 64(DI)(CX*1)
	VMOVUPS Y3, 96(DI)(CX*1)
	ADDQ    $128, CX
	JMP     mxblk32

mxblk8:
	CMPQ    AX, $32
	JLT     mxtail
	MOVQ    R12, BX
	MOVQ    (BX), AX
	ADDQ    CX, AX
	ADDQ    SI, AX
	VMOVUPS (AX), Y0
	MOVQ    R13, R10
	TESTQ   R10, R10
	JE      mxstore8

mxtap8:
	ADDQ    $8, BX
	MOVQ    (BX), AX
	ADDQ    CX, AX
	ADDQ    SI, AX
	VMOVUPS (AX), Y4
	VMAXPS  Y0, Y4, Y0
	DECQ    R10
	JNZ     mxtap8

mxstore8:
	VMOVUPS Y0, (DI)(CX*1)
	ADDQ    $32, CX
	MOVQ    R8, AX
	SUBQ    CX, AX
	JMP     mxblk8

mxtail:
	TESTQ        AX, AX
	JE           mxrowdone
	SHRQ         $2, AX
	MOVQ         AX, X6
	VPBROADCASTD X6, Y6
	VPCMPGTD     dwIota<>(SB), Y6, Y6
	MOVQ         R12, BX
	MOVQ         (BX), AX
	ADDQ         CX, AX
	ADDQ         SI, AX
	VMASKMOVPS   (AX), Y6, Y0
	MOVQ         R13, R10
	TESTQ        R10, R10
	JE           mxstoret

mxtapt:
	ADDQ       $8, BX
	MOVQ       (BX), AX
	ADDQ       CX, AX
	ADDQ       SI, AX
	VMASKMOVPS (AX), Y6, Y4
	VMAXPS     Y0, Y4, Y0
	DECQ       R10
	JNZ        mxtapt

mxstoret:
	LEAQ       (DI)(CX*1), AX
	VMASKMOVPS Y0, Y6, (AX)

mxrowdone:
	ADDQ ostride+24(FP), DI
	ADDQ xstep+40(FP), SI
	DECQ R9
	JNZ  mxrow

mxdone:
	VZEROUPPER
	RET

// func scaleShiftAVX2(o, x []float32, a, b float32)
//
// o[i] = x[i]·a + b (one FMA) for the first len(o)&^7 elements.
TEXT ·scaleShiftAVX2(SB), NOSPLIT, $0-56
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	VBROADCASTSS a+48(FP), Y14
	VBROADCASTSS b+52(FP), Y15
	SHRQ         $3, CX
	JE           ssdone

ss32:
	CMPQ        CX, $4
	JLT         ss8
	VMOVAPS     Y15, Y0
	VMOVAPS     Y15, Y1
	VMOVAPS     Y15, Y2
	VMOVAPS     Y15, Y3
	VFMADD231PS (SI), Y14, Y0
	VFMADD231PS 32(SI), Y14, Y1
	VFMADD231PS 64(SI), Y14, Y2
	VFMADD231PS 96(SI), Y14, Y3
	VMOVUPS     Y0, (DI)
	VMOVUPS     Y1, 32(DI)
	VMOVUPS     Y2, 64(DI)
	VMOVUPS     Y3, 96(DI)
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $4, CX
	JMP         ss32

ss8:
	TESTQ       CX, CX
	JE          ssdone
	VMOVAPS     Y15, Y0
	VFMADD231PS (SI), Y14, Y0
	VMOVUPS     Y0, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	DECQ        CX
	JMP         ss8

ssdone:
	VZEROUPPER
	RET

// func gather2RowsAVX2(dst *float32, dstep int, src *float32, sstep, rows, n int)
//
// For each of rows rows (strides dstep and sstep, in bytes): dst[i] =
// src[2i] for i < n (n ≥ 1), reading 2n−1 source floats: the last group
// of ≤ 8 values uses masked loads and a masked store.
TEXT ·gather2RowsAVX2(SB), NOSPLIT, $0-48
	MOVQ n+40(FP), AX
	DECQ AX
	MOVQ AX, R8
	SHRQ $3, R8 // full groups per row
	MOVQ R8, BX
	SHLQ $3, BX
	MOVQ n+40(FP), AX
	SUBQ BX, AX // 1 ≤ tail ≤ 8
	MOVQ         AX, X7
	VPBROADCASTD X7, Y7
	VPCMPGTD     dwIota<>(SB), Y7, Y7 // store mask: lane < tail
	LEAQ         -1(AX)(AX*1), AX
	MOVQ         AX, X5
	VPBROADCASTD X5, Y5
	VPCMPGTD     dwIota<>(SB), Y5, Y4 // first half: lane < 2·tail−1
	SUBQ         $8, AX
	MOVQ         AX, X6
	VPBROADCASTD X6, Y6
	VPCMPGTD     dwIota<>(SB), Y6, Y6 // second half: lane < 2·tail−9
	MOVQ         dst+0(FP), R9
	MOVQ         src+16(FP), R10
	MOVQ         rows+32(FP), DX
	TESTQ        DX, DX
	JE           g2done

g2row:
	MOVQ R9, DI
	MOVQ R10, SI
	MOVQ R8, CX
	TESTQ CX, CX
	JE    g2tail

g2loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VPERMPD $0xD8, Y2, Y2
	VMOVUPS Y2, (DI)
	ADDQ    $64, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     g2loop

g2tail:
	VMASKMOVPS (SI), Y4, Y0
	VMASKMOVPS 32(SI), Y6, Y1
	VSHUFPS    $0x88, Y1, Y0, Y2
	VPERMPD    $0xD8, Y2, Y2
	VMASKMOVPS Y2, Y7, (DI)
	ADDQ       dstep+8(FP), R9
	ADDQ       sstep+24(FP), R10
	DECQ       DX
	JNZ        g2row

g2done:
	VZEROUPPER
	RET
