//go:build amd64

#include "textflag.h"

// AVX2 loops of the simple float32 elementwise ops. Each processes the
// first len(o)&^7 elements (8 at a time); the Go callers do the rest.

DATA absMask<>+0(SB)/4, $0x7fffffff
GLOBL absMask<>(SB), RODATA|NOPTR, $4
DATA signMask<>+0(SB)/4, $0x80000000
GLOBL signMask<>(SB), RODATA|NOPTR, $4

// func addVV32(o, a, b []float32)
TEXT ·addVV32(SB), NOSPLIT, $0-72
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ a_base+24(FP), SI
	MOVQ b_base+48(FP), DX
	SHRQ $3, CX
	JZ   addVV32_done

addVV32_loop:
	VMOVUPS (SI), Y0
	VADDPS (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ  addVV32_loop

addVV32_done:
	VZEROUPPER
	RET

// func subVV32(o, a, b []float32)
TEXT ·subVV32(SB), NOSPLIT, $0-72
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ a_base+24(FP), SI
	MOVQ b_base+48(FP), DX
	SHRQ $3, CX
	JZ   subVV32_done

subVV32_loop:
	VMOVUPS (SI), Y0
	VSUBPS (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ  subVV32_loop

subVV32_done:
	VZEROUPPER
	RET

// func mulVV32(o, a, b []float32)
TEXT ·mulVV32(SB), NOSPLIT, $0-72
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ a_base+24(FP), SI
	MOVQ b_base+48(FP), DX
	SHRQ $3, CX
	JZ   mulVV32_done

mulVV32_loop:
	VMOVUPS (SI), Y0
	VMULPS (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ  mulVV32_loop

mulVV32_done:
	VZEROUPPER
	RET

// func divVV32(o, a, b []float32)
TEXT ·divVV32(SB), NOSPLIT, $0-72
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ a_base+24(FP), SI
	MOVQ b_base+48(FP), DX
	SHRQ $3, CX
	JZ   divVV32_done

divVV32_loop:
	VMOVUPS (SI), Y0
	VDIVPS (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ  divVV32_loop

divVV32_done:
	VZEROUPPER
	RET

// func addVS32(o, a []float32, s float32)
TEXT ·addVS32(SB), NOSPLIT, $0-52
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ a_base+24(FP), SI
	VBROADCASTSS s+48(FP), Y1
	SHRQ $3, CX
	JZ   addVS32_done

addVS32_loop:
	VMOVUPS (SI), Y0
	VADDPS Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  addVS32_loop

addVS32_done:
	VZEROUPPER
	RET

// func subVS32(o, a []float32, s float32)
TEXT ·subVS32(SB), NOSPLIT, $0-52
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ a_base+24(FP), SI
	VBROADCASTSS s+48(FP), Y1
	SHRQ $3, CX
	JZ   subVS32_done

subVS32_loop:
	VMOVUPS (SI), Y0
	VSUBPS Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  subVS32_loop

subVS32_done:
	VZEROUPPER
	RET

// func mulVS32(o, a []float32, s float32)
TEXT ·mulVS32(SB), NOSPLIT, $0-52
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ a_base+24(FP), SI
	VBROADCASTSS s+48(FP), Y1
	SHRQ $3, CX
	JZ   mulVS32_done

mulVS32_loop:
	VMOVUPS (SI), Y0
	VMULPS Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  mulVS32_loop

mulVS32_done:
	VZEROUPPER
	RET

// func divVS32(o, a []float32, s float32)
TEXT ·divVS32(SB), NOSPLIT, $0-52
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ a_base+24(FP), SI
	VBROADCASTSS s+48(FP), Y1
	SHRQ $3, CX
	JZ   divVS32_done

divVS32_loop:
	VMOVUPS (SI), Y0
	VDIVPS Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  divVS32_loop

divVS32_done:
	VZEROUPPER
	RET

// func subSV32(o, a []float32, s float32)
TEXT ·subSV32(SB), NOSPLIT, $0-52
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ a_base+24(FP), SI
	VBROADCASTSS s+48(FP), Y1
	SHRQ $3, CX
	JZ   subSV32_done

subSV32_loop:
	VSUBPS (SI), Y1, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  subSV32_loop

subSV32_done:
	VZEROUPPER
	RET

// func divSV32(o, a []float32, s float32)
TEXT ·divSV32(SB), NOSPLIT, $0-52
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ a_base+24(FP), SI
	VBROADCASTSS s+48(FP), Y1
	SHRQ $3, CX
	JZ   divSV32_done

divSV32_loop:
	VDIVPS (SI), Y1, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  divSV32_loop

divSV32_done:
	VZEROUPPER
	RET

// func negSlice32(o, x []float32)
TEXT ·negSlice32(SB), NOSPLIT, $0-48
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	VBROADCASTSS signMask<>(SB), Y1
	SHRQ $3, CX
	JZ   negSlice32_done

negSlice32_loop:
	VXORPS (SI), Y1, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  negSlice32_loop

negSlice32_done:
	VZEROUPPER
	RET

// func absSlice32(o, x []float32)
TEXT ·absSlice32(SB), NOSPLIT, $0-48
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	VBROADCASTSS absMask<>(SB), Y1
	SHRQ $3, CX
	JZ   absSlice32_done

absSlice32_loop:
	VANDPS (SI), Y1, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  absSlice32_loop

absSlice32_done:
	VZEROUPPER
	RET

// func reluSlice32(o, x []float32)
TEXT ·reluSlice32(SB), NOSPLIT, $0-48
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	VXORPS Y1, Y1, Y1
	SHRQ $3, CX
	JZ   reluSlice32_done

reluSlice32_loop:
	VMAXPS (SI), Y1, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  reluSlice32_loop

reluSlice32_done:
	VZEROUPPER
	RET

// func boolToF32(o []float32, b []bool)
TEXT ·boolToF32(SB), NOSPLIT, $0-48
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ b_base+24(FP), SI
	SHRQ $3, CX
	JZ   boolToF32_done

boolToF32_loop:
	VPMOVZXBD (SI), Y0
	VCVTDQ2PS Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $8, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  boolToF32_loop

boolToF32_done:
	VZEROUPPER
	RET

// func maxLanes32(x []float32, m *[8]float32)
// m[j] = the max of x[j], x[j+8], x[j+16], … over len(x)&^7 elements
// (len(x) >= 8) by VMAXPS; a NaN among them may or may not show in m.
TEXT ·maxLanes32(SB), NOSPLIT, $0-32
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	MOVQ m+24(FP), DI
	SHRQ $3, CX
	VMOVUPS (SI), Y0
	ADDQ $32, SI
	DECQ CX
	JZ   maxLanes32_done

maxLanes32_loop:
	VMAXPS (SI), Y0, Y0
	ADDQ $32, SI
	DECQ CX
	JNZ  maxLanes32_loop

maxLanes32_done:
	VMOVUPS Y0, (DI)
	VZEROUPPER
	RET
