//go:build amd64

#include "textflag.h"

// AVX-512 loops of the float32 Add, Sub, Mul and Div (fastops.go). Each
// takes any length: 16 lanes at a time, masked vectors for the ends. With
// stream, the output goes to memory by non-temporal stores from its first
// 64-byte boundary on (the caller issues sfence512 when done): for outputs
// larger than the caches, which would otherwise be read in before being
// overwritten. Every element is the same single IEEE operation as the
// scalar Go loop, so results are identical.

// MASK_R sets K1 to the low R bits (1 ≤ R ≤ 15); uses AX, R10 and CX.
#define MASK_R(R) \
	MOVQ  CX, R10; \
	MOVQ  R, CX; \
	MOVL  $1, AX; \
	SHLL  CX, AX; \
	DECL  AX; \
	KMOVW AX, K1; \
	MOVQ  R10, CX

// func addVV512(o, a, b []float32, stream bool)
TEXT ·addVV512(SB), NOSPLIT, $0-73
	MOVQ    o_base+0(FP), DI
	MOVQ    o_len+8(FP), CX
	MOVQ    a_base+24(FP), SI
	MOVQ    b_base+48(FP), DX
	MOVBLZX stream+72(FP), R8
	TESTQ R8, R8
	JZ    addVV512_loop
	MOVQ  DI, R9
	NEGQ  R9
	ANDQ  $63, R9
	SHRQ  $2, R9
	JZ    addVV512_ntloop
	CMPQ  R9, CX
	JGE   addVV512_tail
	MASK_R(R9)
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VADDPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)
	LEAQ (SI)(R9*4), SI
	LEAQ (DX)(R9*4), DX
	LEAQ (DI)(R9*4), DI
	SUBQ R9, CX

addVV512_ntloop:
	CMPQ CX, $16
	JLT  addVV512_tail
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z1
	VADDPS Z1, Z0, Z0
	VMOVNTPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  addVV512_ntloop

addVV512_loop:
	CMPQ CX, $16
	JLT  addVV512_tail
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z1
	VADDPS Z1, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  addVV512_loop

addVV512_tail:
	TESTQ CX, CX
	JZ    addVV512_done
	MASK_R(CX)
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VADDPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)

addVV512_done:
	VZEROUPPER
	RET

// func addVS512(o, a []float32, s float32, stream bool)
TEXT ·addVS512(SB), NOSPLIT, $0-53
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         a_base+24(FP), SI
	VBROADCASTSS s+48(FP), Z1
	MOVBLZX      stream+52(FP), R8
	TESTQ R8, R8
	JZ    addVS512_loop
	MOVQ  DI, R9
	NEGQ  R9
	ANDQ  $63, R9
	SHRQ  $2, R9
	JZ    addVS512_ntloop
	CMPQ  R9, CX
	JGE   addVS512_tail
	MASK_R(R9)
	VMOVUPS.Z (SI), K1, Z0
	VADDPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)
	LEAQ (SI)(R9*4), SI
	LEAQ (DI)(R9*4), DI
	SUBQ R9, CX

addVS512_ntloop:
	CMPQ CX, $16
	JLT  addVS512_tail
	VMOVUPS (SI), Z0
	VADDPS Z1, Z0, Z0
	VMOVNTPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  addVS512_ntloop

addVS512_loop:
	CMPQ CX, $16
	JLT  addVS512_tail
	VMOVUPS (SI), Z0
	VADDPS Z1, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  addVS512_loop

addVS512_tail:
	TESTQ CX, CX
	JZ    addVS512_done
	MASK_R(CX)
	VMOVUPS.Z (SI), K1, Z0
	VADDPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)

addVS512_done:
	VZEROUPPER
	RET

// func subVV512(o, a, b []float32, stream bool)
TEXT ·subVV512(SB), NOSPLIT, $0-73
	MOVQ    o_base+0(FP), DI
	MOVQ    o_len+8(FP), CX
	MOVQ    a_base+24(FP), SI
	MOVQ    b_base+48(FP), DX
	MOVBLZX stream+72(FP), R8
	TESTQ R8, R8
	JZ    subVV512_loop
	MOVQ  DI, R9
	NEGQ  R9
	ANDQ  $63, R9
	SHRQ  $2, R9
	JZ    subVV512_ntloop
	CMPQ  R9, CX
	JGE   subVV512_tail
	MASK_R(R9)
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VSUBPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)
	LEAQ (SI)(R9*4), SI
	LEAQ (DX)(R9*4), DX
	LEAQ (DI)(R9*4), DI
	SUBQ R9, CX

