//go:build amd64

#include "textflag.h"

// Depthwise convolution on small planes, vectorised across channels
// (AVX-512F); see depthwise_nhwc.go for the layout and the plan.

// func dwBlockAVX512(o, x, w, bias *float32, mask, cs, ohw, ntaps, nb, xis, ois int, plan *int)
//
// For the ≤16 channels of mask (lanes of one row of 16 floats in each
// position-major block, rows cs bytes apart), over nb images (x and o
// advancing by xis and ois bytes):
//
//	o row q = bias + Σ_t (w row t)·(x row at plan's offset of (q, t)), in tap order
//
// with bias zero when nil. The plan holds, for each group of 4 output
// positions, ntaps rows of 4 byte offsets into x (then, for the last ohw
// mod 4 positions, ntaps offsets each): four independent FMA chains share
// each weight load. Lanes outside mask are computed from whatever the
// rows hold there (the caller leaves 16 floats of slack after x and w)
// and never stored.
TEXT ·dwBlockAVX512(SB), NOSPLIT, $0-96
	MOVQ      mask+32(FP), AX
	KMOVW     AX, K7
	VPXORD    Z26, Z26, Z26
	MOVQ      bias+24(FP), AX
	TESTQ     AX, AX
	JE        nobias
	VMOVUPS.Z (AX), K7, Z26

nobias:
	MOVQ x+8(FP), BX
	MOVQ o+0(FP), R9
	MOVQ nb+64(FP), R8
	MOVQ cs+40(FP), SI

image:
	MOVQ plan+88(FP), AX
	MOVQ R9, R11
	MOVQ ohw+48(FP), R12

pos4:
	CMPQ    R12, $4
	JLT     pos1
	VMOVAPS Z26, Z0
	VMOVAPS Z26, Z1
	VMOVAPS Z26, Z2
	VMOVAPS Z26, Z3
	MOVQ    w+16(FP), DX
	MOVQ    ntaps+56(FP), CX

tap4:
	VMOVUPS     (DX), Z4
	MOVQ        (AX), DI
	MOVQ        8(AX), R13
	VFMADD231PS (BX)(DI*1), Z4, Z0
	VFMADD231PS (BX)(R13*1), Z4, Z1
	MOVQ        16(AX), DI
	MOVQ        24(AX), R13
	VFMADD231PS (BX)(DI*1), Z4, Z2
	VFMADD231PS (BX)(R13*1), Z4, Z3
	ADDQ        $32, AX
	ADDQ        SI, DX
	DECQ        CX
	JNZ         tap4
	VMOVUPS     Z0, K7, (R11)
	ADDQ        SI, R11
	VMOVUPS     Z1, K7, (R11)
	ADDQ        SI, R11
	VMOVUPS     Z2, K7, (R11)
	ADDQ        SI, R11
	VMOVUPS     Z3, K7, (R11)
	ADDQ        SI, R11
	SUBQ        $4, R12
	JMP         pos4

pos1:
	TESTQ   R12, R12
	JE      nextimage
	VMOVAPS Z26, Z0
	MOVQ    w+16(FP), DX
	MOVQ    ntaps+56(FP), CX

tap1:
	MOVQ        (AX), DI
	VMOVUPS     (DX), Z4
	VFMADD231PS (BX)(DI*1), Z4, Z0
	ADDQ        $8, AX
	ADDQ        SI, DX
	DECQ        CX
	JNZ         tap1
	VMOVUPS     Z0, K7, (R11)
	ADDQ        SI, R11
	DECQ        R12
	JMP         pos1

nextimage:
	ADDQ xis+72(FP), BX
	ADDQ ois+80(FP), R9
	DECQ R8
	JNZ  image
	VZEROUPPER
	RET

// func permBlocksAVX512(dst, src *float32, prog *int, nvec int, idx *int32, nblk, dblk, sblk int)
//
// Runs the permutation program prog (see shortTransposeProg) on nblk
// blocks, dst and src advancing by dblk and sblk bytes: for each of the
// nvec destination vectors, {dst offset, idx offset, n} then n pairs
// {src offset, mask}; the vector is the merge of VPERMPS by the idx
// vector of the n source vectors, each on the lanes of its mask.
TEXT ·permBlocksAVX512(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ idx+32(FP), R9
	MOVQ nblk+40(FP), R8
	TESTQ R8, R8
	JE    permdone

permblk:
	MOVQ prog+16(FP), AX
	MOVQ nvec+24(FP), R10

permvec:
	MOVQ      (AX), R11
	MOVQ      8(AX), DX
	MOVQ      16(AX), CX
	ADDQ      $24, AX
	VMOVDQU32 (R9)(DX*1), Z1
	VPXORD    Z0, Z0, Z0

permsrc:
	MOVQ    (AX), DX
	KMOVW   8(AX), K1
	VPERMPS (SI)(DX*1), Z1, K1, Z0
	ADDQ    $16, AX
	DECQ    CX
	JNZ     permsrc
	VMOVUPS Z0, (DI)(R11*1)
	DECQ    R10
	JNZ     permvec
	ADDQ    dblk+48(FP), DI
	ADDQ    sblk+56(FP), SI
	DECQ    R8
	JNZ     permblk

permdone:
	VZEROUPPER
	RET
