//go:build amd64

#include "textflag.h"

// Float32 kernels of the unary ops (see unary32.go for the contract and the
// error bounds). Every constant is a float32 stored eight times, so it can be
// a 256-bit memory operand.

#define CONST8(name, bits) \
	DATA name<>+0(SB)/4, $bits; \
	DATA name<>+4(SB)/4, $bits; \
	DATA name<>+8(SB)/4, $bits; \
	DATA name<>+12(SB)/4, $bits; \
	DATA name<>+16(SB)/4, $bits; \
	DATA name<>+20(SB)/4, $bits; \
	DATA name<>+24(SB)/4, $bits; \
	DATA name<>+28(SB)/4, $bits; \
	GLOBL name<>(SB), RODATA|NOPTR, $32

CONST8(u32one, 0x3F800000)
CONST8(u32abs, 0x7FFFFFFF)
CONST8(u32sign, 0x80000000)
CONST8(u32log2e, 0x3FB8AA3B)
CONST8(u32ln2hi, 0x3F317200)
CONST8(u32ln2lo, 0x35BFBE8E)
CONST8(u32e2, 0x3F000000)
CONST8(u32e3, 0x3E2AAAAB)
CONST8(u32e4, 0x3D2AAAAB)
CONST8(u32e5, 0x3C088889)
CONST8(u32e6, 0x3AB60B61)
CONST8(u32e7, 0x39500D01)
CONST8(u32lim87, 0x42AE0000)
CONST8(u32erfmax, 0x407B3333)
CONST8(u32erfsplit, 0x3F6C0000)
CONST8(u32es0, 0xBA1D0D41)
CONST8(u32es1, 0x3BA39FA4)
CONST8(u32es2, 0xBCDB45E9)
CONST8(u32es3, 0x3DE70D23)
CONST8(u32es4, 0xBEC09370)
CONST8(u32es5, 0x3E0375D3)
CONST8(u32eb0, 0x37911480)
CONST8(u32eb1, 0xB9C8E966)
CONST8(u32eb2, 0x3B7E899B)
CONST8(u32eb3, 0xBCC6B180)
CONST8(u32eb4, 0x3DDAAE58)
CONST8(u32eb5, 0x3F228550)
CONST8(u32eb6, 0x3E03CE86)

// EXP8 sets p = e**z for z in [-87.3, 88.3] (z is clobbered, n is a
// temporary): n = round(z·log2 e), r = z − n·ln 2 (ln 2 in two parts),
// e**r by its degree-7 Taylor polynomial (|r| ≤ 0.347: truncation < 6e-9
// relative), times 2^n through the exponent bits.
#define EXP8(z, n, p) \
	VMULPS u32log2e<>(SB), z, n; \
	VROUNDPS $0, n, n; \
	VFNMADD231PS u32ln2hi<>(SB), n, z; \
	VFNMADD231PS u32ln2lo<>(SB), n, z; \
	VMOVUPS u32e7<>(SB), p; \
	VFMADD213PS u32e6<>(SB), z, p; \
	VFMADD213PS u32e5<>(SB), z, p; \
	VFMADD213PS u32e4<>(SB), z, p; \
	VFMADD213PS u32e3<>(SB), z, p; \
	VFMADD213PS u32e2<>(SB), z, p; \
	VFMADD213PS u32one<>(SB), z, p; \
	VFMADD213PS u32one<>(SB), z, p; \
	VCVTPS2DQ n, n; \
	VPSLLD $23, n, n; \
	VPADDD n, p, p

// func sigmoidAVX2(o, x []float32) (inRange bool)
// len(o) is a multiple of 8. e = e**−|x|, o = (x < 0 ? e : 1) / (1 + e).
// Lanes with |x| > 87 or NaN get o = x (see unary32.go).
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-49
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	VPCMPEQD Y15, Y15, Y15
	VMOVUPS u32one<>(SB), Y9
	VMOVUPS u32lim87<>(SB), Y13

sgloop:
	CMPQ CX, $0
	JLE  sgdone
	VMOVUPS (SI), Y3
	VANDPS u32abs<>(SB), Y3, Y0
	VCMPPS $0x12, Y13, Y0, Y4 // |x| <= 87, false for NaN
	VANDPS Y4, Y15, Y15
	VORPS u32sign<>(SB), Y0, Y0
	EXP8(Y0, Y1, Y2)
	VADDPS Y9, Y2, Y5
	VBLENDVPS Y3, Y2, Y9, Y6
	VDIVPS Y5, Y6, Y6
	VBLENDVPS Y4, Y6, Y3, Y6
	VMOVUPS Y6, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  sgloop

