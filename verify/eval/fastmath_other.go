//go:build !amd64

package eval

const haveAVX2 = false

func expAVX2(o, x []float32) bool { panic("expAVX2 needs amd64") }

func logAVX2(o, x []float32) bool { panic("logAVX2 needs amd64") }
