//go:build !amd64

package eval

func sgemmKernel6x16(k int, a, b, c *float32, ldc int) { panic("sgemmKernel6x16 needs amd64") }

func sgemmKernel14x32(k int, a, b, c *float32, ldc int) { panic("sgemmKernel14x32 needs amd64") }

func sgemmKernel14x32Edge(k int, a, b, c *float32, ldc, rows, cols int) {
	panic("sgemmKernel14x32Edge needs amd64")
}
