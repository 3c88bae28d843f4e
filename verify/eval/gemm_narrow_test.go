package eval

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// BenchmarkConvFewPixels times the 1×1 convolutions of mobile nets at their
// benchmark inputs (64×64 images) whose products have few rows once
// oriented: efficientnet_b0's last-stage expansions and squeeze-excitation
// FCs (batch 2) and lraspp_mobilenet_v3_large's late 1×1s (batch 1), and
// the classifier heads (Gemm with the batch as rows).
func BenchmarkConvFewPixels(b *testing.B) {
	for _, tc := range []struct {
		name        string
		n, c, hw, m int
	}{
		{"effnet_192to1152_2px_b2", 2, 192, 2, 1152},
		{"effnet_1152to192_2px_b2", 2, 1152, 2, 192},
		{"effnet_se_1152to48_1px_b2", 2, 1152, 1, 48},
		{"effnet_se_48to1152_1px_b2", 2, 48, 1, 1152},
		{"lraspp_960to240_1px_b1", 1, 960, 1, 240},
		{"lraspp_160to960_4px_b1", 1, 160, 4, 960},
		{"lraspp_960to160_4px_b1", 1, 960, 4, 160},
	} {
		for _, cold := range []bool{false, true} {
			name := tc.name
			if cold {
				name += "/cold"
			}
			b.Run(name, func(b *testing.B) {
				n := node("Conv", []string{"x", "w", "b"}, []string{"y"})
				mdl := model(17, []string{"x"}, n.Output, []*onnxpb.TensorProto{seeded(1, int64(tc.m), int64(tc.c), 1, 1).Proto("w"), seeded(2, int64(tc.m)).Proto("b")}, n)
				feeds := map[string]*Tensor{"x": seeded(3, int64(tc.n), int64(tc.c), int64(tc.hw), int64(tc.hw))}
				benchSession(b, mdl, feeds, cold)
			})
		}
	}
	for _, tc := range []struct{ m, k, n int }{{1, 1280, 1000}, {2, 576, 1024}, {2, 1024, 1000}, {8, 768, 768}} {
		b.Run(fmt.Sprintf("gemm_%dx%dx%d", tc.m, tc.k, tc.n), func(b *testing.B) {
			n := node("Gemm", []string{"x", "w", "b"}, []string{"y"}, &onnxpb.AttributeProto{Name: ptrTo("transB"), I: ptrTo(int64(1)), Type: onnxpb.AttributeProto_INT.Enum()})
			benchNode(b, n,
				map[string]*Tensor{"w": seeded(1, int64(tc.n), int64(tc.k)), "b": seeded(2, int64(tc.n))},
				map[string]*Tensor{"x": seeded(3, int64(tc.m), int64(tc.k))})
		})
	}
}

// TestNarrowAgainstGonum compares products with few rows (1..15: every
// narrow kernel, alone and under whole 14-row tiles, and the rows past
// narrowMax that stay with the edge tile) with gonum's float64 Dgemm, for
// every micro-kernel this CPU runs and with AVX-512 switched off: columns
// that fill no whole 16- or 32-wide strip and more than one wide group,
// K with tails and several 256-long blocks, c with a row stride beyond n
// (the gaps must stay untouched), A and B transposed or pre-packed, and
// products large enough to be split over the workers.
func TestNarrowAgainstGonum(t *testing.T) {
	savedAVX512, savedKern := haveAVX512, kern
	defer func() { haveAVX512, kern = savedAVX512, savedKern }()
	for _, kr := range gemmKernels() {
		t.Run(kr.name, func(t *testing.T) { testNarrow(t, kr) })
	}
	// A CPU without AVX-512: the kernel it would choose, as the default.
	haveAVX512 = false
	kern = gemmKernels()[0]
	t.Run("avx512off/"+kern.name, func(t *testing.T) { testNarrow(t, kern) })
}

