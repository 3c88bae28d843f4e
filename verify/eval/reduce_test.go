package eval

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestReduceSum32Float64 checks float32 ReduceSum / ReduceMean over the
// last axis (short rows, and few long rows summed in blocks on every core)
// against the sum computed here with compensated (Neumaier) float64
// summation, on seeded random data with lengths that
// are not multiples of 8. Tolerance: the float32 rounding of the result
// (half an ulp) plus the float64 accumulation error, n·2⁻⁵³·Σ|x|.
func TestReduceSum32Float64(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 3))
	for _, tc := range []struct{ outer, r int }{
		{1, 1}, {3, 7}, {5, 1001}, {1000, 13}, {1, 4*sumBlock + 77}, {3, 5*sumBlock - 1}, {2, 300001},
	} {
		for _, mean := range []bool{false, true} {
			x := make([]float32, tc.outer*tc.r)
			for i := range x {
				x[i] = float32(rng.NormFloat64()*3 + 1)
			}
			o := make([]float32, tc.outer)
			reduceSum32(x, o, reducePlan{outer: tc.outer, r: tc.r, inner: 1}, mean)
			for i := range o {
				var s, c, abs float64 // Kahan–Babuška (Neumaier) summation
				for _, v := range x[i*tc.r : (i+1)*tc.r] {
					f := float64(v)
					u := s + f
					if math.Abs(s) >= math.Abs(f) {
						c += (s - u) + f
					} else {
						c += (f - u) + s
					}
					s = u
					abs += math.Abs(f)
				}
				want, tol := s+c, float64(tc.r)*0x1p-53*abs
				if mean {
					want /= float64(tc.r)
					tol /= float64(tc.r)
				}
				tol += math.Abs(want) * 0x1p-24
				if d := math.Abs(float64(o[i]) - want); d > tol {
					t.Fatalf("outer=%d r=%d mean=%v row %d: got %v, want %v (|d| %g > %g)", tc.outer, tc.r, mean, i, o[i], want, d, tol)
				}
			}
		}
	}
}