sgdone:
	VMOVMSKPS Y15, AX
	CMPQ AX, $0xFF
	SETEQ inRange+48(FP)
	VZEROUPPER
	RET

// func erfAVX2(o, x []float32) (inRange bool)
// len(o) is a multiple of 8. a = min(|x|, 3.925); for a ≤ 0.921875
// erf = a + a·P(a²), above it erf = 1 − e**−(a + a·Q(a)) (the split and
// form of N. Juffa's faithfully rounded erff, as ONNX Runtime's MLAS uses);
// the sign of x is copied onto the result. NaN lanes get o = x.
TEXT ·erfAVX2(SB), NOSPLIT, $0-49
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	VPCMPEQD Y15, Y15, Y15
	VMOVUPS u32one<>(SB), Y9
	VMOVUPS u32abs<>(SB), Y14
	VMOVUPS u32erfmax<>(SB), Y13
	VMOVUPS u32erfsplit<>(SB), Y8

erloop:
	CMPQ CX, $0
	JLE  erdone
	VMOVUPS (SI), Y3
	VCMPPS $0, Y3, Y3, Y10 // not NaN
	VANDPS Y10, Y15, Y15
	VANDPS Y14, Y3, Y4
	VMINPS Y13, Y4, Y4
	VMULPS Y4, Y4, Y5
	VMOVUPS u32es0<>(SB), Y6
	VFMADD213PS u32es1<>(SB), Y5, Y6
	VFMADD213PS u32es2<>(SB), Y5, Y6
	VFMADD213PS u32es3<>(SB), Y5, Y6
	VFMADD213PS u32es4<>(SB), Y5, Y6
	VFMADD213PS u32es5<>(SB), Y5, Y6
	VFMADD213PS Y4, Y4, Y6
	VMOVUPS u32eb0<>(SB), Y7
	VFMADD213PS u32eb1<>(SB), Y4, Y7
	VFMADD213PS u32eb2<>(SB), Y4, Y7
	VFMADD213PS u32eb3<>(SB), Y4, Y7
	VFMADD213PS u32eb4<>(SB), Y4, Y7
	VFMADD213PS u32eb5<>(SB), Y4, Y7
	VFMADD213PS u32eb6<>(SB), Y4, Y7
	VFMADD213PS Y4, Y4, Y7
	VORPS u32sign<>(SB), Y7, Y0
	EXP8(Y0, Y1, Y2)
	VSUBPS Y2, Y9, Y2
	VCMPPS $0x1E, Y8, Y4, Y1 // a > split
	VBLENDVPS Y1, Y2, Y6, Y6
	VANDNPS Y3, Y14, Y1
	VORPS Y1, Y6, Y6
	VBLENDVPS Y10, Y6, Y3, Y6
	VMOVUPS Y6, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  erloop

erdone:
	VMOVMSKPS Y15, AX
	CMPQ AX, $0xFF
	SETEQ inRange+48(FP)
	VZEROUPPER
	RET

// func hardSigmoidAVX2(o, x []float32, alpha, beta float64, swish bool)
// len(o) is a multiple of 8. In float64, as the reference formula:
// h = max(0, min(1, alpha·x + beta)) (alpha·x is exact), o = swish ? x·h : h.
// min and max take h as their second operand so that NaN propagates.
TEXT ·hardSigmoidAVX2(SB), NOSPLIT, $0-65
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	VBROADCASTSD alpha+48(FP), Y10
	VBROADCASTSD beta+56(FP), Y11
	MOVBLZX swish+64(FP), DX
	VXORPD Y12, Y12, Y12
	VCVTPS2PD u32one<>(SB), Y13

hsloop:
	CMPQ CX, $0
	JLE  hsdone
	VCVTPS2PD (SI), Y0
	VCVTPS2PD 16(SI), Y1
	VMOVAPD Y11, Y2
	VFMADD231PD Y10, Y0, Y2
	VMOVAPD Y11, Y3
	VFMADD231PD Y10, Y1, Y3
	VMINPD Y2, Y13, Y2
	VMINPD Y3, Y13, Y3
	VMAXPD Y2, Y12, Y2
	VMAXPD Y3, Y12, Y3
	TESTQ DX, DX
	JZ    hsstore
	VMULPD Y0, Y2, Y2
	VMULPD Y1, Y3, Y3