subVV512_ntloop:
	CMPQ CX, $16
	JLT  subVV512_tail
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z1
	VSUBPS Z1, Z0, Z0
	VMOVNTPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  subVV512_ntloop

subVV512_loop:
	CMPQ CX, $16
	JLT  subVV512_tail
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z1
	VSUBPS Z1, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  subVV512_loop

subVV512_tail:
	TESTQ CX, CX
	JZ    subVV512_done
	MASK_R(CX)
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VSUBPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)

subVV512_done:
	VZEROUPPER
	RET

// func subVS512(o, a []float32, s float32, stream bool)
TEXT ·subVS512(SB), NOSPLIT, $0-53
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         a_base+24(FP), SI
	VBROADCASTSS s+48(FP), Z1
	MOVBLZX      stream+52(FP), R8
	TESTQ R8, R8
	JZ    subVS512_loop
	MOVQ  DI, R9
	NEGQ  R9
	ANDQ  $63, R9
	SHRQ  $2, R9
	JZ    subVS512_ntloop
	CMPQ  R9, CX
	JGE   subVS512_tail
	MASK_R(R9)
	VMOVUPS.Z (SI), K1, Z0
	VSUBPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)
	LEAQ (SI)(R9*4), SI
	LEAQ (DI)(R9*4), DI
	SUBQ R9, CX

subVS512_ntloop:
	CMPQ CX, $16
	JLT  subVS512_tail
	VMOVUPS (SI), Z0
	VSUBPS Z1, Z0, Z0
	VMOVNTPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  subVS512_ntloop

subVS512_loop:
	CMPQ CX, $16
	JLT  subVS512_tail
	VMOVUPS (SI), Z0
	VSUBPS Z1, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  subVS512_loop

subVS512_tail:
	TESTQ CX, CX
	JZ    subVS512_done
	MASK_R(CX)
	VMOVUPS.Z (SI), K1, Z0
	VSUBPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)

subVS512_done:
	VZEROUPPER
	RET

// func mulVV512(o, a, b []float32, stream bool)
TEXT ·mulVV512(SB), NOSPLIT, $0-73
	MOVQ    o_base+0(FP), DI
	MOVQ    o_len+8(FP), CX
	MOVQ    a_base+24(FP), SI
	MOVQ    b_base+48(FP), DX
	MOVBLZX stream+72(FP), R8
	TESTQ R8, R8
	JZ    mulVV512_loop
	MOVQ  DI, R9
	NEGQ  R9
	ANDQ  $63, R9
	SHRQ  $2, R9
	JZ    mulVV512_ntloop
	CMPQ  R9, CX
	JGE   mulVV512_tail
	MASK_R(R9)
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VMULPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)
	LEAQ (SI)(R9*4), SI
	LEAQ (DX)(R9*4), DX
	LEAQ (DI)(R9*4), DI
	SUBQ R9, CX

mulVV512_ntloop:
	CMPQ CX, $16
	JLT  mulVV512_tail
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z1
	VMULPS Z1, Z0, Z0
	VMOVNTPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  mulVV512_ntloop

mulVV512_loop:
	CMPQ CX, $16
	JLT  mulVV512_tail
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z1
	VMULPS Z1, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  mulVV512_loop

mulVV512_tail:
	TESTQ CX, CX
	JZ    mulVV512_done
	MASK_R(CX)
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VMULPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)

mulVV512_done:
	VZEROUPPER
	RET

// func mulVS512(o, a []float32, s float32, stream bool)
TEXT ·mulVS512(SB), NOSPLIT, $0-53
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         a_base+24(FP), SI
	VBROADCASTSS s+48(FP), Z1
	MOVBLZX      stream+52(FP), R8
	TESTQ R8, R8
	JZ    mulVS512_loop
	MOVQ  DI, R9
	NEGQ  R9
	ANDQ  $63, R9
	SHRQ  $2, R9
	JZ    mulVS512_ntloop
	CMPQ  R9, CX
	JGE   mulVS512_tail
	MASK_R(R9)
	VMOVUPS.Z (SI), K1, Z0
	VMULPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)
	LEAQ (SI)(R9*4), SI
	LEAQ (DI)(R9*4), DI
	SUBQ R9, CX

