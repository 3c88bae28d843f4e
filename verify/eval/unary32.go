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
// a range its special inputs do not (sigmoid: [0, 1], special |x| > 87;
// erf, tanh: not NaN; Gelu and Mish: at least −0.31, special below −9.9 or
// lower). This works in place (o and x the same slice) without keeping a
// copy of x.
//
// Worst errors against the float64 functions rounded to float32, measured
// by TestUnary32Accuracy over a dense sweep: sigmoid 2 ulp, erf 1 ulp, tanh
// 1 ulp, Gelu 6 ulp (erf form, below −1.3; 3 ulp above) and 4 ulp (tanh
// form), Mish 4 ulp, Elu/Selu/Celu 3 ulp. HardSigmoid and HardSwish are
// computed in float64 (≤ 1 ulp); Sqrt and Reciprocal are correctly rounded;
// LeakyRelu and ThresholdedRelu are exact.

// runKernel32 sets o[i] = f(x[i]): with vec16 (an AVX-512 kernel) on
// multiples of 16 and vec8 (AVX2) on a following 8 when the CPU has them,
// and scalar elsewhere. The kernels run on chunks of kernelChunk elements so
// that one special input costs a scan of its chunk, not of the slice.
func runKernel32(o, x []float32, vec16, vec8 func(o, x []float32) bool, special func(float32) bool, scalar func(float32) float32) {
	const kernelChunk = 1024
	x = x[:len(o)]
	done := 0
	if haveAVX2 {
		end := len(o) &^ 7
		for done < end {
			hi := min(done+kernelChunk, end)
			oo, xx := o[done:hi], x[done:hi]
			var ok bool
			if n16 := len(oo) &^ 15; haveAVX512 && vec16 != nil && n16 > 0 {
				ok = vec16(oo[:n16], xx[:n16])
				if n16 < len(oo) {
					ok = vec8(oo[n16:], xx[n16:]) && ok
				}
			} else {
				ok = vec8(oo, xx)
			}
			if !ok {
				for i, v := range oo {
					if special(v) {
						oo[i] = scalar(v)
					}
				}
			}
			done = hi
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
	for i := avx2Prefix(haveAVX2, len(o), func(n int) { hardSigmoidAVX2(o[:n], x[:n], alpha, beta, swish) }); i < len(o); i++ {
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
	for i := avx2Prefix(haveAVX2, len(o), func(n int) { sqrtAVX2(o[:n], x[:n]) }); i < len(o); i++ {
		o[i] = float32(math.Sqrt(float64(x[i])))
	}
}

// reciprocalSlice32 sets o[i] = 1/x[i], correctly rounded.
func reciprocalSlice32(o, x []float32) {
	x = x[:len(o)]
	for i := avx2Prefix(haveAVX2, len(o), func(n int) { reciprocalAVX2(o[:n], x[:n]) }); i < len(o); i++ {
		o[i] = 1 / x[i]
	}
}

// tanhSlice32 sets o[i] = tanh(x[i]).
func tanhSlice32(o, x []float32) {
	runKernel32(o, x, nil, tanhAVX2, isNaN32, tanh32)
}

// tanh32 is the float64 tanh rounded to float32.
func tanh32(x float32) float32 { return float32(math.Tanh(float64(x))) }

// geluErfLo is where geluErfAVX2 switches from 1 + erf(x/√2) to erfc(−x/√2)
// (the split of its erf: 1 + erf ≥ 0.19 above it). geluErfMin and
// geluTanhMin are the inputs below which the Gelu kernels leave the element
// to the float64 scalar (the result is tiny: below 1e-36 in magnitude), as
// geluTanhAVX2 does above 1e6.
const (
	geluErfLo   = -1.3
	geluErfMin  = -13.2
	geluTanhMin = -9.9
)

// geluErfSlice32 sets o[i] = x/2·(1 + erf(x/√2)).
func geluErfSlice32(o, x []float32) {
	runKernel32(o, x, nil, func(o, x []float32) bool { return geluErfAVX2(o, x, geluErfLo) },
		func(v float32) bool { return !(v >= geluErfMin) }, geluErf32)
}

// geluTanhSlice32 sets o[i] = x/2·(1 + tanh(√(2/π)·(x + 0.044715x³))).
func geluTanhSlice32(o, x []float32) {
	runKernel32(o, x, nil, geluTanhAVX2, func(v float32) bool { return !(v >= geluTanhMin && v <= 1e6) }, geluTanh32)
}

// geluErf and geluTanh are Gelu in float64 in forms without cancellation
// for negative x: 1 + erf(x/√2) = erfc(−x/√2) and 1 + tanh(u) = 2σ(2u).
func geluErf(x float64) float64 { return 0.5 * x * math.Erfc(-x/math.Sqrt2) }

func geluTanh(x float64) float64 {
	z := 2 * math.Sqrt(2/math.Pi) * (x + 0.044715*x*x*x)
	if z >= 0 {
		return x / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return x * e / (1 + e)
}

func geluErf32(x float32) float32  { return float32(geluErf(float64(x))) }
func geluTanh32(x float32) float32 { return float32(geluTanh(float64(x))) }

// leakyReluSlice32 returns the LeakyRelu kernel: alpha·x below 0, else x
// (alpha·x is exact in float64, so the float32 product is the float64
// result rounded).
func leakyReluSlice32(alpha float32) func(o, x []float32) {
	return func(o, x []float32) {
		x = x[:len(o)]
		for i := avx2Prefix(haveAVX2, len(o), func(n int) { reluLikeAVX2(o[:n], x[:n], alpha, false) }); i < len(o); i++ {
			v := x[i]
			if v < 0 {
				v *= alpha
			}
			o[i] = v
		}
	}
}

// thresholdedReluSlice32 returns the ThresholdedRelu kernel: x above alpha,
// else 0 (NaN gives 0, as in the float64 definition).
func thresholdedReluSlice32(alpha float32) func(o, x []float32) {
	return func(o, x []float32) {
		x = x[:len(o)]
		for i := avx2Prefix(haveAVX2, len(o), func(n int) { reluLikeAVX2(o[:n], x[:n], alpha, true) }); i < len(o); i++ {
			v := x[i]
			if !(v > alpha) {
				v = 0
			}
			o[i] = v
		}
	}
}

// eluSlice32 returns the Elu kernel: alpha·(e**x − 1) below 0, else x.
func eluSlice32(alpha float64) func(o, x []float32) {
	return eluLike32(1, alpha, 1, func(v float64) float64 {
		if v < 0 {
			return alpha * math.Expm1(v)
		}
		return v
	})
}

// seluSlice32 returns the Selu kernel: gamma·alpha·(e**x − 1) at or below
// 0, gamma·x above.
func seluSlice32(alpha, gamma float64) func(o, x []float32) {
	return eluLike32(1, gamma*alpha, gamma, func(v float64) float64 {
		if v <= 0 {
			return gamma * alpha * math.Expm1(v)
		}
		return gamma * v
	})
}

// celuSlice32 returns the Celu kernel max(0, x) + min(0, alpha·(e**(x/alpha)
// − 1)), for alpha > 0 the same as alpha·expm1(x/alpha) below 0, else x.
func celuSlice32(alpha float64) func(o, x []float32) {
	f := func(v float64) float64 { return celu(v, alpha) }
	if !(alpha > 0) {
		return eluLike32(0, 0, 0, f)
	}
	return eluLike32(1/alpha, alpha, 1, f)
}

// eluLike32 runs eluLikeAVX2 (o = x < 0 ? neg·expm1(x·inv) : pos·x) on the
// multiple-of-8 prefix, and f (the float64 definition) on the tail, or on
// everything without AVX2 or when neg is 0 (no kernel).
func eluLike32(inv, neg, pos float64, f func(float64) float64) func(o, x []float32) {
	return func(o, x []float32) {
		x = x[:len(o)]
		for i := avx2Prefix(haveAVX2 && neg != 0, len(o), func(n int) { eluLikeAVX2(o[:n], x[:n], float32(inv), float32(neg), float32(pos), float32(neg*inv)) }); i < len(o); i++ {
			o[i] = float32(f(float64(x[i])))
		}
	}
}

func celu(x, alpha float64) float64 {
	return math.Max(0, x) + math.Min(0, alpha*math.Expm1(x/alpha))
}

// mish returns x·tanh(softplus(x)) as x·n/(n + 2) with n = e**x·(e**x + 2)
// (tanh(log(1+e**x)) = ((1+e**x)² − 1)/((1+e**x)² + 1)): one exp, no
// cancellation for negative x. Above 20 tanh(softplus(x)) is 1 in float64.
func mish(x float64) float64 {
	if x > 20 {
		return x
	}
	e := math.Exp(x)
	n := e * (e + 2)
	return x * n / (n + 2)
}

// mishSlice32 sets o[i] = mish(x[i]).
func mishSlice32(o, x []float32) {
	runKernel32(o, x, nil, mishAVX2, func(v float32) bool { return !(v >= -87) }, mish32)
}

func mish32(x float32) float32 { return float32(mish(float64(x))) }
