package eval

import (
	"math"
	"math/rand"
	"testing"
)

func ulpDiff(a, b float32) int64 {
	if a == b {
		return 0
	}
	ia, ib := int64(math.Float32bits(a)), int64(math.Float32bits(b))
	d := ia - ib
	if d < 0 {
		d = -d
	}
	return d
}

func TestExp32Log32Accuracy(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	worstE, worstL := int64(0), int64(0)
	for i := 0; i < 2_000_000; i++ {
		x := float32(r.Float64()*200 - 100)
		if d := ulpDiff(exp32(x), float32(math.Exp(float64(x)))); d > worstE {
			worstE = d
		}
		y := math.Float32frombits(uint32(r.Int63n(0x7f800000)))
		if d := ulpDiff(log32(y), float32(math.Log(float64(y)))); d > worstL {
			worstL = d
		}
	}
	if worstE > 1 || worstL > 1 {
		t.Fatalf("worst ulp error: exp %d, log %d", worstE, worstL)
	}
	for _, c := range []struct{ x, want float32 }{{0, 1}, {float32(math.Inf(-1)), 0}, {float32(math.Inf(1)), float32(math.Inf(1))}, {89, float32(math.Inf(1))}} {
		if got := exp32(c.x); got != c.want {
			t.Errorf("exp32(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if v := exp32(float32(math.NaN())); v == v {
		t.Error("exp32(NaN) not NaN")
	}
	if v := log32(-1); v == v {
		t.Error("log32(-1) not NaN")
	}
	if v := log32(0); !math.IsInf(float64(v), -1) {
		t.Error("log32(0) not -Inf")
	}
	if v := log32(1); v != 0 {
		t.Errorf("log32(1) = %v", v)
	}
}

func TestSoftplus32(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for i := 0; i < 1_000_000; i++ {
		x := float32(r.Float64()*200 - 100)
		want := float32(softplus(float64(x)))
		if d := ulpDiff(softplus32(x), want); d > 2 {
			t.Fatalf("softplus32(%v) = %v, want %v (%d ulp)", x, softplus32(x), want, d)
		}
	}
}

// TestExpLogSlice32 checks the slice kernels equal the scalar functions,
// including the special values and the chunks that fall back.
func TestExpLogSlice32(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, expFastMin, expFastMax, 88.72, 88.8, 89, -87.5, -103, -104, -105, -150,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), math.SmallestNonzeroFloat32, math.MaxFloat32, 1e-40, -1e-40}
	x := make([]float32, 5000)
	for i := range x {
		switch {
		case i%97 == 0:
			x[i] = special[(i/97)%len(special)]
		case i < 2500:
			x[i] = float32(r.Float64()*40 - 20)
		default:
			x[i] = math.Float32frombits(uint32(r.Int63n(1 << 32)))
		}
	}
	o := make([]float32, len(x))
	same := func(a, b float32) bool {
		return a == b && math.Signbit(float64(a)) == math.Signbit(float64(b)) || a != a && b != b
	}
	expSlice32Go(o, x)
	for i, v := range x {
		if !same(o[i], exp32(v)) {
			t.Fatalf("expSlice32Go at %d: exp(%v) = %v, exp32 gives %v", i, v, o[i], exp32(v))
		}
	}
	for _, off := range []int{0, 1, 3} { // odd lengths exercise the scalar tails
		xx, oo := x[off:], o[off:]
		expSlice32(oo, xx)
		for i, v := range xx {
			want := exp32(v)
			if !(same(oo[i], want) || ulpDiff(oo[i], want) <= 1 && ulpDiff(oo[i], float32(math.Exp(float64(v)))) <= 1) {
				t.Fatalf("expSlice32 at %d: exp(%v) = %v, exp32 gives %v", i, v, oo[i], want)
			}
		}
	}
	logSlice32Go(o, x)
	for i, v := range x {
		if !same(o[i], log32(v)) {
			t.Fatalf("logSlice32Go at %d: log(%v) = %v, log32 gives %v", i, v, o[i], log32(v))
		}
	}
	for _, off := range []int{0, 1, 3} {
		xx, oo := x[off:], o[off:]
		logSlice32(oo, xx)
		for i, v := range xx {
			want := log32(v)
			if !(same(oo[i], want) || ulpDiff(oo[i], want) <= 1 && ulpDiff(oo[i], float32(math.Log(float64(v)))) <= 1) {
				t.Fatalf("logSlice32 at %d: log(%v) = %v, log32 gives %v", i, v, oo[i], want)
			}
		}
	}
}

// TestExpSlice32Accuracy checks the (assembly) slice kernel against math.Exp
// over the whole float32 range it computes itself.
func TestExpSlice32Accuracy(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	x := make([]float32, 1<<20)
	for i := range x {
		x[i] = float32(r.Float64()*(expFastMax-expFastMin) + expFastMin)
		if i%7 == 0 {
			x[i] = float32(r.NormFloat64())
		}
	}
	o := make([]float32, len(x))
	expSlice32(o, x)
	worst := int64(0)
	for i, v := range x {
		if d := ulpDiff(o[i], float32(math.Exp(float64(v)))); d > worst {
			worst = d
		}
	}
	if worst > 1 {
		t.Fatalf("expSlice32: worst error %d ulp", worst)
	}
	t.Logf("expSlice32 (AVX2 %v): worst error %d ulp", haveAVX2, worst)
}

// TestLogSlice32Accuracy checks the (assembly) slice kernel against math.Log
// over positive float32s, 1 ± small and the bounds of the mantissa split.
func TestLogSlice32Accuracy(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	x := make([]float32, 1<<20)
	for i := range x {
		switch i % 4 {
		case 0:
			x[i] = math.Float32frombits(uint32(r.Int63n(0x7f800000)))
		case 1:
			x[i] = float32(1 + (r.Float64()-0.5)*1e-3)
		case 2:
			x[i] = float32(math.Sqrt2 * (1 + (r.Float64()-0.5)*1e-6) * math.Pow(2, float64(r.Intn(60)-30)))
		default:
			x[i] = float32(r.Float64() * 10)
		}
	}
	o := make([]float32, len(x))
	logSlice32(o, x)
	worst := int64(0)
	for i, v := range x {
		if d := ulpDiff(o[i], float32(math.Log(float64(v)))); d > worst {
			worst = d
		}
	}
	if worst > 1 {
		t.Fatalf("logSlice32: worst error %d ulp", worst)
	}
	t.Logf("logSlice32 (AVX2 %v): worst error %d ulp", haveAVX2, worst)
}

// TestExpLogSlice32InPlace checks the kernels with o and x the same slice
// (in-place reuse), where the fall-back must still see the inputs.
func TestExpLogSlice32InPlace(t *testing.T) {
	x := []float32{0, 0, 0, 0, 1, -1, 0, 2, float32(math.NaN()), -100, 100, 5e-39, -3, 7}
	for _, k := range []struct {
		name  string
		f     func(o, x []float32)
		want  func(float32) float32
		exact bool
	}{
		{"expSlice32", expSlice32, exp32, false},
		{"expSlice32Go", expSlice32Go, exp32, true},
		{"logSlice32", logSlice32, log32, false},
		{"logSlice32Go", logSlice32Go, log32, true},
	} {
		o := append([]float32(nil), x...)
		k.f(o, o)
		for i, v := range x {
			w := k.want(v)
			if !(o[i] == w || o[i] != o[i] && w != w || !k.exact && ulpDiff(o[i], w) <= 1) {
				t.Errorf("%s in place at %d: f(%v) = %v, want %v", k.name, i, v, o[i], w)
			}
		}
	}
}
