//go:build amd64

package eval

// Row kernels in layernorm_amd64.s; layernorm32.go finishes the tails.

//go:noescape
func sumF32AVX2(x []float32) float64

//go:noescape
func sqDevF32AVX2(x []float32, mean float64) float64

//go:noescape
func normAffine32AVX2(y, x, s, b []float32, mean, resid, inv float32)
