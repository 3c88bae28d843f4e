//go:build !amd64

package eval

// haveAVX2 is false off amd64: the portable loops run. A variable, as on
// amd64, so that the tests can switch the paths they compare.
var haveAVX2 = false

func expAVX2(o, x []float32) bool { panic("expAVX2 needs amd64") }

func logAVX2(o, x []float32) bool { panic("logAVX2 needs amd64") }
