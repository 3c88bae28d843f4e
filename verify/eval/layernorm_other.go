//go:build !amd64

package eval

func sumF32AVX2(x []float32) float64                 { panic("sumF32AVX2 needs amd64") }
func sqDevF32AVX2(x []float32, mean float64) float64 { panic("sqDevF32AVX2 needs amd64") }
func normAffine32AVX2(y, x, s, b []float32, mean, resid, inv float32) {
	panic("normAffine32AVX2 needs amd64")
}
