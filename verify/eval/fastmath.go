package eval

import "math"

// exp32 returns e**x for float32 x, computed with a float64 polynomial after
// range reduction; the result is within 1 ulp of the correctly rounded value.
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
	const log2e = 1.4426950408889634
	const ln2hi = 6.93147180369123816490e-01
	const ln2lo = 1.90821492927058770002e-10
	xd := float64(x)
	k := math.Floor(xd*log2e + 0.5)
	r := (xd - k*ln2hi) - k*ln2lo
	// Taylor series to degree 8 on |r| <= 0.35: error < 3e-10 relative.
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040+r*(1.0/40320))))))))
	return float32(p * math.Float64frombits(uint64(int64(k)+1023)<<52))
}

// log32 returns the natural logarithm of float32 x, accurate to within 1 ulp.
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
	e := int32(b>>23) - 127
	if b < 0x00800000 { // subnormal
		x *= 1 << 23
		b = math.Float32bits(x)
		e = int32(b>>23) - 127 - 23
	}
	// m in [sqrt(1/2), sqrt(2))
	mb := b&0x007fffff | 0x3f800000
	if mb > 0x3fb504f3 {
		mb = b&0x007fffff | 0x3f000000
		e++
	}
	m := float64(math.Float32frombits(mb))
	s := (m - 1) / (m + 1)
	s2 := s * s
	l := 2 * s * (1 + s2*(1.0/3+s2*(1.0/5+s2*(1.0/7+s2*(1.0/9+s2*(1.0/11+s2*(1.0/13)))))))
	return float32(float64(e)*math.Ln2 + l)
}

// sigmoid32 returns 1/(1+e**-x) in float32.
func sigmoid32(x float32) float32 {
	if x >= 0 {
		return float32(1 / (1 + float64(exp32(-x))))
	}
	e := float64(exp32(x))
	return float32(e / (1 + e))
}
