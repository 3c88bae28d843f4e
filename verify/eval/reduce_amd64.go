//go:build amd64

package eval

// sumF32x512 is implemented in reduce_amd64.s (AVX-512).
//
//go:noescape
func sumF32x512(x []float32) float64
