//go:build amd64

#include "textflag.h"

// func sumF32x512(x []float32) float64
// Σ x[i] in float64 (each float32 converted exactly, added in 4×8 lanes),
// for any length; the masked last vector reads nothing past the end.
TEXT ·sumF32x512(SB), NOSPLIT, $0-32
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	VXORPD Z0, Z0, Z0
	VXORPD Z1, Z1, Z1
	VXORPD Z2, Z2, Z2
	VXORPD Z3, Z3, Z3

sum_loop32:
	CMPQ      CX, $32
	JLT       sum_loop8
	VCVTPS2PD (SI), Z4
	VCVTPS2PD 32(SI), Z5
	VCVTPS2PD 64(SI), Z6
	VCVTPS2PD 96(SI), Z7
	VADDPD    Z4, Z0, Z0
	VADDPD    Z5, Z1, Z1
	VADDPD    Z6, Z2, Z2
	VADDPD    Z7, Z3, Z3
	ADDQ      $128, SI
	SUBQ      $32, CX
	JMP       sum_loop32

sum_loop8:
	CMPQ      CX, $8
	JLT       sum_tail
	VCVTPS2PD (SI), Z4
	VADDPD    Z4, Z0, Z0
	ADDQ      $32, SI
	SUBQ      $8, CX
	JMP       sum_loop8

sum_tail:
	TESTQ       CX, CX
	JZ          sum_reduce
	MOVL        $1, AX
	SHLL        CX, AX
	DECL        AX
	KMOVW       AX, K1
	VMOVUPS.Z   (SI), K1, Z4
	VCVTPS2PD   Y4, Z4
	VADDPD      Z4, Z1, Z1

sum_reduce:
	VADDPD        Z1, Z0, Z0
	VADDPD        Z3, Z2, Z2
	VADDPD        Z2, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPD        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPD        X1, X0, X0
	VPERMILPD     $1, X0, X1
	VADDSD        X1, X0, X0
	MOVSD         X0, ret+24(FP)
	VZEROUPPER
	RET
