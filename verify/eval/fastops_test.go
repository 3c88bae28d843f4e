package eval

import (
	"math"
	"math/rand"
	"testing"
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
