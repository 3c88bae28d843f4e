package eval

import (
	"math"
	"math/rand"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// TestSgemmAgainstGonum compares the blocked float32 GEMM, with every
// micro-kernel this CPU runs, with gonum's float64 Dgemm on the same
// inputs, over shapes that exercise every edge (partial 6×16 and 14×32
// tiles, K beyond one 256 block, transposed operands, serial and parallel
// splits along either side).
func TestSgemmAgainstGonum(t *testing.T) {
	for _, kr := range gemmKernels() {
		t.Run(kr.name, func(t *testing.T) { testSgemm(t, kr) })
	}
}

// viewStrips is a stripPacker that packs a stored matrix (A when asA,
// else B) with packA or packB: the driver test's generated operand.
type viewStrips struct {
	v   matView
	asA bool
}

func (s viewStrips) packStrips(dst []float32, w, p0, kc, u, n int) {
	if s.asA {
		packA(&gemmKernel{mr: w}, dst, s.v, u, n, p0, kc)
		return
	}
	packB(&gemmKernel{nr: w}, dst, s.v, p0, kc, u, n)
}

// TestSgemmGenerated runs the product with an operand that packs itself
// as the driver asks (the im2col unfold's interface), A or B, against
// gonum's Dgemm: every split of the work (serial, along M, along N) must
// hand the generator the rows or columns of its own block.
func TestSgemmGenerated(t *testing.T) {
	for _, kr := range gemmKernels() {
		t.Run(kr.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(3))
			for _, sh := range [][3]int{{5, 17, 3}, {7, 33, 257}, {15, 31, 513}, {64, 49, 576}, {13, 300, 40}, {300, 13, 600}, {150, 290, 70}, {1000, 9, 300}} {
				for _, genA := range []bool{false, true} {
					m, n, k := sh[0], sh[1], sh[2]
					a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
					a64, b64, c64 := make([]float64, m*k), make([]float64, k*n), make([]float64, m*n)
					for i := range a {
						a[i] = float32(rng.NormFloat64())
						a64[i] = float64(a[i])
					}
					for i := range b {
						b[i] = float32(rng.NormFloat64())
						b64[i] = float64(b[i])
					}
					av, bv := rowMajor(a, k), rowMajor(b, n)
					if genA {
						av = generated(viewStrips{av, true})
					} else {
						bv = generated(viewStrips{bv, false})
					}
					sgemmKernel(kr, m, n, k, av, bv, nil, nil, c, n)
					gonum.Implementation{}.Dgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a64, k, b64, n, 0, c64, n)
					tol := 4 * float64(k) * 0x1p-24 * math.Sqrt(float64(k)) // as in testSgemm
					for i := range c {
						if d := math.Abs(float64(c[i]) - c64[i]); d > tol*(1+math.Abs(c64[i])) {
							t.Fatalf("%v generated A %v: c[%d] = %g, want %g", sh, genA, i, c[i], c64[i])
						}
					}
				}
			}
		})
	}
}

func testSgemm(t *testing.T, kr *gemmKernel) {
	rng := rand.New(rand.NewSource(1))
	shapes := [][3]int{{1, 1, 1}, {5, 17, 3}, {6, 16, 256}, {7, 33, 257}, {14, 32, 5}, {15, 31, 513}, {29, 65, 100},
		{64, 49, 576}, {13, 300, 40}, {300, 13, 600}, {1, 1000, 512}, {150, 290, 70}}
	for _, sh := range shapes {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			m, n, k := sh[0], sh[1], sh[2]
			a := make([]float32, m*k)
			b := make([]float32, k*n)
			for i := range a {
				a[i] = float32(rng.NormFloat64())
			}
			for i := range b {
				b[i] = float32(rng.NormFloat64())
			}
			// c is followed by guard values no kernel may write.
			cg := make([]float32, m*n+64)
			for i := range cg {
				cg[i] = float32(rng.NormFloat64())
			}
			c, guard := cg[:m*n], append([]float32(nil), cg[m*n:]...)
			a64, b64, c64 := make([]float64, m*k), make([]float64, k*n), make([]float64, m*n)
			av, bv := rowMajor(a, k), rowMajor(b, n)
			ta, tb := blas.NoTrans, blas.NoTrans
			lda, ldb := k, n
			if tr[0] { // a holds A transposed: (k×m)
				av, ta, lda = transposed(a, m), blas.Trans, m
			}
			if tr[1] {
				bv, tb, ldb = transposed(b, k), blas.Trans, k
			}
			for i, v := range a {
				a64[i] = float64(v)
			}
			for i, v := range b {
				b64[i] = float64(v)
			}
			for i, v := range c {
				c64[i] = float64(v)
			}
			sgemmKernel(kr, m, n, k, av, bv, nil, nil, c, n)
			for i, v := range cg[m*n:] {
				if v != guard[i] {
					t.Fatalf("%v trans %v: wrote past the end of c", sh, tr)
				}
			}
			gonum.Implementation{}.Dgemm(ta, tb, m, n, k, 1, a64, lda, b64, ldb, 1, c64, n)
			// float32 accumulation of k products of unit normals: error
			// below ~k·2^-24·sqrt(k) relative to the sum of |terms|.
			tol := 4 * float64(k) * 0x1p-24 * math.Sqrt(float64(k))
			for i := range c {
				if d := math.Abs(float64(c[i]) - c64[i]); d > tol*(1+math.Abs(c64[i])) {
					t.Fatalf("%v trans %v: c[%d] = %g, want %g", sh, tr, i, c[i], c64[i])
				}
			}
		}
	}
}

