package eval

import (
	"math"
	"math/rand"
	"testing"
	"unsafe"
)

// TestFastOps32 checks the AVX2 elementwise loops against plain Go on every
// length up to 40 and odd offsets, with NaN, ±0 and ±Inf among the values.
func TestFastOps32(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e-40, -1e-40}
	gen := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64() * 10)
			if r.Intn(5) == 0 {
				x[i] = special[r.Intn(len(special))]
			}
		}
		return x
	}
	same := func(a, b float32) bool {
		return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
	}
	check := func(what string, got, want []float32) {
		t.Helper()
		for i := range want {
			if !same(got[i], want[i]) {
				t.Fatalf("%s (len %d) at %d: got %v, want %v", what, len(want), i, got[i], want[i])
			}
		}
	}
	ops := map[string]func(a, b float32) float32{
		"Add": func(a, b float32) float32 { return a + b },
		"Sub": func(a, b float32) float32 { return a - b },
		"Mul": func(a, b float32) float32 { return a * b },
		"Div": func(a, b float32) float32 { return a / b },
	}
	for n := 0; n <= 40; n++ {
		for _, off := range []int{0, 1, 3} {
			a, b := gen(n + off)[off:], gen(n + off)[off:]
			s := gen(1)[0]
			o, want := make([]float32, n), make([]float32, n)
			for name, f := range ops {
				k := arithKern32(name)
				k.vv(o, a, b)
				for i := range want {
					want[i] = f(a[i], b[i])
				}
				check(name+" vv", o, want)
				k.vs(o, a, s)
				for i := range want {
					want[i] = f(a[i], s)
				}
				check(name+" vs", o, want)
				k.sv(o, s, b)
				for i := range want {
					want[i] = f(s, b[i])
				}
				check(name+" sv", o, want)
			}
			negF32(o, a)
			for i := range want {
				want[i] = -a[i]
			}
			check("Neg", o, want)
			absF32(o, a)
			for i := range want {
				want[i] = float32(math.Abs(float64(a[i])))
			}
			check("Abs", o, want)
			reluF32(o, a)
			for i, v := range a {
				if v < 0 {
					v = 0
				}
				want[i] = v
			}
			check("Relu", o, want)
			bs := make([]bool, n)
			for i := range bs {
				bs[i] = r.Intn(2) == 0
				want[i] = 0
				if bs[i] {
					want[i] = 1
				}
			}
			boolF32(o, bs)
			check("bool to float32", o, want)
			copy(o, a) // in place
			negF32(o, o)
			for i := range want {
				want[i] = -a[i]
			}
			check("Neg in place", o, want)
		}
	}
	t.Logf("AVX2: %v", haveAVX2)
}

// TestFastOps512Streamed checks the AVX-512 Add/Sub/Mul/Div loops, with
// ordinary and with non-temporal stores, against the float64 operation
// rounded to float32 (exact for these four: float64 carries more than
// 2·24+2 bits, so the double rounding is innocuous): lengths 0–100 at
// every offset from a 64-byte boundary (heads and tails of every size),
// with NaN, ±0, ±Inf and denormals among the values; elements around the
// output are checked to stay untouched.
func TestFastOps512Streamed(t *testing.T) {
	if !haveAVX512 {
		t.Skip("no AVX-512")
	}
	r := rand.New(rand.NewSource(19))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e-40, -1e-40}
	gen := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64() * 10)
			if r.Intn(7) == 0 {
				x[i] = special[r.Intn(len(special))]
			}
		}
		return x
	}
	ops := map[string]func(a, b float64) float64{
		"Add": func(a, b float64) float64 { return a + b },
		"Sub": func(a, b float64) float64 { return a - b },
		"Mul": func(a, b float64) float64 { return a * b },
		"Div": func(a, b float64) float64 { return a / b },
	}
	same := func(a, b float32) bool {
		return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
	}
	const guard = float32(12345)
	for name, f := range ops {
		k0, _ := arithKern512(name)
		for _, k := range []binKern[float32, float32, float32]{k0, k0.streamed()} {
			for n := 0; n <= 100; n++ {
				for off := 0; off < 16; off++ {
					a, b, s := gen(n), gen(n), gen(1)[0]
					buf := make([]float32, n+48)
					base := int((64 - uintptr(unsafe.Pointer(&buf[0]))%64) % 64 / 4)
					for form := 0; form < 3; form++ {
						for i := range buf {
							buf[i] = guard
						}
						o := buf[base+off : base+off+n]
						want := make([]float32, n)
						switch form {
						case 0:
							k.vv(o, a, b)
							for i := range want {
								want[i] = float32(f(float64(a[i]), float64(b[i])))
							}
						case 1:
							k.vs(o, a, s)
							for i := range want {
								want[i] = float32(f(float64(a[i]), float64(s)))
							}
						case 2:
							k.sv(o, s, b)
							for i := range want {
								want[i] = float32(f(float64(s), float64(b[i])))
							}
						}
						sfence512()
						for i := range want {
							if !same(o[i], want[i]) {
								t.Fatalf("%s form %d len %d off %d at %d: got %v, want %v", name, form, n, off, i, o[i], want[i])
							}
						}
						for i, v := range buf {
							if (i < base+off || i >= base+off+n) && v != guard {
								t.Fatalf("%s form %d len %d off %d: wrote outside the output at %d", name, form, n, off, i-base-off)
							}
						}
					}
				}
			}
		}
	}
}

// TestEqualKern64 checks the int64 Equal loops against ==, element by
// element, on lengths 0–70 (blocks of 16 and every tail) with values that
// differ only in high bits, in the sign, or not at all.
func TestEqualKern64(t *testing.T) {
	r := rand.New(rand.NewSource(19))
	k := equalKern64()
	pool := []int64{0, 1, -1, 1 << 40, 1<<40 + 1, -1 << 63, 1<<63 - 1, 7, 1<<32 + 7}
	for n := 0; n <= 70; n++ {
		a, b := make([]int64, n), make([]int64, n)
		for i := range a {
			a[i], b[i] = pool[r.Intn(len(pool))], pool[r.Intn(len(pool))]
		}
		s := pool[r.Intn(len(pool))]
		o := make([]bool, n)
		k.vv(o, a, b)
		for i := range o {
			if o[i] != (a[i] == b[i]) {
				t.Fatalf("vv len %d at %d: %d == %d gave %v", n, i, a[i], b[i], o[i])
			}
		}
		k.vs(o, a, s)
		for i := range o {
			if o[i] != (a[i] == s) {
				t.Fatalf("vs len %d at %d: %d == %d gave %v", n, i, a[i], s, o[i])
			}
		}
		k.sv(o, s, b)
		for i := range o {
			if o[i] != (s == b[i]) {
				t.Fatalf("sv len %d at %d: %d == %d gave %v", n, i, s, b[i], o[i])
			}
		}
	}
}
