//go:build amd64

package eval

// expAVX2 is implemented in fastmath_amd64.s.
//
//go:noescape
func expAVX2(o, x []float32) (inRange bool)

func cpuHasAVX2FMA() bool

// haveAVX2 reports whether the CPU and OS support AVX2 and FMA.
var haveAVX2 = cpuHasAVX2FMA()

// logAVX2 is implemented in fastmath_amd64.s.
//
//go:noescape
func logAVX2(o, x []float32) (inRange bool)
