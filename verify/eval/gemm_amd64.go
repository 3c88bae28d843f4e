//go:build amd64

package eval

// sgemmKernel6x16 is implemented in gemm_amd64.s (AVX2 + FMA).
//
//go:noescape
func sgemmKernel6x16(k int, a, b, c *float32, ldc int)

// sgemmKernel14x32 is implemented in gemm_amd64.s (AVX-512F).
//
//go:noescape
func sgemmKernel14x32(k int, a, b, c *float32, ldc int)

// sgemmKernel14x32Edge is implemented in gemm_amd64.s (AVX-512F): the
// 14×32 kernel storing only rows×cols of the tile.
//
//go:noescape
func sgemmKernel14x32Edge(k int, a, b, c *float32, ldc, rows, cols int)
