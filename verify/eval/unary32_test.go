package eval

import (
	"math"
	"math/rand"
	"testing"
)

// unary32Inputs returns a dense sweep for the float32 unary kernels: every
// 2^-13-th step of [-16, 16] (the saturation regions of sigmoid and erf
// included), every 37th float32 bit pattern (all exponents: subnormals, huge
// values, Inf and NaN), seeded random normal and uniform values, and the
// special values, in an order that puts them at every offset mod 8.
func unary32Inputs() []float32 {
	var x []float32
	for v := -16.0; v <= 16; v += 1.0 / (1 << 13) {
		x = append(x, float32(v))
	}
	for b := uint64(0); b < 1<<32; b += 37 * 4099 {
		x = append(x, math.Float32frombits(uint32(b)))
	}
	r := rand.New(rand.NewSource(19))
	for i := 0; i < 200000; i++ {
		x = append(x, float32(r.NormFloat64()*3), float32(r.Float64()*200-100))
	}
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 3, -3, 6, -6, 0.921875, -0.921875, 3.925, -3.925,
		87, -87, 87.5, -87.5, 88.8, -88.8, 104, -104, 200, -200, float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 1e-40, -1e-40, 1e-30, -1e-30,
		math.MaxFloat32, -math.MaxFloat32}
	for i := 0; i < 8; i++ {
		x = append(x, special...)
		x = append(x, 0.5) // shifts the specials by one lane each round
	}
	return x
}

// sameOrNaN reports a and b are equal (with the sign of zero) or both NaN.
func sameOrNaN(a, b float32) bool {
	return a == b && math.Signbit(float64(a)) == math.Signbit(float64(b)) || a != a && b != b
}

// TestUnary32Accuracy checks each float32 kernel (AVX2 where the CPU has
// it, else the portable path) against the float64 function rounded to
// float32: NaN where it is NaN, equal at ±0 and ±Inf, and within the stated
// ulp bound elsewhere; the same at every alignment (tails of 1..7) and in
// place.
func TestUnary32Accuracy(t *testing.T) { checkUnary32Accuracy(t) }

