package eval

import (
	"math"
	"testing"
)

var sink float32

func benchScalar(b *testing.B, f func(float32) float32) {
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(i)/256 - 8
	}
	b.SetBytes(int64(len(x) * 4))
	for i := 0; i < b.N; i++ {
		s := float32(0)
		for _, v := range x {
			s += f(v)
		}
		sink = s
	}
}

func BenchmarkScalarExp32(b *testing.B) { benchScalar(b, exp32) }
func BenchmarkScalarMathExp(b *testing.B) {
	benchScalar(b, func(x float32) float32 { return float32(math.Exp(float64(x))) })
}
func BenchmarkScalarLog32(b *testing.B) {
	benchScalar(b, func(x float32) float32 { return log32(x + 9) })
}
func BenchmarkScalarMathLog(b *testing.B) {
	benchScalar(b, func(x float32) float32 { return float32(math.Log(float64(x + 9))) })
}
