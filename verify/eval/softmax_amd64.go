//go:build amd64

package eval

// The AVX-512 row kernels of softmax_amd64.s; each takes any length.

//go:noescape
func maxF32x512(x []float32) float32

//go:noescape
func sumExpShift512(x []float32, m float32) float64

//go:noescape
func expShiftStore512(o, x []float32, m float32) float64

func sfence512()
