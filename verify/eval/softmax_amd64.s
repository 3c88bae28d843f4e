//go:build amd64

#include "textflag.h"

// AVX-512 row kernels of Softmax / LogSoftmax (softmax.go). Every function
// takes any length: whole 16-lane vectors, then one masked vector for the
// rest (masked-off lanes are neither read nor written).

DATA smLog2e<>+0(SB)/4, $0x3fb8aa3b // log2(e)
GLOBL smLog2e<>(SB), RODATA|NOPTR, $4
DATA smC1<>+0(SB)/4, $0x3f318000 // ln 2 = C1 + C2, C1 exact in 9 bits
GLOBL smC1<>(SB), RODATA|NOPTR, $4
DATA smC2<>+0(SB)/4, $0xb95e8083 // -2.12194440e-4
GLOBL smC2<>(SB), RODATA|NOPTR, $4
DATA smLo<>+0(SB)/4, $0xc2d00000 // -104: exp below it rounds to 0
GLOBL smLo<>(SB), RODATA|NOPTR, $4
DATA smLoSum<>+0(SB)/4, $0xc2ae0000 // -87: exp stays a normal float32
GLOBL smLoSum<>(SB), RODATA|NOPTR, $4
DATA smOne<>+0(SB)/4, $0x3f800000
GLOBL smOne<>(SB), RODATA|NOPTR, $4
DATA smP0<>+0(SB)/4, $0x39506967 // 1.9875691500e-4
GLOBL smP0<>(SB), RODATA|NOPTR, $4
DATA smP1<>+0(SB)/4, $0x3ab743ce // 1.3981999507e-3
GLOBL smP1<>(SB), RODATA|NOPTR, $4
DATA smP2<>+0(SB)/4, $0x3c088908 // 8.3334519073e-3
GLOBL smP2<>(SB), RODATA|NOPTR, $4
DATA smP3<>+0(SB)/4, $0x3d2aa9c1 // 4.1665795894e-2
GLOBL smP3<>(SB), RODATA|NOPTR, $4
DATA smP4<>+0(SB)/4, $0x3e2aaaaa // 1.6666665459e-1
GLOBL smP4<>(SB), RODATA|NOPTR, $4
DATA smP5<>+0(SB)/4, $0x3f000000 // 5.0000001201e-1
GLOBL smP5<>(SB), RODATA|NOPTR, $4

// EXP_CONSTS broadcasts m (in X0) and the constants of EXP_SHIFTED.
#define EXP_CONSTS \
	VBROADCASTSS X0, Z0; \
	VBROADCASTSS smLog2e<>(SB), Z1; \
	VBROADCASTSS smC1<>(SB), Z2; \
	VBROADCASTSS smC2<>(SB), Z3; \
	VBROADCASTSS smLo<>(SB), Z4; \
	VBROADCASTSS smOne<>(SB), Z5; \
	VBROADCASTSS smP0<>(SB), Z6; \
	VBROADCASTSS smP1<>(SB), Z7; \
	VBROADCASTSS smP2<>(SB), Z8; \
	VBROADCASTSS smP3<>(SB), Z9; \
	VBROADCASTSS smP4<>(SB), Z10; \
	VBROADCASTSS smP5<>(SB), Z11

// EXP_SHIFTED_R sets out = exp(in − m) (Cephes expf: n = round(t·log2 e),
// r = t − n·ln 2 in two steps, exp(r) = 1 + r + r²·P(r), times 2^n by
// VSCALEFPS, which also rounds denormal results correctly). t is first
// raised to −104 (VMAXPS returns its second source, t, when t is NaN, so
// NaN stays NaN). Uses in (changed), n, r, out and r2: two vectors on
// distinct registers interleave their chains.
#define EXP_SHIFTED_R(in, n, r, out, r2) \
	VSUBPS       Z0, in, in; \
	VMAXPS       in, Z4, in; \
	VMULPS       Z1, in, n; \
	VRNDSCALEPS  $0, n, n; \
	VMOVAPS      in, r; \
	VFNMADD231PS Z2, n, r; \
	VFNMADD231PS Z3, n, r; \
	VMOVAPS      Z6, out; \
	VFMADD213PS  Z7, r, out; \
	VFMADD213PS  Z8, r, out; \
	VFMADD213PS  Z9, r, out; \
	VFMADD213PS  Z10, r, out; \
	VFMADD213PS  Z11, r, out; \
	VMULPS       r, r, r2; \
	VFMADD213PS  r, r2, out; \
	VADDPS       Z5, out, out; \
	VSCALEFPS    n, out, out

// SUM_F64_R adds the 16 floats of v to the float64 accumulators a, b (t1, t2 scratch).
#define SUM_F64_R(v, yv, t1, t2, yt2, a, b) \
	VCVTPS2PD     yv, t1; \
	VEXTRACTF32X8 $1, v, yt2; \
	VCVTPS2PD     yt2, t2; \
	VADDPD        t1, a, a; \
	VADDPD        t2, b, b

// EXP_SHIFTED is EXP_SHIFTED_R on Z16 (input) to Z19 (result), Z17, Z18, Z20.
#define EXP_SHIFTED EXP_SHIFTED_R(Z16, Z17, Z18, Z19, Z20)

// SUM_F64 adds the 16 floats of Z19 to the float64 accumulators Z12, Z13.
#define SUM_F64 SUM_F64_R(Z19, Y19, Z21, Z22, Y22, Z12, Z13)

// SUM_RESULT stores Z12 + Z13, summed over lanes, at ret.
#define SUM_RESULT(ret) \
	VADDPD        Z13, Z12, Z12; \
	VEXTRACTF64X4 $1, Z12, Y13; \
	VADDPD        Y13, Y12, Y12; \
	VEXTRACTF128  $1, Y12, X13; \
	VADDPD        X13, X12, X12; \
	VPERMILPD     $1, X12, X13; \
	VADDSD        X13, X12, X12; \
	MOVSD         X12, ret

