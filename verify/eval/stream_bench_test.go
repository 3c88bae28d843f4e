package eval

import "testing"

// BenchmarkAddVV512 times o = a + b on 256 MB float32 slices on both cores
// with ordinary and with non-temporal stores (the choice runBinary makes
// from streamMinBytes), side by side.
func BenchmarkAddVV512(b *testing.B) {
	if !haveAVX512 {
		b.Skip("no AVX-512")
	}
	n := 1 << 26
	x, y, o := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i], y[i] = float32(i%1000), float32(i%7)
	}
	for _, stream := range []bool{false, true} {
		name := "cached"
		if stream {
			name = "stream"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(n) * 4)
			for i := 0; i < b.N; i++ {
				parallelFor(n, 1, func(lo, hi int) {
					addVV512(o[lo:hi], x[lo:hi], y[lo:hi], stream)
					if stream {
						sfence512()
					}
				})
			}
		})
	}
}
