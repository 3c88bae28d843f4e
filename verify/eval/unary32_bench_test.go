package eval

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// BenchmarkUnary32 times each float32 unary kernel on one core over 64Ki
// seeded normal inputs (σ = 3, in cache), next to the loop it replaces (the
// "old" rows: sigmoid32 per element, and the float64 closure path
// float32(f(float64(x))) the other ops went through); "avx2" is the new
// kernel without its AVX-512 variant.
func BenchmarkUnary32(b *testing.B) {
	r := rand.New(rand.NewSource(7))
	x := make([]float32, 1<<16)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 3)
	}
	o := make([]float32, len(x))
	viaF64 := func(f func(float64) float64) func(o, x []float32) {
		return func(o, x []float32) {
			for i := range o {
				o[i] = float32(f(float64(x[i])))
			}
		}
	}
	hardSwish := func(v float64) float64 { return v * math.Max(0, math.Min(1, v/6+0.5)) }
	for _, c := range []struct {
		op, impl string
		f        func(o, x []float32)
	}{
		{"Sigmoid", "old", func(o, x []float32) {
			for i := range o {
				o[i] = sigmoid32(x[i])
			}
		}},
		{"Sigmoid", "new", sigmoidSlice32},
		{"Sigmoid", "avx2", func(o, x []float32) { runKernel32(o, x, nil, sigmoidAVX2, sigmoidSpecial, sigmoid32) }},
		{"Erf", "old", viaF64(math.Erf)},
		{"Erf", "new", erfSlice32},
		{"Erf", "avx2", func(o, x []float32) { runKernel32(o, x, nil, erfAVX2, isNaN32, erf32) }},
		{"HardSwish", "old", viaF64(hardSwish)},
		{"HardSwish", "new", hardSwishSlice32},
		{"HardSigmoid", "old", viaF64(func(v float64) float64 { return math.Max(0, math.Min(1, 0.2*v+0.5)) })},
		{"HardSigmoid", "new", hardSigmoidSlice32(0.2, 0.5)},
		{"Tanh", "old", viaF64(math.Tanh)},
		{"Tanh", "new", tanhSlice32},
		{"GeluErf", "old", viaF64(func(v float64) float64 { return 0.5 * v * (1 + math.Erf(v/math.Sqrt2)) })},
		{"GeluErf", "new", geluErfSlice32},
		{"GeluTanh", "old", viaF64(func(v float64) float64 {
			return 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
		})},
		{"GeluTanh", "new", geluTanhSlice32},
		{"Mish", "old", viaF64(func(v float64) float64 { return v * math.Tanh(softplus(v)) })},
		{"Mish", "new", mishSlice32},
		{"Elu", "old", viaF64(func(v float64) float64 {
			if v < 0 {
				return math.Exp(v) - 1
			}
			return v
		})},
		{"Elu", "new", eluSlice32(1)},
		{"LeakyRelu", "old", viaF64(func(v float64) float64 {
			if v < 0 {
				return 0.01 * v
			}
			return v
		})},
		{"LeakyRelu", "new", leakyReluSlice32(0.01)},
		{"Sqrt", "old", func(o, x []float32) {
			for i := range o {
				o[i] = float32(math.Sqrt(float64(x[i])))
			}
		}},
		{"Sqrt", "new", sqrtSlice32},
		{"Reciprocal", "old", func(o, x []float32) {
			for i := range o {
				o[i] = 1 / x[i]
			}
		}},
		{"Reciprocal", "new", reciprocalSlice32},
	} {
		if c.impl == "avx2" && !haveAVX2 {
			continue
		}
		b.Run(fmt.Sprintf("op=%s/impl=%s", c.op, c.impl), func(b *testing.B) {
			b.SetBytes(int64(len(x) * 4))
			for b.Loop() {
				c.f(o, x)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(x)), "ns/elem")
		})
	}
}
