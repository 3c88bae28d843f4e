//go:build !amd64

package eval

func sumF32x512(x []float32) float64 { panic("needs amd64") }