func testNarrow(t *testing.T, kr *gemmKernel) {
	rng := rand.New(rand.NewSource(7))
	for m := 1; m <= 15; m++ {
		for _, nk := range [][2]int{{1, 1}, {17, 3}, {33, 255}, {100, 257}, {129, 40}, {300, 600}, {1000, 300}} {
			n, k := nk[0], nk[1]
			for v := 0; v < 7; v++ {
				if n*k > 50000 && v != 0 && v != 3 && v != 6 {
					continue // the large shapes (parallel splits) plain, pre-packed and blocked only
				}
				blk := []int{0, 0, 0, 0, 1, 2, 4}[v] // A's rows in blocks (images side by side)
				transA, transB, pre := v&1 == 1 && blk == 0, v&2 == 2 || v == 5, v == 3 || v == 6
				ldc := n + 3
				a, b := normals(rng, m*k), normals(rng, k*n)
				c := normals(rng, m*ldc+ldc) // a guard row after the last
				want := make([]float64, len(c))
				for i, x := range c {
					want[i] = float64(x)
				}
				av, bv := rowMajor(a, k), rowMajor(b, n)
				ta, tb, lda, ldb := blas.NoTrans, blas.NoTrans, k, n
				if transA {
					av, ta, lda = transposed(a, m), blas.Trans, m
				}
				if transB {
					bv, tb, ldb = transposed(b, k), blas.Trans, k
				}
				if blk > 0 {
					// Element (i, p) at (i/blk)·bstride + i%blk + p·blk, as
					// convGroup reads the pixels of a batch.
					bstride := k*blk + 5
					d := normals(rng, (m+blk-1)/blk*bstride)
					for i := 0; i < m; i++ {
						for p := 0; p < k; p++ {
							d[(i/blk)*bstride+i%blk+p*blk] = a[i*k+p]
						}
					}
					av = matView{data: d, rs: 1, cs: blk, blk: blk, bstride: bstride}
				}
				var preA, preB *packed
				if pre {
					preA, preB = packWholeA(kr, av, m, k, nil), packWholeB(kr, bv, k, n, nil)
				}
				sgemmKernel(kr, m, n, k, av, bv, preA, preB, c, ldc)
				gonum.Implementation{}.Dgemm(ta, tb, m, n, k, 1, f64s(a), lda, f64s(b), ldb, 1, want, ldc)
				// float32 sums of k products of unit normals, with FMA: error
				// below ~k·2^-24·sqrt(k) relative to the sum's scale.
				tol := 4 * float64(k) * 0x1p-24 * math.Sqrt(float64(k))
				for i := range c {
					if i%ldc >= n || i >= m*ldc {
						if c[i] != float32(want[i]) {
							t.Fatalf("m=%d n=%d k=%d v=%d: wrote c[%d] outside the product", m, n, k, v, i)
						}
						continue
					}
					if d := math.Abs(float64(c[i]) - want[i]); d > tol*(1+math.Abs(want[i])) || math.IsNaN(d) {
						t.Fatalf("m=%d n=%d k=%d v=%d: c[%d] = %g, want %g", m, n, k, v, i, c[i], want[i])
					}
				}
			}
		}
	}
}

// TestNarrowKernelsStride runs each narrow kernel (AVX-512 and AVX2, as
// the CPU has them) directly on A read with the row values of each k
// packed tightly (lda = rows) rather than in a full-height strip, against
// a float64 product.
func TestNarrowKernelsStride(t *testing.T) {
	var krs []*gemmKernel
	for _, kr := range gemmKernels() {
		if kr.narrow != nil {
			krs = append(krs, kr)
		}
	}
	if len(krs) == 0 {
		t.Skip("no narrow kernels on this CPU")
	}
	rng := rand.New(rand.NewSource(3))
	for _, kr := range krs {
		for rows := 1; rows <= kr.narrowMax; rows++ {
			for _, n := range []int{5, 16, 32, 64, 127, 128, 161, 300} {
				const kc = 77
				nr := kr.nr
				strips := (n + nr - 1) / nr
				a, b := normals(rng, rows*kc), normals(rng, strips*nr*kc)
				ldc := n + 1
				c := normals(rng, rows*ldc)
				want := f64s(c)
				for r := 0; r < rows; r++ {
					for j := 0; j < n; j++ {
						s, col := j/nr, j%nr
						for p := 0; p < kc; p++ {
							want[r*ldc+j] += float64(a[p*rows+r]) * float64(b[(s*kc+p)*nr+col])
						}
					}
				}
				kr.narrow(kc, a, rows, b, c, ldc, rows, n)
				for i := range c {
					if i%ldc >= n {
						if c[i] != float32(want[i]) {
							t.Fatalf("%s rows=%d n=%d: wrote c[%d] outside the product", kr.name, rows, n, i)
						}
						continue
					}
					// float32 sums of 77 unit-normal products: far below 1e-4
					// relative to the sum's scale.
					if d := math.Abs(float64(c[i]) - want[i]); d > 1e-4*(1+math.Abs(want[i])) {
						t.Fatalf("%s rows=%d n=%d: c[%d] = %g, want %g", kr.name, rows, n, i, c[i], want[i])
					}
				}
			}
		}
	}
}

