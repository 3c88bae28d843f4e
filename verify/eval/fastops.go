package eval

import "math"

// arithKern32 is arithKern[float32] with the AVX2 loops (fastops_amd64.s)
// for Add, Sub, Mul and Div when the CPU has them; results are identical
// (the same IEEE operation per element).
func arithKern32(name string) binKern[float32, float32, float32] {
	base := arithKern[float32](name)
	if haveAVX512 {
		if k, ok := arithKern512(name); ok {
			return k
		}
	}
	if !haveAVX2 {
		return base
	}
	var vv func(o, a, b []float32)
	var vs, sv func(o, a []float32, s float32)
	switch name {
	case "Add":
		vv, vs, sv = addVV32, addVS32, addVS32 // s + a[i] == a[i] + s
	case "Sub":
		vv, vs, sv = subVV32, subVS32, subSV32
	case "Mul":
		vv, vs, sv = mulVV32, mulVS32, mulVS32
	case "Div":
		vv, vs, sv = divVV32, divVS32, divSV32
	default:
		return base
	}
	return binKern[float32, float32, float32]{
		vv: func(o, a, b []float32) {
			n := len(o) &^ 7
			if n > 0 {
				vv(o[:n], a[:n], b[:n])
			}
			base.vv(o[n:], a[n:len(o)], b[n:len(o)])
		},
		vs: func(o, a []float32, b float32) {
			n := len(o) &^ 7
			if n > 0 {
				vs(o[:n], a[:n], b)
			}
			base.vs(o[n:], a[n:len(o)], b)
		},
		sv: func(o []float32, a float32, b []float32) {
			n := len(o) &^ 7
			if n > 0 {
				sv(o[:n], b[:n], a)
			}
			base.sv(o[n:], a, b[n:len(o)])
		},
	}
}

// arithKern512 is arithKern32 with the AVX-512 loops (fastops512_amd64.s),
// which handle any length, plus their non-temporal-store variants for
// runBinary's large outputs.
func arithKern512(name string) (binKern[float32, float32, float32], bool) {
	var vv func(o, a, b []float32, stream bool)
	var vs, sv func(o, a []float32, s float32, stream bool)
	switch name {
	case "Add":
		vv, vs, sv = addVV512, addVS512, addVS512 // s + a[i] == a[i] + s
	case "Sub":
		vv, vs, sv = subVV512, subVS512, subSV512
	case "Mul":
		vv, vs, sv = mulVV512, mulVS512, mulVS512
	case "Div":
		vv, vs, sv = divVV512, divVS512, divSV512
	default:
		return binKern[float32, float32, float32]{}, false
	}
	kern := func(stream bool) binKern[float32, float32, float32] {
		return binKern[float32, float32, float32]{
			vv: func(o, a, b []float32) { vv(o, a[:len(o)], b[:len(o)], stream) },
			vs: func(o, a []float32, b float32) { vs(o, a[:len(o)], b, stream) },
			sv: func(o []float32, a float32, b []float32) { sv(o, b[:len(o)], a, stream) },
		}
	}
	k := kern(false)
	k.streamed = func() binKern[float32, float32, float32] { return kern(true) }
	return k, true
}

// avx2Prefix runs vec on the first n&^7 elements when use holds (the CPU
// has AVX2 and the kernel applies) and returns where the scalar loop over
// the rest starts: the shape of every 8-lane kernel's Go wrapper.
func avx2Prefix(use bool, n int, vec func(n8 int)) int {
	if !use || n < 8 {
		return 0
	}
	n8 := n &^ 7
	vec(n8)
	return n8
}

// negF32 sets o[i] = −x[i].
func negF32(o, x []float32) {
	x = x[:len(o)]
	for i := avx2Prefix(haveAVX2, len(o), func(n int) { negSlice32(o[:n], x[:n]) }); i < len(o); i++ {
		o[i] = -x[i]
	}
}

// absF32 sets o[i] = |x[i]| (clearing the sign bit).
func absF32(o, x []float32) {
	x = x[:len(o)]
	for i := avx2Prefix(haveAVX2, len(o), func(n int) { absSlice32(o[:n], x[:n]) }); i < len(o); i++ {
		o[i] = math.Float32frombits(math.Float32bits(x[i]) &^ (1 << 31))
	}
}

// reluF32 sets o[i] = 0 where x[i] < 0, else x[i] (NaN and −0 pass through).
func reluF32(o, x []float32) {
	x = x[:len(o)]
	for i := avx2Prefix(haveAVX2, len(o), func(n int) { reluSlice32(o[:n], x[:n]) }); i < len(o); i++ {
		v := x[i]
		if v < 0 {
			v = 0
		}
		o[i] = v
	}
}

// boolF32 sets o[i] = 1 where b[i], else 0.
func boolF32(o []float32, b []bool) {
	b = b[:len(o)]
	for i := avx2Prefix(haveAVX2, len(o), func(n int) { boolToF32(o[:n], b[:n]) }); i < len(o); i++ {
		o[i] = 0
		if b[i] {
			o[i] = 1
		}
	}
}

// equalKern64 is cmpKern[int64]("Equal") with the AVX-512 loops
// (fastops512_amd64.s) for whole 16-element blocks when the CPU has them
// (a label compared with every class id: the one-hot of a loss).
func equalKern64() binKern[int64, int64, bool] {
	base := cmpKern[int64]("Equal")
	if !haveAVX512 {
		return base
	}
	return binKern[int64, int64, bool]{
		vv: func(o []bool, a, b []int64) {
			n := len(o) &^ 15
			if n > 0 {
				eqVV64x512(o[:n], a[:n], b[:n])
			}
			base.vv(o[n:], a[n:len(o)], b[n:len(o)])
		},
		vs: func(o []bool, a []int64, b int64) {
			n := len(o) &^ 15
			if n > 0 {
				eqVS64x512(o[:n], a[:n], b)
			}
			base.vs(o[n:], a[n:len(o)], b)
		},
		sv: func(o []bool, a int64, b []int64) {
			n := len(o) &^ 15
			if n > 0 {
				eqVS64x512(o[:n], b[:n], a) // a == b[i] is b[i] == a
			}
			base.sv(o[n:], a, b[n:len(o)])
		},
	}
}