hsstore:
	VCVTPD2PSY Y2, X2
	VCVTPD2PSY Y3, X3
	VMOVUPS X2, (DI)
	VMOVUPS X3, 16(DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  hsloop

hsdone:
	VZEROUPPER
	RET

// func sqrtAVX2(o, x []float32)
// len(o) is a multiple of 8; VSQRTPS rounds correctly, like the float64
// square root rounded to float32.
TEXT ·sqrtAVX2(SB), NOSPLIT, $0-48
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ x_base+24(FP), SI

sqloop:
	CMPQ CX, $0
	JLE  sqdone
	VSQRTPS (SI), Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  sqloop

sqdone:
	VZEROUPPER
	RET

// func reciprocalAVX2(o, x []float32)
// len(o) is a multiple of 8; o = 1/x, correctly rounded (VDIVPS).
TEXT ·reciprocalAVX2(SB), NOSPLIT, $0-48
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	VMOVUPS u32one<>(SB), Y9

rcloop:
	CMPQ CX, $0
	JLE  rcdone
	VDIVPS (SI), Y9, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  rcloop

rcdone:
	VZEROUPPER
	RET

// EXP16 is EXP8 on 16 lanes, with the constants in Z16..Z27.
#define EXP16(z, n, p) \
	VMULPS Z19, z, n; \
	VRNDSCALEPS $0, n, n; \
	VFNMADD231PS Z20, n, z; \
	VFNMADD231PS Z21, n, z; \
	VMOVAPS Z27, p; \
	VFMADD213PS Z26, z, p; \
	VFMADD213PS Z25, z, p; \
	VFMADD213PS Z24, z, p; \
	VFMADD213PS Z23, z, p; \
	VFMADD213PS Z22, z, p; \
	VFMADD213PS Z16, z, p; \
	VFMADD213PS Z16, z, p; \
	VCVTPS2DQ n, n; \
	VPSLLD $23, n, n; \
	VPADDD n, p, p

#define LOAD512CONSTS \
	VBROADCASTSS u32one<>(SB), Z16; \
	VBROADCASTSS u32abs<>(SB), Z17; \
	VBROADCASTSS u32sign<>(SB), Z18; \
	VBROADCASTSS u32log2e<>(SB), Z19; \
	VBROADCASTSS u32ln2hi<>(SB), Z20; \
	VBROADCASTSS u32ln2lo<>(SB), Z21; \
	VBROADCASTSS u32e2<>(SB), Z22; \
	VBROADCASTSS u32e3<>(SB), Z23; \
	VBROADCASTSS u32e4<>(SB), Z24; \
	VBROADCASTSS u32e5<>(SB), Z25; \
	VBROADCASTSS u32e6<>(SB), Z26; \
	VBROADCASTSS u32e7<>(SB), Z27; \
	VBROADCASTSS u32lim87<>(SB), Z28; \
	VPXORD Z29, Z29, Z29; \
	VBROADCASTSS u32erfmax<>(SB), Z30; \
	VBROADCASTSS u32erfsplit<>(SB), Z31; \
	KXNORW K1, K1, K1

// func sigmoidAVX512(o, x []float32) (inRange bool)
// sigmoidAVX2 on 16 lanes; len(o) is a multiple of 16.
TEXT ·sigmoidAVX512(SB), NOSPLIT, $0-49
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	LOAD512CONSTS

sg5loop:
	CMPQ CX, $0
	JLE  sg5done
	VMOVUPS (SI), Z3
	VPANDD Z17, Z3, Z0
	VCMPPS $0x12, Z28, Z0, K2 // |x| <= 87, false for NaN
	KANDW K2, K1, K1
	VCMPPS $0x11, Z29, Z3, K3 // x < 0
	VPORD Z18, Z0, Z0
	EXP16(Z0, Z1, Z2)
	VADDPS Z16, Z2, Z5
	VBLENDMPS Z2, Z16, K3, Z6
	VDIVPS Z5, Z6, Z6
	VBLENDMPS Z6, Z3, K2, Z6
	VMOVUPS Z6, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  sg5loop

sg5done:
	KMOVW K1, AX
	CMPW AX, $0xFFFF
	SETEQ inRange+48(FP)
	VZEROUPPER
	RET

// func erfAVX512(o, x []float32) (inRange bool)
// erfAVX2 on 16 lanes; len(o) is a multiple of 16.
TEXT ·erfAVX512(SB), NOSPLIT, $0-49
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	LOAD512CONSTS
	VBROADCASTSS u32es0<>(SB), Z8
	VBROADCASTSS u32es1<>(SB), Z9
	VBROADCASTSS u32es2<>(SB), Z10
	VBROADCASTSS u32es3<>(SB), Z11
	VBROADCASTSS u32es4<>(SB), Z12
	VBROADCASTSS u32es5<>(SB), Z13
	VBROADCASTSS u32eb0<>(SB), Z14
	VBROADCASTSS u32eb1<>(SB), Z15

er5loop:
	CMPQ CX, $0
	JLE  er5done
	VMOVUPS (SI), Z3
	VCMPPS $0, Z3, Z3, K2 // not NaN
	KANDW K2, K1, K1
	VPANDD Z17, Z3, Z4
	VMINPS Z30, Z4, Z4
	VMULPS Z4, Z4, Z5
	VMOVAPS Z8, Z6
	VFMADD213PS Z9, Z5, Z6
	VFMADD213PS Z10, Z5, Z6
	VFMADD213PS Z11, Z5, Z6
	VFMADD213PS Z12, Z5, Z6
	VFMADD213PS Z13, Z5, Z6
	VFMADD213PS Z4, Z4, Z6
	VMOVAPS Z14, Z7
	VFMADD213PS Z15, Z4, Z7
	VFMADD213PS.BCST u32eb2<>(SB), Z4, Z7
	VFMADD213PS.BCST u32eb3<>(SB), Z4, Z7
	VFMADD213PS.BCST u32eb4<>(SB), Z4, Z7
	VFMADD213PS.BCST u32eb5<>(SB), Z4, Z7
	VFMADD213PS.BCST u32eb6<>(SB), Z4, Z7
	VFMADD213PS Z4, Z4, Z7
	VPORD Z18, Z7, Z0
	EXP16(Z0, Z1, Z2)
	VSUBPS Z2, Z16, Z2
	VCMPPS $0x1E, Z31, Z4, K3 // a > split
	VBLENDMPS Z2, Z6, K3, Z6
	VPANDD Z18, Z3, Z1
	VPORD Z1, Z6, Z6
	VBLENDMPS Z6, Z3, K2, Z6
	VMOVUPS Z6, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  er5loop

er5done:
	KMOVW K1, AX
	CMPW AX, $0xFFFF
	SETEQ inRange+48(FP)
	VZEROUPPER
	RET

CONST8(u32t0, 0xBEAAAAAA)
CONST8(u32t1, 0x3E088830)
CONST8(u32t2, 0xBD5CF6BF)
CONST8(u32t3, 0x3CB1C072)
CONST8(u32t4, 0xBC05E2F7)
CONST8(u32t5, 0x3B0C217C)
CONST8(u32two, 0x40000000)
CONST8(u32tanhmax, 0x4111999A)
CONST8(u32tanhsplit, 0x3F200000)
CONST8(u32half, 0x3F000000)
CONST8(u32invsqrt2, 0x3F3504F3)
CONST8(u32gc1, 0x3FCC422A)
CONST8(u32gc2, 0x3D922279)

// ERFABS8 sets Y6 = erf(a) for a = Y4 in [0, 3.925] as erfAVX2 does
// (clobbers Y0-Y2, Y5, Y7; needs Y8 = split, Y9 = 1).
#define ERFABS8 \
	VMULPS Y4, Y4, Y5; \
	VMOVUPS u32es0<>(SB), Y6; \
	VFMADD213PS u32es1<>(SB), Y5, Y6; \
	VFMADD213PS u32es2<>(SB), Y5, Y6; \
	VFMADD213PS u32es3<>(SB), Y5, Y6; \
	VFMADD213PS u32es4<>(SB), Y5, Y6; \
	VFMADD213PS u32es5<>(SB), Y5, Y6; \
	VFMADD213PS Y4, Y4, Y6; \
	VMOVUPS u32eb0<>(SB), Y7; \
	VFMADD213PS u32eb1<>(SB), Y4, Y7; \
	VFMADD213PS u32eb2<>(SB), Y4, Y7; \
	VFMADD213PS u32eb3<>(SB), Y4, Y7; \
	VFMADD213PS u32eb4<>(SB), Y4, Y7; \
	VFMADD213PS u32eb5<>(SB), Y4, Y7; \
	VFMADD213PS u32eb6<>(SB), Y4, Y7; \
	VFMADD213PS Y4, Y4, Y7; \
	VORPS u32sign<>(SB), Y7, Y0; \
	EXP8(Y0, Y1, Y2); \
	VSUBPS Y2, Y9, Y2; \
	VCMPPS $0x1E, Y8, Y4, Y1; \
	VBLENDVPS Y1, Y2, Y6, Y6

// func tanhAVX2(o, x []float32) (inRange bool)
// len(o) is a multiple of 8. a = min(|x|, 9.1) (tanh rounds to 1 above 9.01);
// for a ≤ 0.625 tanh = a + a·s·T(s), s = a², T a degree-5 least-squares fit
// of (tanh(a)/a − 1)/s (relative error < 3e-9 before rounding); above it
// tanh = 1 − 2/(e**2a + 1). The sign of x is copied on; NaN lanes get o = x.
TEXT ·tanhAVX2(SB), NOSPLIT, $0-49
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	VPCMPEQD Y15, Y15, Y15
	VMOVUPS u32one<>(SB), Y9
	VMOVUPS u32abs<>(SB), Y14
	VMOVUPS u32tanhmax<>(SB), Y13
	VMOVUPS u32tanhsplit<>(SB), Y8

thloop:
	CMPQ CX, $0
	JLE  thdone
	VMOVUPS (SI), Y3
	VCMPPS $0, Y3, Y3, Y10 // not NaN
	VANDPS Y10, Y15, Y15
	VANDPS Y14, Y3, Y4
	VMINPS Y13, Y4, Y4
	VMULPS Y4, Y4, Y5
	VMOVUPS u32t5<>(SB), Y6
	VFMADD213PS u32t4<>(SB), Y5, Y6
	VFMADD213PS u32t3<>(SB), Y5, Y6
	VFMADD213PS u32t2<>(SB), Y5, Y6
	VFMADD213PS u32t1<>(SB), Y5, Y6
	VFMADD213PS u32t0<>(SB), Y5, Y6
	VMULPS Y5, Y6, Y6
	VFMADD213PS Y4, Y4, Y6
	VADDPS Y4, Y4, Y0
	EXP8(Y0, Y1, Y2)
	VADDPS Y9, Y2, Y2
	VMOVUPS u32two<>(SB), Y7
	VDIVPS Y2, Y7, Y7
	VSUBPS Y7, Y9, Y7
	VCMPPS $0x1E, Y8, Y4, Y1 // a > split
	VBLENDVPS Y1, Y7, Y6, Y6
	VANDNPS Y3, Y14, Y1
	VORPS Y1, Y6, Y6
	VBLENDVPS Y10, Y6, Y3, Y6
	VMOVUPS Y6, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  thloop

thdone:
	VMOVMSKPS Y15, AX
	CMPQ AX, $0xFF
	SETEQ inRange+48(FP)
	VZEROUPPER
	RET

CONST8(u32ec0, 0x37CF2498)
CONST8(u32ec1, 0x3E668028)
CONST8(u32ec2, 0x3E6D0CB5)
CONST8(u32ec3, 0x3E32D4D8)
CONST8(u32ec4, 0x3E92BFC5)
CONST8(u32ec5, 0xBE06214F)
CONST8(u32ec6, 0x3ECEAED7)
CONST8(u32ec7, 0xBE5FD531)
CONST8(u32ec8, 0x3CE481EF)
CONST8(u32tc, 0x3E90D0C3)
CONST8(u32gelumin, 0xC1533333)

// func geluErfAVX2(o, x []float32, lo float32) (inRange bool)
// len(o) is a multiple of 8. o = x/2·(1 + erf(x·(1/√2))) with erf as in
// erfAVX2 for x ≥ lo; below lo, where 1 + erf would cancel, o = x/2·erfc(a)
// with a = −x/√2 and erfc(a) = e**−a²·E(t), t = 1/(1 + c·|x|) with c the
// float32 nearest 0.4/√2, E a degree-8 least-squares fit of erfc(a)·e**a²
// on a in [0.92, 9.4] (relative error 1.8e-8 before rounding), a² = x²/2 carried as h + l (from x·x and its
// FMA remainder, halved exactly) and e**−a² = e**−h·(1 − l). Lanes below −13.2 (o subnormal or 0) and NaN get
// o = x.
TEXT ·geluErfAVX2(SB), NOSPLIT, $0-57
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	VBROADCASTSS lo+48(FP), Y12
	VPCMPEQD Y15, Y15, Y15
	VMOVUPS u32one<>(SB), Y9
	VMOVUPS u32abs<>(SB), Y14
	VMOVUPS u32erfmax<>(SB), Y13
	VMOVUPS u32erfsplit<>(SB), Y8

geloop:
	CMPQ CX, $0
	JLE  gedone
	VMOVUPS (SI), Y3
	VCMPPS $0x1D, u32gelumin<>(SB), Y3, Y10 // x >= -13.2, false for NaN
	VANDPS Y10, Y15, Y15
	VMULPS u32invsqrt2<>(SB), Y3, Y11
	VANDPS Y14, Y11, Y4
	VMINPS Y13, Y4, Y4
	ERFABS8
	VANDNPS Y11, Y14, Y1
	VORPS Y1, Y6, Y6
	VADDPS Y9, Y6, Y6
	VMULPS u32half<>(SB), Y3, Y1
	VMULPS Y1, Y6, Y6
	VANDPS Y14, Y3, Y4 // |x|
	VMOVUPS u32tc<>(SB), Y5
	VFMADD213PS Y9, Y4, Y5
	VDIVPS Y5, Y9, Y5 // t
	VMOVUPS u32ec8<>(SB), Y7
	VFMADD213PS u32ec7<>(SB), Y5, Y7
	VFMADD213PS u32ec6<>(SB), Y5, Y7
	VFMADD213PS u32ec5<>(SB), Y5, Y7
	VFMADD213PS u32ec4<>(SB), Y5, Y7
	VFMADD213PS u32ec3<>(SB), Y5, Y7
	VFMADD213PS u32ec2<>(SB), Y5, Y7
	VFMADD213PS u32ec1<>(SB), Y5, Y7
	VFMADD213PS u32ec0<>(SB), Y5, Y7
	VMULPS Y3, Y3, Y0 // h
	VMOVAPS Y3, Y2
	VFMSUB213PS Y0, Y3, Y2 // l = x·x − h
	VMULPS u32half<>(SB), Y0, Y0
	VMULPS u32half<>(SB), Y2, Y2
	VFNMADD231PS Y2, Y7, Y7 // E·(1 − l)
	VORPS u32sign<>(SB), Y0, Y0
	EXP8(Y0, Y1, Y2)
	VMULPS Y2, Y7, Y7
	VMULPS u32half<>(SB), Y3, Y1
	VMULPS Y1, Y7, Y7
	VCMPPS $0x11, Y12, Y3, Y1 // x < lo
	VBLENDVPS Y1, Y7, Y6, Y6
	VBLENDVPS Y10, Y6, Y3, Y6
	VMOVUPS Y6, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  geloop

gedone:
	VMOVMSKPS Y15, AX
	CMPQ AX, $0xFF
	SETEQ inRange+56(FP)
	VZEROUPPER
	RET

DATA gtc1<>+0(SB)/8, $0x3FF9884533D43651
GLOBL gtc1<>(SB), RODATA|NOPTR, $8
DATA gtc2<>+0(SB)/8, $0x3FB2444F2A4D8B4B
GLOBL gtc2<>(SB), RODATA|NOPTR, $8
CONST8(u32gtmin, 0xC11E6666)
CONST8(u32gtmax, 0x49742400)

// GTZ4 sets the float32 pair (hi, lo) of z = x·(c1 + c2·x²) for the four
// float32 x in xf, computed in float64 (clobbers d, t).
#define GTZ4(xf, d, t, hi, lo) \
	VCVTPS2PD xf, d; \
	VMULPD d, d, t; \
	VFMADD213PD Y13, Y12, t; \
	VMULPD d, t, d; \
	VCVTPD2PSY d, hi; \
	VCVTPS2PD hi, t; \
	VSUBPD t, d, d; \
	VCVTPD2PSY d, lo

// func geluTanhAVX2(o, x []float32) (inRange bool)
// len(o) is a multiple of 8. The tanh approximation of Gelu,
// x/2·(1 + tanh(√(2/π)·(x + 0.044715x³))), as x·σ(z) with
// z = x·(2√(2/π) + 2√(2/π)·0.044715·x²) (1 + tanh(u) = 2σ(2u): no
// cancellation). σ(z) ≈ e**z for z ≪ 0 has relative condition |z|, so z is
// computed in float64 and carried as a float32 pair zh + zl, and
// e**−|z| = e**−|zh|·(1 ∓ zl); σ as in sigmoidAVX2 (|zh| clamped to 87).
// Lanes below −9.9 (z < −85) or above 1e6 (where zh would overflow; o = x
// there) and NaN get o = x.
TEXT ·geluTanhAVX2(SB), NOSPLIT, $0-49
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	VBROADCASTSD gtc1<>(SB), Y13
	VBROADCASTSD gtc2<>(SB), Y12
	VPCMPEQD Y15, Y15, Y15
	VMOVUPS u32one<>(SB), Y9
	VMOVUPS u32abs<>(SB), Y14

gtloop:
	CMPQ CX, $0
	JLE  gtdone
	VMOVUPS (SI), Y3
	VCMPPS $0x1D, u32gtmin<>(SB), Y3, Y10 // x >= -9.9, false for NaN
	VCMPPS $0x12, u32gtmax<>(SB), Y3, Y1 // x <= 1e6 (z finite in float32)
	VANDPS Y1, Y10, Y10
	VANDPS Y10, Y15, Y15
	GTZ4(X3, Y0, Y1, X4, X5)
	VEXTRACTF128 $1, Y3, X2
	GTZ4(X2, Y0, Y1, X6, X7)
	VINSERTF128 $1, X6, Y4, Y4 // zh
	VINSERTF128 $1, X7, Y5, Y5 // zl
	VANDPS Y14, Y4, Y0
	VMINPS u32lim87<>(SB), Y0, Y0
	VORPS u32sign<>(SB), Y0, Y0
	EXP8(Y0, Y1, Y2)
	VANDNPS Y4, Y14, Y1
	VXORPS Y1, Y5, Y5 // sign(zh)·zl
	VFNMADD231PS Y5, Y2, Y2 // e·(1 − sign(zh)·zl)
	VADDPS Y9, Y2, Y5
	VBLENDVPS Y4, Y2, Y9, Y6
	VDIVPS Y5, Y6, Y6
	VMULPS Y3, Y6, Y6
	VBLENDVPS Y10, Y6, Y3, Y6
	VMOVUPS Y6, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  gtloop

gtdone:
	VMOVMSKPS Y15, AX
	CMPQ AX, $0xFF
	SETEQ inRange+48(FP)
	VZEROUPPER
	RET

// func reluLikeAVX2(o, x []float32, alpha float32, thresholded bool)
// len(o) is a multiple of 8. LeakyRelu: o = x < 0 ? alpha·x : x;
// ThresholdedRelu: o = x > alpha ? x : 0 (NaN gives 0).
TEXT ·reluLikeAVX2(SB), NOSPLIT, $0-53
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	VBROADCASTSS alpha+48(FP), Y10
	MOVBLZX thresholded+52(FP), DX
	VXORPS Y11, Y11, Y11
	TESTQ DX, DX
	JNZ   trloop

lrloop:
	CMPQ CX, $0
	JLE  rldone
	VMOVUPS (SI), Y0
	VCMPPS $0x11, Y11, Y0, Y1 // x < 0
	VMULPS Y10, Y0, Y2
	VBLENDVPS Y1, Y2, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  lrloop

trloop:
	CMPQ CX, $0
	JLE  rldone
	VMOVUPS (SI), Y0
	VCMPPS $0x1E, Y10, Y0, Y1 // x > alpha, false for NaN
	VANDPS Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  trloop

rldone:
	VZEROUPPER
	RET

CONST8(u32twenty, 0x41A00000)
CONST8(u32neg87, 0xC2AE0000)

// func mishAVX2(o, x []float32) (inRange bool)
// len(o) is a multiple of 8. mish = x·tanh(softplus(x)) = x·n/(n + 2) with
// n = e·(e + 2), e = e**min(x, 20) (above 20 the ratio is 1 in float32).
// Lanes below −87 (e subnormal) and NaN get o = x.
TEXT ·mishAVX2(SB), NOSPLIT, $0-49
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	VPCMPEQD Y15, Y15, Y15
	VMOVUPS u32two<>(SB), Y9
	VMOVUPS u32twenty<>(SB), Y13
	VMOVUPS u32neg87<>(SB), Y12

mhloop:
	CMPQ CX, $0
	JLE  mhdone
	VMOVUPS (SI), Y3
	VCMPPS $0x1D, Y12, Y3, Y10 // x >= -87, false for NaN
	VANDPS Y10, Y15, Y15
	VMINPS Y13, Y3, Y0
	EXP8(Y0, Y1, Y2)
	VADDPS Y9, Y2, Y4
	VMULPS Y4, Y2, Y4 // n
	VADDPS Y9, Y4, Y5
	VDIVPS Y5, Y4, Y4
	VMULPS Y3, Y4, Y4
	VBLENDVPS Y10, Y4, Y3, Y4
	VMOVUPS Y4, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  mhloop

mhdone:
	VMOVMSKPS Y15, AX
	CMPQ AX, $0xFF
	SETEQ inRange+48(FP)
	VZEROUPPER
	RET

CONST8(u32neg20, 0xC1A00000)
CONST8(u32tiny, 0x21800000)

// func eluLikeAVX2(o, x []float32, inv, neg, pos, k float32)
// len(o) is a multiple of 8. o = x < 0 ? neg·expm1(x·inv) : pos·x (Elu,
// Selu, and Celu with inv = 1/alpha); for |x| < 2^-60, where x·inv may
// underflow, neg·expm1(x·inv) = k·x with k = neg·inv. expm1(z) for z = clamp(x·inv, −20, 0)
// (expm1 is −1 in float32 below −17.4): z = n·ln 2 + r as in EXP8,
// q = r + r²/2 + … + r⁸/8! by Horner; expm1 = q when n = 0 (no
// cancellation near 0), else 2^n·(1 + q) − 1 (there e**z ≤ 0.71).
TEXT ·eluLikeAVX2(SB), NOSPLIT, $0-64
	MOVQ o_base+0(FP), DI
	MOVQ o_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	VBROADCASTSS inv+48(FP), Y12
	VBROADCASTSS neg+52(FP), Y13
	VBROADCASTSS pos+56(FP), Y14
	VBROADCASTSS k+60(FP), Y15
	VMOVUPS u32one<>(SB), Y9
	VMOVUPS u32neg20<>(SB), Y11
	VXORPS Y10, Y10, Y10

elloop:
	CMPQ CX, $0
	JLE  eldone
	VMOVUPS (SI), Y3
	VMULPS Y12, Y3, Y0
	VMAXPS Y11, Y0, Y0
	VMINPS Y10, Y0, Y0 // z
	VMULPS u32log2e<>(SB), Y0, Y1
	VROUNDPS $0, Y1, Y1 // n
	VFNMADD231PS u32ln2hi<>(SB), Y1, Y0
	VFNMADD231PS u32ln2lo<>(SB), Y1, Y0 // r
	VMOVUPS u32e7<>(SB), Y2
	VFMADD213PS u32e6<>(SB), Y0, Y2
	VFMADD213PS u32e5<>(SB), Y0, Y2
	VFMADD213PS u32e4<>(SB), Y0, Y2
	VFMADD213PS u32e3<>(SB), Y0, Y2
	VFMADD213PS u32e2<>(SB), Y0, Y2
	VFMADD213PS Y9, Y0, Y2
	VMULPS Y0, Y2, Y2 // q = e**r − 1
	VCMPPS $0, Y10, Y1, Y4 // n == 0
	VADDPS Y9, Y2, Y5
	VCVTPS2DQ Y1, Y1
	VPSLLD $23, Y1, Y1
	VPADDD Y1, Y5, Y5
	VSUBPS Y9, Y5, Y5 // 2^n·(1 + q) − 1
	VBLENDVPS Y4, Y2, Y5, Y5
	VMULPS Y13, Y5, Y5
	VANDPS u32abs<>(SB), Y3, Y6
	VCMPPS $0x11, u32tiny<>(SB), Y6, Y4 // |x| < 2^-60
	VMULPS Y15, Y3, Y6
	VBLENDVPS Y4, Y6, Y5, Y5
	VMULPS Y14, Y3, Y6
	VCMPPS $0x11, Y10, Y3, Y4 // x < 0
	VBLENDVPS Y4, Y5, Y6, Y6
	VMOVUPS Y6, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  elloop

eldone:
	VZEROUPPER
	RET
