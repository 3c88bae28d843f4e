//go:build ignore

// gemm_narrow_gen writes gemm_narrow_amd64.s, the AVX-512 and AVX2
// micro-kernels for products with few rows (go run gemm_narrow_gen.go > gemm_narrow_amd64.s).
// Each kernel is unrolled for its row count, so it is generated rather
// than written out twelve times by hand.
package main

import (
	"fmt"
	"os"
	"strings"
)

var out strings.Builder

func p(format string, args ...any) { fmt.Fprintf(&out, "\t"+format+"\n", args...) }

// wideStrips is how many 32-column strips the unmasked kernel for r rows
// multiplies at once: enough accumulators (r·2·strips ≤ 16) that the FMAs'
// latency is hidden and each broadcast of A feeds several FMAs.
func wideStrips(r int) int {
	if r <= 2 {
		return 4
	}
	return 2
}

// edge writes sgemmNarrowEdge<r>: C[r×cols] += A·B for one 32-column
// strip, cols 1..32 (opmasks K1/K2 for the two 16-lane halves).
func edge(r int) {
	fmt.Fprintf(&out, "\n// func sgemmNarrowEdge%d(k int, a *float32, lda int, b, c *float32, ldc, cols int)\n", r)
	fmt.Fprintf(&out, "//\n// C[%d×cols] += A·B: A holds %d row values every lda floats (one group\n// per k), B a packed 32-column strip; cols is 1..32.\n", r, r)
	fmt.Fprintf(&out, "TEXT ·sgemmNarrowEdge%d(SB), NOSPLIT, $0-56\n", r)
	p("MOVQ a+8(FP), SI")
	p("MOVQ lda+16(FP), R9")
	p("SHLQ $2, R9")
	p("MOVQ b+24(FP), DI")
	p("MOVQ c+32(FP), DX")
	p("MOVQ ldc+40(FP), R8")
	p("SHLQ $2, R8")
	p("MOVQ cols+48(FP), CX")
	p("MOVQ $1, R11")
	p("SHLQ CX, R11")
	p("DECQ R11")
	p("KMOVQ R11, K1")
	p("KSHIFTRQ $16, K1, K2")
	p("MOVQ k+0(FP), CX")
	for i := 0; i < 2*r; i++ {
		p("VPXORD Z%d, Z%d, Z%d", i, i, i)
	}
	p("TESTQ CX, CX")
	p("JE    done")
	fmt.Fprintf(&out, "\nloop:\n")
	p("VMOVUPS (DI), Z28")
	p("VMOVUPS 64(DI), Z29")
	for i := 0; i < r; i++ {
		z := 30 + i%2
		p("VBROADCASTSS %d(SI), Z%d", 4*i, z)
		p("VFMADD231PS Z28, Z%d, Z%d", z, 2*i)
		p("VFMADD231PS Z29, Z%d, Z%d", z, 2*i+1)
	}
	p("ADDQ R9, SI")
	p("ADDQ $128, DI")
	p("DECQ CX")
	p("JNZ  loop")
	fmt.Fprintf(&out, "\ndone:\n")
	for i := 0; i < r; i++ {
		if i > 0 {
			p("ADDQ R8, DX")
		}
		p("VMOVUPS.Z (DX), K1, Z30")
		p("VADDPS Z30, Z%d, Z%d", 2*i, 2*i)
		p("VMOVUPS Z%d, K1, (DX)", 2*i)
		p("VMOVUPS.Z 64(DX), K2, Z31")
		p("VADDPS Z31, Z%d, Z%d", 2*i+1, 2*i+1)
		p("VMOVUPS Z%d, K2, 64(DX)", 2*i+1)
	}
	p("VZEROUPPER")
	p("RET")
}

// stripArgs loads the arguments of the strip kernels (k, a, lda, b, bs,
// c, ldc), strides in bytes, with R12 = 3·bs for the fourth strip.
func stripArgs() {
	p("MOVQ k+0(FP), CX")
	p("MOVQ a+8(FP), SI")
	p("MOVQ lda+16(FP), R9")
	p("SHLQ $2, R9")
	p("MOVQ b+24(FP), DI")
	p("MOVQ bs+32(FP), R11")
	p("SHLQ $2, R11")
	p("LEAQ (R11)(R11*2), R12")
	p("MOVQ c+40(FP), DX")
	p("MOVQ ldc+48(FP), R8")
	p("SHLQ $2, R8")
}