func benchGemm(b *testing.B, m, n, k int, f func(a, bb, c []float32)) {
	rng := rand.New(rand.NewSource(1))
	a, bb, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for i := range a {
		a[i] = float32(rng.NormFloat64())
	}
	for i := range bb {
		bb[i] = float32(rng.NormFloat64())
	}
	b.SetBytes(int64(2 * m * n * k)) // "MB/s" reads as MFLOP/s
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f(a, bb, c)
	}
}

// BenchmarkSgemm compares the blocked AVX2 GEMM with gonum's Sgemm (a
// well-kept Go BLAS) on a convolution-sized product (64 filters × 3·3·64
// taps × 56·56 pixels) and a transformer-sized one.
func BenchmarkSgemm(b *testing.B) {
	for _, sh := range [][3]int{{64, 3136, 576}, {128, 256, 512}} {
		m, n, k := sh[0], sh[1], sh[2]
		b.Run("blocked", func(b *testing.B) {
			benchGemm(b, m, n, k, func(a, bb, c []float32) { sgemm(m, n, k, rowMajor(a, k), rowMajor(bb, n), c, n) })
		})
		b.Run("gonum", func(b *testing.B) {
			benchGemm(b, m, n, k, func(a, bb, c []float32) {
				gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, bb, n, 1, c, n)
			})
		})
		b.Run("naive", func(b *testing.B) {
			benchGemm(b, m, n, k, func(a, bb, c []float32) { matmulT(a, bb, c, m, k, n) })
		})
	}
}

// BenchmarkGemmShapes runs every micro-kernel this CPU has on the
// products of resnet18's 3×3 convolutions at a 64×64 input (M filters ×
// K taps × N pixels of one image, of the batch of 2 folded into N, and
// that transposed), the weight-shared linear layers of convnext_tiny and
// swin_t, and one swin_t attention product. The weight operand (pre: A or
// B) is packed before timing, as the session's pack cache does.
func BenchmarkGemmShapes(b *testing.B) {
	shapes := []struct {
		name    string
		m, n, k int
		pre     byte
	}{
		{"r18_l1_64x256x576", 64, 256, 576, 'A'},
		{"r18_l2_128x64x1152", 128, 64, 1152, 'A'},
		{"r18_l3_256x16x2304", 256, 16, 2304, 'A'},
		{"r18_l4_512x4x4608", 512, 4, 4608, 'A'},
		{"r18_l4_b2_512x8x4608", 512, 8, 4608, 'A'},
		{"r18_l4_b2T_8x512x4608", 8, 512, 4608, 'B'},
		{"cnx_mlp_512x384x96", 512, 384, 96, 'B'},
		{"swin_qkv_1024x288x96", 1024, 288, 96, 'B'},
		{"swin_attn_49x49x32", 49, 49, 32, 0},
	}
	for _, sh := range shapes {
		for _, kr := range gemmKernels() {
			b.Run(sh.name+"/"+kr.name, func(b *testing.B) {
				m, n, k := sh.m, sh.n, sh.k
				var preA, preB *packed
				benchGemm(b, m, n, k, func(a, bb, c []float32) {
					av, bv := rowMajor(a, k), rowMajor(bb, n)
					if sh.pre == 'A' && preA == nil {
						preA = packWholeA(kr, av, m, k, nil)
						b.ResetTimer()
					}
					if sh.pre == 'B' && preB == nil {
						preB = packWholeB(kr, bv, k, n, nil)
						b.ResetTimer()
					}
					sgemmKernel(kr, m, n, k, av, bv, preA, preB, c, n)
				})
			})
		}
	}
}

// BenchmarkGemmKernel times each micro-kernel alone on one tile with K =
// 256, its operands in L1: the kernel's peak.
func BenchmarkGemmKernel(b *testing.B) {
	for _, kr := range gemmKernels() {
		b.Run(kr.name, func(b *testing.B) {
			k := gemmKC
			a, bb, c := make([]float32, kr.mr*k), make([]float32, kr.nr*k), make([]float32, kr.mr*kr.nr)
			b.SetBytes(int64(2 * kr.mr * kr.nr * k))
			for i := 0; i < b.N; i++ {
				kr.run(k, a, bb, c, kr.nr)
			}
		})
	}
}
