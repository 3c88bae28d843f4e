//go:build amd64

#include "textflag.h"

// AVX2/FMA row kernels of the float32 LayerNormalization (layernorm32.go).
// The two reductions widen float32 to float64 before adding and process the
// first len(x)&^15 elements; normAffine32AVX2 processes len(y)&^7. The Go
// callers finish the tails.

// func sumF32AVX2(x []float32) float64
TEXT ·sumF32AVX2(SB), NOSPLIT, $0-32
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	SHRQ   $4, CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	TESTQ  CX, CX
	JZ     sum_done

sum_loop:
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VCVTPS2PD 32(SI), Y6
	VCVTPS2PD 48(SI), Y7
	VADDPD    Y4, Y0, Y0
	VADDPD    Y5, Y1, Y1
	VADDPD    Y6, Y2, Y2
	VADDPD    Y7, Y3, Y3
	ADDQ      $64, SI
	DECQ      CX
	JNZ       sum_loop

sum_done:
	VADDPD       Y1, Y0, Y0
	VADDPD       Y3, Y2, Y2
	VADDPD       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0
	VUNPCKHPD    X0, X0, X1
	VADDSD       X1, X0, X0
	VMOVSD       X0, ret+24(FP)
	VZEROUPPER
	RET

// func sqDevF32AVX2(x []float32, mean float64) float64
TEXT ·sqDevF32AVX2(SB), NOSPLIT, $0-40
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSD mean+24(FP), Y8
	SHRQ         $4, CX
	VXORPD       Y0, Y0, Y0
	VXORPD       Y1, Y1, Y1
	VXORPD       Y2, Y2, Y2
	VXORPD       Y3, Y3, Y3
	TESTQ        CX, CX
	JZ           sq_done

sq_loop:
	VCVTPS2PD   (SI), Y4
	VCVTPS2PD   16(SI), Y5
	VCVTPS2PD   32(SI), Y6
	VCVTPS2PD   48(SI), Y7
	VSUBPD      Y8, Y4, Y4
	VSUBPD      Y8, Y5, Y5
	VSUBPD      Y8, Y6, Y6
	VSUBPD      Y8, Y7, Y7
	VFMADD231PD Y4, Y4, Y0
	VFMADD231PD Y5, Y5, Y1
	VFMADD231PD Y6, Y6, Y2
	VFMADD231PD Y7, Y7, Y3
	ADDQ        $64, SI
	DECQ        CX
	JNZ         sq_loop

sq_done:
	VADDPD       Y1, Y0, Y0
	VADDPD       Y3, Y2, Y2
	VADDPD       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0
	VUNPCKHPD    X0, X0, X1
	VADDSD       X1, X0, X0
	VMOVSD       X0, ret+32(FP)
	VZEROUPPER
	RET

// func normAffine32AVX2(y, x, s, b []float32, mean, resid, inv float32)
// y[i] = ((x[i]-mean)-resid)*inv*s[i] + b[i]; y may be x.
TEXT ·normAffine32AVX2(SB), NOSPLIT, $0-108
	MOVQ         y_base+0(FP), DI
	MOVQ         y_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	MOVQ         s_base+48(FP), DX
	MOVQ         b_base+72(FP), R8
	VBROADCASTSS mean+96(FP), Y8
	VBROADCASTSS resid+100(FP), Y10
	VBROADCASTSS inv+104(FP), Y9
	SHRQ         $3, CX
	JZ           na_done

na_loop:
	VMOVUPS     (SI), Y0
	VSUBPS      Y8, Y0, Y0
	VSUBPS      Y10, Y0, Y0
	VMULPS      Y9, Y0, Y0
	VMOVUPS     (R8), Y1
	VFMADD231PS (DX), Y0, Y1
	VMOVUPS     Y1, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DX
	ADDQ        $32, R8
	ADDQ        $32, DI
	DECQ        CX
	JNZ         na_loop

na_done:
	VZEROUPPER
	RET