func normals(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

func f64s(s []float32) []float64 {
	d := make([]float64, len(s))
	for i, v := range s {
		d[i] = float64(v)
	}
	return d
}

// BenchmarkNarrowGemm times products with few rows (the shapes of
// BenchmarkConvFewPixels once oriented: rows × columns × K, the weight as
// a pre-packed B) on each kernel with narrow kernels (AVX-512 14×32, AVX2
// 6×16), with them and without (every row strip through the full-height
// tiles), serial and split over the workers.
func BenchmarkNarrowGemm(b *testing.B) {
	for _, base := range gemmKernels() {
		if base.narrow == nil {
			continue
		}
		for _, sh := range [][3]int{{8, 1152, 192}, {10, 1152, 192}, {13, 1152, 192}, {8, 192, 1152}, {2, 48, 1152}, {2, 1152, 48}, {1, 240, 960}, {16, 960, 160}, {16, 160, 960}, {1, 1000, 1280}, {2, 1024, 576}, {8, 768, 768}} {
			m, n, k := sh[0], sh[1], sh[2]
			for _, narrow := range []bool{true, false} {
				for _, serial := range []bool{true, false} {
					b.Run(fmt.Sprintf("%s/%dx%dx%d/narrow=%v/serial=%v", base.name, m, n, k, narrow, serial), func(b *testing.B) {
						kr := *base
						if !narrow {
							kr.narrow = nil
						}
						var preB *packed
						benchGemm(b, m, n, k, func(a, bb, c []float32) {
							av, bv := rowMajor(a, k), rowMajor(bb, n)
							if preB == nil {
								preB = packWholeB(&kr, bv, k, n, nil)
								b.ResetTimer()
							}
							if serial {
								sgemmSerial(&kr, m, n, k, av, bv, nil, preB, c, n)
							} else {
								sgemmKernel(&kr, m, n, k, av, bv, nil, preB, c, n)
							}
						})
					})
				}
			}
		}
	}
}

// BenchmarkNarrowKernel times each narrow kernel alone on one call with K
// = 256 and its operands in L1 (MB/s reads as MFLOP/s), beside the 14×32
// edge kernel on the same rows.
func BenchmarkNarrowKernel(b *testing.B) {
	if !haveAVX512 {
		b.Skip("no AVX-512")
	}
	kr := kernelAVX512
	k := gemmKC
	for rows := 1; rows <= kr.narrowMax; rows++ {
		for _, n := range []int{32, 128} {
			a, bb, c := make([]float32, kr.mr*k), make([]float32, n*k), make([]float32, rows*n)
			b.Run(fmt.Sprintf("narrow_%dx%d", rows, n), func(b *testing.B) {
				b.SetBytes(int64(2 * rows * n * k))
				for i := 0; i < b.N; i++ {
					kr.narrow(k, a, kr.mr, bb, c, n, rows, n)
				}
			})
			b.Run(fmt.Sprintf("edge14_%dx%d", rows, n), func(b *testing.B) {
				b.SetBytes(int64(2 * rows * n * k))
				for i := 0; i < b.N; i++ {
					for j := 0; j < n; j += 32 {
						kr.edge(k, a, bb[j*k:], c[j:], n, rows, 32)
					}
				}
			})
		}
	}
}

// TestTransposeOut checks the copy of a transposed product back to channel
// planes, with the AVX2 8×8 blocks and without, on shapes with and
// without whole blocks: every element lands at its transposed index.
func TestTransposeOut(t *testing.T) {
	saved := transposeKernels
	defer func() { transposeKernels = saved }()
	rng := rand.New(rand.NewSource(9))
	for _, kernels := range []bool{true, false} {
		transposeKernels = kernels
		for _, rows := range []int{1, 4, 8, 13, 16, 64} {
			for _, cols := range []int{1, 5, 8, 17, 48, 960} {
				src := normals(rng, rows*cols)
				dst := normals(rng, rows*cols+3)
				guard := append([]float32(nil), dst[rows*cols:]...)
				transposeOut(dst, src, rows, cols)
				for r := 0; r < rows; r++ {
					for c := 0; c < cols; c++ {
						if dst[c*rows+r] != src[r*cols+c] {
							t.Fatalf("kernels=%v %dx%d: dst[%d][%d] = %g, want %g", kernels, rows, cols, c, r, dst[c*rows+r], src[r*cols+c])
						}
					}
				}
				for i, v := range dst[rows*cols:] {
					if v != guard[i] {
						t.Fatalf("kernels=%v %dx%d: wrote past the end", kernels, rows, cols)
					}
				}
			}
		}
	}
}

// evictBuf is larger than the last-level cache share of a run: reading it
// between runs leaves the weights where a model's other layers would (L3
// or memory) rather than in L2.
var (
	evictBuf  []float32
	evictSink float32
)

// benchSession times runs of a session; with cold set, the caches are
// filled with other data before each run (outside the timing), as a
// model's other layers do between two calls of one layer.
func benchSession(b *testing.B, m *onnxpb.ModelProto, feeds map[string]*Tensor, cold bool) {
	s, err := NewSession(m, "")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Run(feeds, nil); err != nil {
		b.Fatal(err)
	}
	if cold && evictBuf == nil {
		evictBuf = make([]float32, 16<<20)
		for i := range evictBuf {
			evictBuf[i] = 1 // backed by memory, not the shared zero page
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if cold {
			b.StopTimer()
			var sum float32
			for j := 0; j < len(evictBuf); j += 16 {
				sum += evictBuf[j]
			}
			evictSink = sum
			b.StartTimer()
		}
		if _, err := s.Run(feeds, nil); err != nil {
			b.Fatal(err)
		}
	}
}
