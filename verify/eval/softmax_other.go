//go:build !amd64

package eval

func maxF32x512(x []float32) float32                     { panic("needs amd64") }
func sumExpShift512(x []float32, m float32) float64      { panic("needs amd64") }
func expShiftStore512(o, x []float32, m float32) float64 { panic("needs amd64") }
func sfence512()                                         {}
