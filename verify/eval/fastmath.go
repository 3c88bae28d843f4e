package eval

import "math"

// Table-driven float32 exp and log evaluated in float64 (the approach of
// glibc's expf/logf): after range reduction a short polynomial suffices, and
// the float64 result rounds to within 1 ulp of the exact float32 value.

var (
	expTab  [64]uint64  // bits of 2^(j/64)
	logInvC [64]float64 // 1/c for the 64 subintervals of [1, 2)
	logLogC [64]float64 // log(c)
)

func init() {
	for j := range expTab {
		expTab[j] = math.Float64bits(math.Exp2(float64(j) / 64))
	}
	for i := range logInvC {
		c := 1 + (float64(i)+0.5)/64
		if i == 0 {
			c = 1 // exact near 1: log(1+r) with no cancellation
		}
		logInvC[i] = 1 / c
		logLogC[i] = -math.Log(logInvC[i])
	}
}

const roundShift = 0x1.8p52

// exp32 returns e**x for float32 x (within 1 ulp).
func exp32(x float32) float32 {
	if !(x < 88.8) { // also NaN
		if x != x {
			return x
		}
		return float32(math.Inf(1))
	}
	if x < -104 {
		return 0
	}
	z := float64(x) * (64 / math.Ln2)
	kd := z + roundShift
	ki := int64(math.Float64bits(kd)) - int64(math.Float64bits(roundShift))
	kd -= roundShift
	r := (z - kd) * (math.Ln2 / 64)
	s := math.Float64frombits(expTab[ki&63] + uint64(ki>>6)<<52)
	p := 1 + r*(1+r*(0.5+r*(1.0/6+r*(1.0/24))))
	return float32(s * p)
}

// logPos returns log(y) for a positive, finite, normal float64 y with an
// absolute error below 1e-15 + 5e-9*|log y| (enough for float32 results).
func logPos(y float64) float64 {
	b := math.Float64bits(y)
	e := int64(b>>52) - 1023
	i := (b >> 46) & 63
	m := math.Float64frombits(b&0x000fffffffffffff | 0x3ff0000000000000)
	r := m*logInvC[i] - 1
	// log1p(r), |r| <= 1/64
	p := r * (1 + r*(-0.5+r*(1.0/3+r*(-0.25+r*(1.0/5)))))
	return float64(e)*math.Ln2 + logLogC[i] + p
}

// log32 returns the natural logarithm of float32 x (within 1 ulp).
func log32(x float32) float32 {
	b := math.Float32bits(x)
	if b >= 0x7f800000 || b == 0 { // negative, Inf, NaN, or +0
		switch {
		case x != x:
			return x
		case b == 0 || b == 0x80000000:
			return float32(math.Inf(-1))
		case x < 0:
			return float32(math.NaN())
		}
		return x // +Inf
	}
	return float32(logPos(float64(x))) // float32 subnormals are float64 normals
}

// log1pSmall returns log(1+u) for u in [0, 1].
func log1pSmall(u float64) float64 {
	if u < 1e-4 {
		return u * (1 - u*(0.5-u*(1.0/3)))
	}
	return logPos(1 + u)
}

// softplus32 returns log(1+e**x) for float32 x.
func softplus32(x float32) float32 {
	if x != x {
		return x
	}
	if x > 0 {
		return float32(float64(x) + log1pSmall(float64(exp32(-x))))
	}
	return float32(log1pSmall(float64(exp32(x))))
}

// sigmoid32 returns 1/(1+e**-x) in float32.
func sigmoid32(x float32) float32 {
	if x >= 0 {
		return float32(1 / (1 + float64(exp32(-x))))
	}
	e := float64(exp32(x))
	return float32(e / (1 + e))
}

// expFastMin and expFastMax bound the inputs expSlice32's main loop handles;
// outside them (and for NaN) it falls back to exp32.
const (
	expFastMin = -87
	expFastMax = 88.7
)

// expSlice32 sets o[i] = e**x[i] within 1 ulp: with AVX2 and FMA 4 elements
// at a time in assembly, else as exp32 (see expSlice32Go).
//
// expSlice32Go sets o[i] = exp32(x[i]). The main loop has no branch: it
// computes every element as if in range and tracks the smallest and largest
// input; only a chunk that held something out of range (or a NaN) is redone
// element by element.
func expSlice32(o, x []float32) {
	if haveAVX2 {
		expSliceAVX2(o, x)
		return
	}
	expSlice32Go(o, x)
}

