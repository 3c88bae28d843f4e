//go:build !amd64

package eval

func sgemmKernel6x16(k int, a, b, c *float32, ldc int) { panic("sgemmKernel6x16 needs amd64") }
