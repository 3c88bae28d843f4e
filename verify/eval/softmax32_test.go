package eval

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSoftmaxRow32Degenerate puts a NaN or an Inf at every position of rows
// of several lengths (the vector maximum may skip a NaN) and checks the
// float32 row kernel agrees with the float64 one, in place too.
func TestSoftmaxRow32Degenerate(t *testing.T) {
	for _, n := range []int{1, 7, 8, 9, 16, 37} {
		for pos := 0; pos < n; pos++ {
			for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
				for _, logOut := range []bool{false, true} {
					x := make([]float32, n)
					for i := range x {
						x[i] = float32(i%5) - 2
					}
					x[pos] = bad
					m := float32(math.Inf(-1))
					for _, v := range x {
						m = max(m, v)
					}
					want := make([]float32, n)
					softmaxRowDegenerate(logOut, x, want)
					got := make([]float32, n)
					softmaxRow32(logOut, x, got, make([]float32, 2*n))
					inPlace := append([]float32(nil), x...)
					softmaxRow32(logOut, inPlace, inPlace, make([]float32, 2*n))
					for i := range want {
						for _, g := range []float32{got[i], inPlace[i]} {
							if !(g == want[i] || g != g && want[i] != want[i] || math.Abs(float64(g-want[i])) <= 1e-6*math.Abs(float64(want[i]))) {
								t.Fatalf("n=%d, %v at %d, log=%v: element %d = %v, want %v", n, bad, pos, logOut, i, g, want[i])
							}
						}
					}
				}
			}
		}
	}
}

// TestSoftmaxRow512Float64 compares the AVX-512 row kernels (streaming and
// not, in place and not) with Softmax / LogSoftmax computed in float64 on
// seeded random rows: lengths around the 16-lane vector and the 64-element
// unroll (tails of every size), spreads from 0.1 to 200 (so that exp
// underflows to denormals and to 0), and rows with −Inf, +Inf and NaN.
//
// Tolerances: Softmax within 4 float32 ulp relative to each element
// (exp within 2 ulp, the scale rounded once more) plus the rounding of the
// float32 shift t = x − m (half an ulp of |t|, which exp turns into a
// relative error of 6e-8·|t|) plus 1e-44 absolute for denormals; LogSoftmax within 2e-7·(|m|+|x|+1) absolute, the
// float32 rounding of x, of m + log Σ and of the difference.
func TestSoftmaxRow512Float64(t *testing.T) {
	if !haveAVX512 {
		t.Skip("no AVX-512")
	}
	rng := rand.New(rand.NewPCG(19, 5))
	for _, n := range []int{1, 2, 15, 16, 17, 31, 63, 64, 65, 100, 1000, 1001} {
		for _, spread := range []float64{0.1, 3, 30, 200} {
			for _, bad := range []float64{0, math.Inf(-1), math.Inf(1), math.NaN()} {
				x := make([]float32, n)
				for i := range x {
					x[i] = float32((rng.Float64()*2 - 1) * spread)
				}
				if bad != 0 {
					x[rng.IntN(n)] = float32(bad)
				}
				for _, logOut := range []bool{false, true} {
					m := float32(math.Inf(-1))
					for _, v := range x {
						m = max(m, v)
					}
					want := make([]float32, n)
					softmaxRowDegenerate(logOut, x, want) // float64 throughout
					for _, mode := range []string{"out", "in place", "stream"} {
						got := make([]float32, n+16)[3 : 3+n] // misaligned on purpose
						if mode == "in place" {
							copy(got, x)
						}
						var scratch []float32
						src := x
						if mode == "in place" {
							src = got
						}
						softmaxRow512(logOut, mode == "stream", src, got, &scratch)
						sfence512()
						for i := range want {
							g, w := float64(got[i]), float64(want[i])
							ok := g == w || g != g && w != w
							if !ok && !math.IsInf(w, 0) && w == w {
								if logOut {
									ok = math.Abs(g-w) <= 2e-7*(math.Abs(w)+math.Abs(float64(x[i]))+1)
								} else {
									ok = math.Abs(g-w) <= (4+math.Abs(float64(x[i]-m)))*6e-8*math.Abs(w)+1e-44
								}
							}
							if !ok {
								t.Fatalf("n=%d spread=%v bad=%v log=%v %s: element %d of x=%v: got %v, want %v", n, spread, bad, logOut, mode, i, x[i], g, w)
							}
						}
					}
				}
			}
		}
	}
}

// BenchmarkSumExpRow times Σ exp(x − m) on one 1000-class row held in L1
// (the arithmetic of LogSoftmax without the memory traffic).
func BenchmarkSumExpRow(b *testing.B) {
	if !haveAVX512 {
		b.Skip("no AVX-512")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 1000)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 3)
	}
	m := maxF32x512(x)
	b.SetBytes(4000)
	var s float64
	for i := 0; i < b.N; i++ {
		s += sumExpShift512(x, m)
	}
	_ = s
}