// TAIL_MASK sets K1 to the low CX bits (1 ≤ CX ≤ 15).
#define TAIL_MASK \
	MOVL  $1, AX; \
	SHLL  CX, AX; \
	DECL  AX; \
	KMOVW AX, K1

// func maxF32x512(x []float32) float32
// The maximum of x (len(x) ≥ 1) by VMAXPS; a NaN may or may not show.
TEXT ·maxF32x512(SB), NOSPLIT, $0-28
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VBROADCASTSS (SI), Z0
	VMOVAPS Z0, Z1
	VMOVAPS Z0, Z2
	VMOVAPS Z0, Z3

max_loop64:
	CMPQ CX, $64
	JLT  max_loop16
	VMAXPS (SI), Z0, Z0
	VMAXPS 64(SI), Z1, Z1
	VMAXPS 128(SI), Z2, Z2
	VMAXPS 192(SI), Z3, Z3
	ADDQ $256, SI
	SUBQ $64, CX
	JMP  max_loop64

max_loop16:
	CMPQ CX, $16
	JLT  max_tail
	VMAXPS (SI), Z0, Z0
	ADDQ $64, SI
	SUBQ $16, CX
	JMP  max_loop16

max_tail:
	TESTQ CX, CX
	JZ    max_reduce
	TAIL_MASK
	VMOVUPS.Z (SI), K1, Z16
	VMAXPS    Z16, Z1, K1, Z1

max_reduce:
	VMAXPS        Z1, Z0, Z0
	VMAXPS        Z3, Z2, Z2
	VMAXPS        Z2, Z0, Z0
	VEXTRACTF32X8 $1, Z0, Y1
	VMAXPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VMAXPS        X1, X0, X0
	VPERMILPS     $0x4E, X0, X1
	VMAXPS        X1, X0, X0
	VPERMILPS     $0xB1, X0, X1
	VMAXPS        X1, X0, X0
	MOVSS         X0, ret+24(FP)
	VZEROUPPER
	RET

// func sumExpShift512(x []float32, m float32) float64
// Σ exp(x[i] − m), each term rounded to float32, summed in float64. Terms
// below exp(−87) ≈ 1.6e-38 are raised to it, so that no denormal reaches
// the arithmetic (each costs a microcode assist, and rows of widely spread
// logits have many): a sum that holds the maximum's term 1 moves by at
// most len(x)·1.6e-38 relative.
TEXT ·sumExpShift512(SB), NOSPLIT, $0-40
	MOVQ  x_base+0(FP), SI
	MOVQ  x_len+8(FP), CX
	MOVSS m+24(FP), X0
	EXP_CONSTS
	VBROADCASTSS smLoSum<>(SB), Z4
	VXORPD Z12, Z12, Z12
	VXORPD Z13, Z13, Z13
	VXORPD Z14, Z14, Z14
	VXORPD Z15, Z15, Z15

sum_loop2:
	// Two vectors per step: their exp chains are independent.
	CMPQ CX, $32
	JLT  sum_join
	VMOVUPS (SI), Z16
	VMOVUPS 64(SI), Z24
	EXP_SHIFTED_R(Z16, Z17, Z18, Z19, Z20)
	EXP_SHIFTED_R(Z24, Z25, Z26, Z27, Z28)
	SUM_F64_R(Z19, Y19, Z21, Z22, Y22, Z12, Z13)
	SUM_F64_R(Z27, Y27, Z29, Z30, Y30, Z14, Z15)
	ADDQ $128, SI
	SUBQ $32, CX
	JMP  sum_loop2

sum_join:
	VADDPD Z14, Z12, Z12
	VADDPD Z15, Z13, Z13

sum_loop:
	CMPQ CX, $16
	JLT  sum_tail
	VMOVUPS (SI), Z16
	EXP_SHIFTED
	SUM_F64
	ADDQ $64, SI
	SUBQ $16, CX
	JMP  sum_loop

sum_tail:
	TESTQ CX, CX
	JZ    sum_done
	TAIL_MASK
	VMOVUPS.Z (SI), K1, Z16
	EXP_SHIFTED
	VMOVAPS.Z Z19, K1, Z19
	SUM_F64

sum_done:
	SUM_RESULT(ret+32(FP))
	VZEROUPPER
	RET

// func expShiftStore512(o, x []float32, m float32) float64
// o[i] = exp(x[i] − m) for len(o) elements; returns their float64 sum.
TEXT ·expShiftStore512(SB), NOSPLIT, $0-64
	MOVQ  o_base+0(FP), DI
	MOVQ  o_len+8(FP), CX
	MOVQ  x_base+24(FP), SI
	MOVSS m+48(FP), X0
	EXP_CONSTS
	VXORPD Z12, Z12, Z12
	VXORPD Z13, Z13, Z13

store_loop:
	CMPQ CX, $16
	JLT  store_tail
	VMOVUPS (SI), Z16
	EXP_SHIFTED
	VMOVUPS Z19, (DI)
	SUM_F64
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  store_loop

store_tail:
	TESTQ CX, CX
	JZ    store_done
	TAIL_MASK
	VMOVUPS.Z (SI), K1, Z16
	EXP_SHIFTED
	VMOVAPS.Z Z19, K1, Z19
	VMOVUPS   Z19, K1, (DI)
	SUM_F64

store_done:
	SUM_RESULT(ret+56(FP))
	VZEROUPPER
	RET

// func sfence512()
// Orders the non-temporal stores of the *512 loops before later stores.
TEXT ·sfence512(SB), NOSPLIT, $0-0
	SFENCE
	RET
