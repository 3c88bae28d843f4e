//go:build amd64

package eval

// sgemmKernel6x16 is implemented in gemm_amd64.s (AVX2 + FMA).
//
//go:noescape
func sgemmKernel6x16(k int, a, b, c *float32, ldc int)