mulVS512_ntloop:
	CMPQ CX, $16
	JLT  mulVS512_tail
	VMOVUPS (SI), Z0
	VMULPS Z1, Z0, Z0
	VMOVNTPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  mulVS512_ntloop

mulVS512_loop:
	CMPQ CX, $16
	JLT  mulVS512_tail
	VMOVUPS (SI), Z0
	VMULPS Z1, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  mulVS512_loop

mulVS512_tail:
	TESTQ CX, CX
	JZ    mulVS512_done
	MASK_R(CX)
	VMOVUPS.Z (SI), K1, Z0
	VMULPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)

mulVS512_done:
	VZEROUPPER
	RET

// func divVV512(o, a, b []float32, stream bool)
TEXT ·divVV512(SB), NOSPLIT, $0-73
	MOVQ    o_base+0(FP), DI
	MOVQ    o_len+8(FP), CX
	MOVQ    a_base+24(FP), SI
	MOVQ    b_base+48(FP), DX
	MOVBLZX stream+72(FP), R8
	TESTQ R8, R8
	JZ    divVV512_loop
	MOVQ  DI, R9
	NEGQ  R9
	ANDQ  $63, R9
	SHRQ  $2, R9
	JZ    divVV512_ntloop
	CMPQ  R9, CX
	JGE   divVV512_tail
	MASK_R(R9)
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VDIVPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)
	LEAQ (SI)(R9*4), SI
	LEAQ (DX)(R9*4), DX
	LEAQ (DI)(R9*4), DI
	SUBQ R9, CX

divVV512_ntloop:
	CMPQ CX, $16
	JLT  divVV512_tail
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z1
	VDIVPS Z1, Z0, Z0
	VMOVNTPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  divVV512_ntloop

divVV512_loop:
	CMPQ CX, $16
	JLT  divVV512_tail
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z1
	VDIVPS Z1, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  divVV512_loop

divVV512_tail:
	TESTQ CX, CX
	JZ    divVV512_done
	MASK_R(CX)
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VDIVPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)

divVV512_done:
	VZEROUPPER
	RET

// func divVS512(o, a []float32, s float32, stream bool)
TEXT ·divVS512(SB), NOSPLIT, $0-53
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         a_base+24(FP), SI
	VBROADCASTSS s+48(FP), Z1
	MOVBLZX      stream+52(FP), R8
	TESTQ R8, R8
	JZ    divVS512_loop
	MOVQ  DI, R9
	NEGQ  R9
	ANDQ  $63, R9
	SHRQ  $2, R9
	JZ    divVS512_ntloop
	CMPQ  R9, CX
	JGE   divVS512_tail
	MASK_R(R9)
	VMOVUPS.Z (SI), K1, Z0
	VDIVPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)
	LEAQ (SI)(R9*4), SI
	LEAQ (DI)(R9*4), DI
	SUBQ R9, CX

divVS512_ntloop:
	CMPQ CX, $16
	JLT  divVS512_tail
	VMOVUPS (SI), Z0
	VDIVPS Z1, Z0, Z0
	VMOVNTPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  divVS512_ntloop

divVS512_loop:
	CMPQ CX, $16
	JLT  divVS512_tail
	VMOVUPS (SI), Z0
	VDIVPS Z1, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  divVS512_loop

divVS512_tail:
	TESTQ CX, CX
	JZ    divVS512_done
	MASK_R(CX)
	VMOVUPS.Z (SI), K1, Z0
	VDIVPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)

divVS512_done:
	VZEROUPPER
	RET

// func subSV512(o, a []float32, s float32, stream bool)
TEXT ·subSV512(SB), NOSPLIT, $0-53
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         a_base+24(FP), SI
	VBROADCASTSS s+48(FP), Z1
	MOVBLZX      stream+52(FP), R8
	TESTQ R8, R8
	JZ    subSV512_loop
	MOVQ  DI, R9
	NEGQ  R9
	ANDQ  $63, R9
	SHRQ  $2, R9
	JZ    subSV512_ntloop
	CMPQ  R9, CX
	JGE   subSV512_tail
	MASK_R(R9)
	VMOVUPS.Z (SI), K1, Z0
	VSUBPS Z0, Z1, Z0
	VMOVUPS Z0, K1, (DI)
	LEAQ (SI)(R9*4), SI
	LEAQ (DI)(R9*4), DI
	SUBQ R9, CX

