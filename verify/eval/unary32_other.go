//go:build !amd64

package eval

func sigmoidAVX2(o, x []float32) bool { panic("sigmoidAVX2 needs amd64") }

func erfAVX2(o, x []float32) bool { panic("erfAVX2 needs amd64") }

func hardSigmoidAVX2(o, x []float32, alpha, beta float64, swish bool) {
	panic("hardSigmoidAVX2 needs amd64")
}

func sqrtAVX2(o, x []float32) { panic("sqrtAVX2 needs amd64") }

func reciprocalAVX2(o, x []float32) { panic("reciprocalAVX2 needs amd64") }

func sigmoidAVX512(o, x []float32) bool { panic("sigmoidAVX512 needs amd64") }

func erfAVX512(o, x []float32) bool { panic("erfAVX512 needs amd64") }

func tanhAVX2(o, x []float32) bool { panic("tanhAVX2 needs amd64") }

func geluErfAVX2(o, x []float32, lo float32) bool { panic("geluErfAVX2 needs amd64") }

func geluTanhAVX2(o, x []float32) bool { panic("geluTanhAVX2 needs amd64") }

func reluLikeAVX2(o, x []float32, alpha float32, thresholded bool) {
	panic("reluLikeAVX2 needs amd64")
}

func mishAVX2(o, x []float32) bool { panic("mishAVX2 needs amd64") }

func eluLikeAVX2(o, x []float32, inv, neg, pos, k float32) { panic("eluLikeAVX2 needs amd64") }
