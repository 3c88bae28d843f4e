package eval

import "math"

// Float32 slice kernels of the unary ops. With AVX2 and FMA the bulk of a
// slice runs in assembly (unary32_amd64.s), 8 elements at a time (16 with
// AVX-512F for the ones that compute enough for it to pay); the scalar
// functions here are the portable path, the tails shorter than 8, and the
// fix-up of the few inputs a kernel does not handle itself.
//
// A kernel that reports inRange = false has copied the inputs it did not
// handle through unchanged (o[i] = x[i]); runKernel32 then recomputes every
// output for which special is true. special must be false on every value
// the kernel does compute, which holds because each kernel's outputs lie in
// a range its special inputs do not (sigmoid: [0, 1]; erf: not NaN). This
// works in place (o and x the same slice) without keeping a copy of x.
//
// Worst errors against the float64 functions rounded to float32, measured
// by TestUnary32Accuracy over a dense sweep: sigmoid 2 ulp, erf 1 ulp;
// HardSigmoid and HardSwish are computed in float64 (≤ 1 ulp); Sqrt and
// Reciprocal are correctly rounded.

// runKernel32 sets o[i] = f(x[i]): with vec16 (an AVX-512 kernel) on the
// longest multiple-of-16 prefix and vec8 (AVX2) on a following 8 when the CPU
// has them, and scalar elsewhere.
func runKernel32(o, x []float32, vec16, vec8 func(o, x []float32) bool, special func(float32) bool, scalar func(float32) float32) {
	x = x[:len(o)]
	done, ok := 0, true
	if haveAVX512 && vec16 != nil {
		if done = len(o) &^ 15; done > 0 {
			ok = vec16(o[:done], x[:done])
		}
	}
	if haveAVX2 {
		if n8 := len(o) &^ 7; n8 > done {
			ok = vec8(o[done:n8], x[done:n8]) && ok
			done = n8
		}
	}
	if !ok {
		for i, v := range o[:done] {
			if special(v) {
				o[i] = scalar(v)
			}
		}
	}
	for i := done; i < len(o); i++ {
		o[i] = scalar(x[i])
	}
}

// sigmoidSlice32 sets o[i] = 1/(1+e**-x[i]).
func sigmoidSlice32(o, x []float32) {
	runKernel32(o, x, sigmoidAVX512, sigmoidAVX2, sigmoidSpecial, sigmoid32)
}

// sigmoidSpecial reports the inputs sigmoidAVX2 leaves to sigmoid32: the
// ones whose e**-|x| is subnormal or zero, and NaN.
func sigmoidSpecial(v float32) bool { return !(v >= -87 && v <= 87) }

// erfSlice32 sets o[i] = erf(x[i]).
func erfSlice32(o, x []float32) {
	runKernel32(o, x, erfAVX512, erfAVX2, isNaN32, erf32)
}

func isNaN32(v float32) bool { return v != v }

// erf32 is the float64 error function rounded to float32.
func erf32(x float32) float32 { return float32(math.Erf(float64(x))) }

// hardSigmoidSlice32 returns the HardSigmoid kernel max(0, min(1, alpha·x +
// beta)) for float32 attributes alpha and beta, computed in float64 like the
// reference definition.
func hardSigmoidSlice32(alpha, beta float64) func(o, x []float32) {
	return func(o, x []float32) { hardSigmoid32(o, x, alpha, beta, false) }
}

// hardSwishSlice32 sets o[i] = x·max(0, min(1, x/6 + 1/2)).
func hardSwishSlice32(o, x []float32) { hardSigmoid32(o, x, sixthUp, 0.5, true) }

// sixthUp is the float64 just above 1/6: with it x·sixthUp + 1/2 is ≤ 0 at
// x = −3 and ≥ 1 at x = 3 (with the nearest, 1/6 − 9e-18, −3 gives +3e-17
// and a tiny nonzero HardSwish), and elsewhere it differs from x/6 + 1/2 by
// a float64 rounding, far below float32 precision.
var sixthUp = math.Nextafter(1.0/6, 1)

func hardSigmoid32(o, x []float32, alpha, beta float64, swish bool) {
	x = x[:len(o)]
	n8 := 0
	if haveAVX2 {
		n8 = len(o) &^ 7
		if n8 > 0 {
			hardSigmoidAVX2(o[:n8], x[:n8], alpha, beta, swish)
		}
	}
	for i := n8; i < len(o); i++ {
		v := float64(x[i])
		h := max(0, min(1, alpha*v+beta))
		if swish {
			h *= v
		}
		o[i] = float32(h)
	}
}

// sqrtSlice32 sets o[i] = √x[i], correctly rounded.
func sqrtSlice32(o, x []float32) {
	x = x[:len(o)]
	n8 := 0
	if haveAVX2 {
		n8 = len(o) &^ 7
		if n8 > 0 {
			sqrtAVX2(o[:n8], x[:n8])
		}
	}
	for i := n8; i < len(o); i++ {
		o[i] = float32(math.Sqrt(float64(x[i])))
	}
}

// reciprocalSlice32 sets o[i] = 1/x[i], correctly rounded.
func reciprocalSlice32(o, x []float32) {
	x = x[:len(o)]
	n8 := 0
	if haveAVX2 {
		n8 = len(o) &^ 7
		if n8 > 0 {
			reciprocalAVX2(o[:n8], x[:n8])
		}
	}
	for i := n8; i < len(o); i++ {
		o[i] = 1 / x[i]
	}
}