func checkUnary32Accuracy(t *testing.T) {
	x := unary32Inputs()
	for _, c := range []struct {
		name string
		f    func(o, x []float32)
		ref  func(float64) float64
		ulps int64
	}{
		// sigmoid: e**-|x| within 1-2 ulp, 1+e and the division round
		// once each; measured worst 2 ulp (the portable path: 1).
		{"Sigmoid", sigmoidSlice32, func(v float64) float64 {
			if v >= 0 {
				return 1 / (1 + math.Exp(-v))
			}
			e := math.Exp(v)
			return e / (1 + e)
		}, 2},
		// erf: Juffa's polynomials are faithful (< 1 ulp) with an exact
		// exp; with ours the measured worst is still 1 ulp.
		{"Erf", erfSlice32, math.Erf, 1},
		// computed in float64: only the final rounding (and x/6 against
		// x·(1/6) in the last float64 bit) differ.
		{"HardSwish", hardSwishSlice32, func(v float64) float64 { return v * math.Max(0, math.Min(1, v/6+0.5)) }, 1},
		{"HardSigmoid", hardSigmoidSlice32(float64(float32(0.2)), 0.5), func(v float64) float64 {
			return math.Max(0, math.Min(1, float64(float32(0.2))*v+0.5))
		}, 1},
		// tanh: the polynomial branch is within 1 ulp; 1 − 2/(e**2a + 1)
		// adds the errors of e and the division; measured worst 2 ulp.
		{"Tanh", tanhSlice32, math.Tanh, 2},
		// Gelu: erf's 1 ulp grows through 1 + erf for x in [-1.3, 0]
		// (1 + erf ≥ 0.19), measured worst 3 ulp; below -1.3 the erfc form
		// (exp, a fitted polynomial, a division and three products)
		// measured worst 6 ulp, 7e-7 relative. The tanh form: the sigmoid
		// of an argument carried as a float32 pair, measured worst 4 ulp.
		// The references are the stable float64 forms (erfc, sigmoid).
		{"GeluErf", geluErfSlice32, geluErf, 6},
		{"GeluTanh", geluTanhSlice32, geluTanh, 4},
		{"Sqrt", sqrtSlice32, math.Sqrt, 0},
		// Elu, Selu, Celu: expm1 in float32 without cancellation near 0
		// (the n = 0 polynomial), times the float32 coefficient; measured
		// worst 3 ulp. References use Expm1.
		{"Elu", eluSlice32(float64(float32(0.7))), func(v float64) float64 {
			if v < 0 {
				return float64(float32(0.7)) * math.Expm1(v)
			}
			return v
		}, 3},
		{"Selu", seluSlice32(1.67326319217681884765625, 1.05070102214813232421875), func(v float64) float64 {
			if v <= 0 {
				return 1.05070102214813232421875 * 1.67326319217681884765625 * math.Expm1(v)
			}
			return 1.05070102214813232421875 * v
		}, 3},
		{"Celu", celuSlice32(2), func(v float64) float64 { return math.Max(0, v) + math.Min(0, 2*math.Expm1(v/2)) }, 3},
		{"LeakyRelu", leakyReluSlice32(0.1), func(v float64) float64 {
			if v < 0 {
				return float64(float32(0.1)) * v
			}
			return v
		}, 0},
		{"LeakyRelu-negative-alpha", leakyReluSlice32(-0.5), func(v float64) float64 {
			if v < 0 {
				return -0.5 * v
			}
			return v
		}, 0},
		{"ThresholdedRelu", thresholdedReluSlice32(1.5), func(v float64) float64 {
			if v > 1.5 {
				return v
			}
			return 0
		}, 0},
		// n = e**x(e**x + 2), x·n/(n + 2) against the definition
		// x·tanh(log1p(e**x)): e within 2 ulp, n, the ratio and the
		// product round four times; measured worst 4 ulp (x·e**x tail).
		{"Mish", mishSlice32, func(v float64) float64 {
			if v > 0 {
				return v * math.Tanh(v+math.Log1p(math.Exp(-v)))
			}
			return v * math.Tanh(math.Log1p(math.Exp(v)))
		}, 4},
		{"Reciprocal", reciprocalSlice32, func(v float64) float64 { return 1 / v }, 0},
	} {
		offsets := []int{0, 1, 2, 3, 4, 5, 6, 7} // every tail length
		if !haveAVX2 {
			offsets = offsets[:2]
		}
		for _, off := range offsets {
			xx := x[off:]
			o := make([]float32, len(xx))
			c.f(o, xx)
			inPlace := append([]float32(nil), xx...)
			c.f(inPlace, inPlace)
			worst, at, atGot := int64(0), float32(0), float32(0)
			for i, v := range xx {
				want := float32(c.ref(float64(v)))
				got := o[i]
				if !sameOrNaN(got, inPlace[i]) {
					t.Fatalf("%s(%v): %v, in place %v", c.name, v, got, inPlace[i])
				}
				if want != want || got != got || math.IsInf(float64(want), 0) || want == 0 {
					if !sameOrNaN(got, want) && !(want == 0 && got == 0 && c.ulps > 0) {
						t.Fatalf("%s(%v) = %v, want %v", c.name, v, got, want)
					}
					continue
				}
				if d := ulpDiff(got, want); d > worst {
					worst, at, atGot = d, v, got
				}
			}
			if worst > c.ulps {
				t.Fatalf("%s (offset %d): worst error %d ulp at x = %v (got %v, want %v), bound %d", c.name, off, worst, at,
					atGot, float32(c.ref(float64(at))), c.ulps)
			}
			if off == 0 {
				t.Logf("%s (AVX2 %v, AVX-512 %v): worst error %d ulp over %d inputs", c.name, haveAVX2, haveAVX512, worst, len(xx))
			}
		}
	}
}