subSV512_ntloop:
	CMPQ CX, $16
	JLT  subSV512_tail
	VMOVUPS (SI), Z0
	VSUBPS Z0, Z1, Z0
	VMOVNTPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  subSV512_ntloop

subSV512_loop:
	CMPQ CX, $16
	JLT  subSV512_tail
	VMOVUPS (SI), Z0
	VSUBPS Z0, Z1, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  subSV512_loop

subSV512_tail:
	TESTQ CX, CX
	JZ    subSV512_done
	MASK_R(CX)
	VMOVUPS.Z (SI), K1, Z0
	VSUBPS Z0, Z1, Z0
	VMOVUPS Z0, K1, (DI)

subSV512_done:
	VZEROUPPER
	RET

// func divSV512(o, a []float32, s float32, stream bool)
TEXT ·divSV512(SB), NOSPLIT, $0-53
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         a_base+24(FP), SI
	VBROADCASTSS s+48(FP), Z1
	MOVBLZX      stream+52(FP), R8
	TESTQ R8, R8
	JZ    divSV512_loop
	MOVQ  DI, R9
	NEGQ  R9
	ANDQ  $63, R9
	SHRQ  $2, R9
	JZ    divSV512_ntloop
	CMPQ  R9, CX
	JGE   divSV512_tail
	MASK_R(R9)
	VMOVUPS.Z (SI), K1, Z0
	VDIVPS Z0, Z1, Z0
	VMOVUPS Z0, K1, (DI)
	LEAQ (SI)(R9*4), SI
	LEAQ (DI)(R9*4), DI
	SUBQ R9, CX

divSV512_ntloop:
	CMPQ CX, $16
	JLT  divSV512_tail
	VMOVUPS (SI), Z0
	VDIVPS Z0, Z1, Z0
	VMOVNTPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  divSV512_ntloop

divSV512_loop:
	CMPQ CX, $16
	JLT  divSV512_tail
	VMOVUPS (SI), Z0
	VDIVPS Z0, Z1, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  divSV512_loop

divSV512_tail:
	TESTQ CX, CX
	JZ    divSV512_done
	MASK_R(CX)
	VMOVUPS.Z (SI), K1, Z0
	VDIVPS Z0, Z1, Z0
	VMOVUPS Z0, K1, (DI)

divSV512_done:
	VZEROUPPER
	RET

// func eqVS64x512(o []bool, a []int64, s int64)
// o[i] = a[i] == s for the first len(o)&^15 elements (AVX-512 F and DQ:
// the compare mask becomes dwords of 1, truncated to bytes).
TEXT ·eqVS64x512(SB), NOSPLIT, $0-56
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         a_base+24(FP), SI
	VPBROADCASTQ s+48(FP), Z0
	SHRQ         $4, CX
	JZ           eqVS64_done

eqVS64_loop:
	VPCMPEQQ  (SI), Z0, K1
	VPCMPEQQ  64(SI), Z0, K2
	KUNPCKBW  K1, K2, K3
	VPMOVM2D  K3, Z1
	VPSRLD    $31, Z1, Z1
	VPMOVDB   Z1, (DI)
	ADDQ      $128, SI
	ADDQ      $16, DI
	DECQ      CX
	JNZ       eqVS64_loop

eqVS64_done:
	VZEROUPPER
	RET

// func eqVV64x512(o []bool, a, b []int64)
// o[i] = a[i] == b[i] for the first len(o)&^15 elements.
TEXT ·eqVV64x512(SB), NOSPLIT, $0-72
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ a_base+24(FP), SI
	MOVQ b_base+48(FP), DX
	SHRQ $4, CX
	JZ   eqVV64_done

eqVV64_loop:
	VMOVDQU64 (DX), Z2
	VMOVDQU64 64(DX), Z3
	VPCMPEQQ  (SI), Z2, K1
	VPCMPEQQ  64(SI), Z3, K2
	KUNPCKBW  K1, K2, K3
	VPMOVM2D  K3, Z1
	VPSRLD    $31, Z1, Z1
	VPMOVDB   Z1, (DI)
	ADDQ      $128, SI
	ADDQ      $128, DX
	ADDQ      $16, DI
	DECQ      CX
	JNZ       eqVV64_loop

eqVV64_done:
	VZEROUPPER
	RET