// wide writes sgemmNarrowWide<r>: C[r×(32·s)] += A·B over s whole strips
// (s = wideStrips(r)), bs floats apart in B.
func wide(r int) {
	s := wideStrips(r)
	fmt.Fprintf(&out, "\n// func sgemmNarrowWide%d(k int, a *float32, lda int, b *float32, bs int, c *float32, ldc int)\n", r)
	fmt.Fprintf(&out, "//\n// C[%d×%d] += A·B: A holds %d row values every lda floats, B %d packed\n// 32-column strips, bs floats apart.\n", r, 32*s, r, s)
	fmt.Fprintf(&out, "TEXT ·sgemmNarrowWide%d(SB), NOSPLIT, $0-56\n", r)
	stripArgs()
	acc := func(i, st, h int) int { return i*2*s + 2*st + h }
	for i := 0; i < 2*s*r; i++ {
		p("VPXORD Z%d, Z%d, Z%d", i, i, i)
	}
	p("TESTQ CX, CX")
	p("JE    done")
	// Strip st of B at DI + st·bs.
	strip := func(st, h int) string {
		off := ""
		if h == 1 {
			off = "64"
		}
		switch st {
		case 0:
			return off + "(DI)"
		case 1:
			return off + "(DI)(R11*1)"
		case 2:
			return off + "(DI)(R11*2)"
		default:
			return off + "(DI)(R12*1)"
		}
	}
	fmt.Fprintf(&out, "\nloop:\n")
	if r == 1 {
		// Each B value is used once: FMA straight from memory.
		p("VBROADCASTSS (SI), Z30")
		for st := 0; st < s; st++ {
			for h := 0; h < 2; h++ {
				p("VFMADD231PS %s, Z30, Z%d", strip(st, h), acc(0, st, h))
			}
		}
	} else {
		for st := 0; st < s; st++ {
			for h := 0; h < 2; h++ {
				p("VMOVUPS %s, Z%d", strip(st, h), 16+2*st+h)
			}
		}
		for i := 0; i < r; i++ {
			z := 30 + i%2
			p("VBROADCASTSS %d(SI), Z%d", 4*i, z)
			for st := 0; st < s; st++ {
				for h := 0; h < 2; h++ {
					p("VFMADD231PS Z%d, Z%d, Z%d", 16+2*st+h, z, acc(i, st, h))
				}
			}
		}
	}
	stripsEnd(r, s, "Z", 64, acc)
}

// avx2Strips is how many 16-column strips the AVX2 kernel for r rows
// multiplies at once (r·2·strips accumulators within 16 ymm registers,
// with the B row and a broadcast).
func avx2Strips(r int) int {
	switch {
	case r == 1:
		return 4
	case r == 2:
		return 2
	}
	return 1
}

// avx2 writes sgemmNarrowAVX2_<r>x<s>: C[r×(16·s)] += A·B over s whole
// 16-column strips of the AVX2 kernel's packing, bs floats apart.
func avx2(r, s int) {
	name := fmt.Sprintf("sgemmNarrowAVX2_%dx%d", r, s)
	fmt.Fprintf(&out, "\n// func %s(k int, a *float32, lda int, b *float32, bs int, c *float32, ldc int)\n", name)
	fmt.Fprintf(&out, "//\n// C[%d×%d] += A·B (AVX2/FMA): A holds %d row values every lda floats, B %d\n// packed 16-column strips, bs floats apart.\n", r, 16*s, r, s)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-56\n", name)
	stripArgs()
	acc := func(i, st, h int) int { return i*2*s + 2*st + h }
	for i := 0; i < 2*s*r; i++ {
		p("VXORPS Y%d, Y%d, Y%d", i, i, i)
	}
	p("TESTQ CX, CX")
	p("JE    done")
	strip := func(st, h int) string {
		off := ""
		if h == 1 {
			off = "32"
		}
		return off + [...]string{"(DI)", "(DI)(R11*1)", "(DI)(R11*2)", "(DI)(R12*1)"}[st]
	}
	breg := 2 * s * r // first register after the accumulators
	fmt.Fprintf(&out, "\nloop:\n")
	if r == 1 {
		p("VBROADCASTSS (SI), Y15")
		for st := 0; st < s; st++ {
			for h := 0; h < 2; h++ {
				p("VFMADD231PS %s, Y15, Y%d", strip(st, h), acc(0, st, h))
			}
		}
	} else {
		for st := 0; st < s; st++ {
			for h := 0; h < 2; h++ {
				p("VMOVUPS %s, Y%d", strip(st, h), breg+2*st+h)
			}
		}
		for i := 0; i < r; i++ {
			z := 14 + i%2
			p("VBROADCASTSS %d(SI), Y%d", 4*i, z)
			for st := 0; st < s; st++ {
				for h := 0; h < 2; h++ {
					p("VFMADD231PS Y%d, Y%d, Y%d", breg+2*st+h, z, acc(i, st, h))
				}
			}
		}
	}
	stripsEnd(r, s, "Y", 32, acc)
}

// stripsEnd closes a strip kernel's k loop (A on by lda, B by two vectors
// of vb bytes) and adds the r×2s accumulators acc(i, st, h) (registers
// named reg) into C, row by row.
func stripsEnd(r, s int, reg string, vb int, acc func(i, st, h int) int) {
	p("ADDQ R9, SI")
	p("ADDQ $%d, DI", 2*vb)
	p("DECQ CX")
	p("JNZ  loop")
	fmt.Fprintf(&out, "\ndone:\n")
	for i := 0; i < r; i++ {
		if i > 0 {
			p("ADDQ R8, DX")
		}
		for st := 0; st < s; st++ {
			for h := 0; h < 2; h++ {
				z, off := acc(i, st, h), 2*vb*st+vb*h
				p("VADDPS %d(DX), %s%d, %s%d", off, reg, z, reg, z)
				p("VMOVUPS %s%d, %d(DX)", reg, z, off)
			}
		}
	}
	p("VZEROUPPER")
	p("RET")
}

func main() {
	out.WriteString("// Code generated by gemm_narrow_gen.go; DO NOT EDIT.\n\n//go:build amd64\n\n#include \"textflag.h\"\n")
	for r := 1; r <= narrowRows; r++ {
		edge(r)
	}
	for r := 1; r <= narrowWideRows; r++ {
		wide(r)
	}
	for r := 1; r <= narrowRowsAVX2; r++ {
		avx2(r, 1)
		if s := avx2Strips(r); s > 1 {
			avx2(r, s)
		}
	}
	os.Stdout.WriteString(out.String())
}

const narrowRows, narrowWideRows, narrowRowsAVX2 = 8, 4, 5
