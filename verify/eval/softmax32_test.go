package eval

import (
	"math"
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