// expSliceAVX2 is expSlice32 with the AVX2 kernel (within 1 ulp, not always
// equal to exp32) for the in-range elements.
func expSliceAVX2(o, x []float32) {
	const chunk = 256
	x = x[:len(o)]
	var buf [chunk]float32
	for lo := 0; lo < len(o); lo += chunk {
		hi := min(lo+chunk, len(o))
		oo, xx := o[lo:hi], x[lo:hi]
		if &oo[0] == &xx[0] { // in place: keep the inputs for the fix-up
			xx = buf[:copy(buf[:], xx)]
		}
		n4 := len(oo) &^ 3
		ok := n4 == 0 || expAVX2(oo[:n4], xx[:n4])
		for i := n4; i < len(oo); i++ {
			oo[i] = exp32(xx[i])
		}
		if !ok {
			for i, v := range xx[:n4] {
				if !(v >= expFastMin && v <= expFastMax) {
					oo[i] = exp32(v)
				}
			}
		}
	}
}

// expSlice32Go is the portable expSlice32, equal to exp32 element by element.
func expSlice32Go(o, x []float32) {
	const chunk = 256
	var buf [chunk]float32
	for lo := 0; lo < len(o); lo += chunk {
		hi := min(lo+chunk, len(o))
		oo, xx := o[lo:hi], x[lo:hi]
		if &oo[0] == &xx[0] { // in place: keep the inputs for the fix-up
			xx = buf[:copy(buf[:], xx)]
		}
		mn, mx := float32(0), float32(0)
		for i, v := range xx {
			mn, mx = min(mn, v), max(mx, v)
			z := float64(v) * (64 / math.Ln2)
			kd := z + roundShift
			ki := int64(math.Float64bits(kd)) - int64(math.Float64bits(roundShift))
			kd -= roundShift
			r := (z - kd) * (math.Ln2 / 64)
			s := math.Float64frombits(expTab[ki&63] + uint64(ki>>6)<<52)
			oo[i] = float32(s * (1 + r*(1+r*(0.5+r*(1.0/6+r*(1.0/24))))))
		}
		if !(mn >= expFastMin && mx <= expFastMax) {
			for i, v := range xx {
				if !(v >= expFastMin && v <= expFastMax) {
					oo[i] = exp32(v)
				}
			}
		}
	}
}

// logSlice32 sets o[i] = log(x[i]) within 1 ulp: with AVX2 and FMA 4
// elements at a time in assembly, else as log32 (see logSlice32Go).
func logSlice32(o, x []float32) {
	if !haveAVX2 {
		logSlice32Go(o, x)
		return
	}
	const chunk = 256
	x = x[:len(o)]
	var buf [chunk]float32
	for lo := 0; lo < len(o); lo += chunk {
		hi := min(lo+chunk, len(o))
		oo, xx := o[lo:hi], x[lo:hi]
		if &oo[0] == &xx[0] { // in place: keep the inputs for the fix-up
			xx = buf[:copy(buf[:], xx)]
		}
		n4 := len(oo) &^ 3
		ok := n4 == 0 || logAVX2(oo[:n4], xx[:n4])
		for i := n4; i < len(oo); i++ {
			oo[i] = log32(xx[i])
		}
		if !ok {
			for i, v := range xx[:n4] {
				if b := math.Float32bits(v); b-0x00800000 >= 0x7f800000-0x00800000 {
					oo[i] = log32(v)
				}
			}
		}
	}
}

// logSlice32Go sets o[i] = log32(x[i]), inlined for positive normal inputs.
func logSlice32Go(o, x []float32) {
	x = x[:len(o)]
	for i, v := range x {
		b := math.Float32bits(v)
		if b-0x00800000 >= 0x7f800000-0x00800000 { // not a positive, normal, finite number
			o[i] = log32(v)
			continue
		}
		y := math.Float64bits(float64(v))
		e := int64(y>>52) - 1023
		j := (y >> 46) & 63
		m := math.Float64frombits(y&0x000fffffffffffff | 0x3ff0000000000000)
		r := m*logInvC[j] - 1
		p := r * (1 + r*(-0.5+r*(1.0/3+r*(-0.25+r*(1.0/5)))))
		o[i] = float32(float64(e)*math.Ln2 + logLogC[j] + p)
	}
}
