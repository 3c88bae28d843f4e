//go:build amd64

package eval

// The kernels below are implemented in unary32_amd64.s; each needs AVX2 and
// FMA (haveAVX2) and a length that is a multiple of 8.

//go:noescape
func sigmoidAVX2(o, x []float32) (inRange bool)

//go:noescape
func erfAVX2(o, x []float32) (inRange bool)

//go:noescape
func hardSigmoidAVX2(o, x []float32, alpha, beta float64, swish bool)

//go:noescape
func sqrtAVX2(o, x []float32)

//go:noescape
func reciprocalAVX2(o, x []float32)

// The 16-lane kernels below need AVX-512F (haveAVX512) and a multiple of 16.

//go:noescape
func sigmoidAVX512(o, x []float32) (inRange bool)

//go:noescape
func erfAVX512(o, x []float32) (inRange bool)

//go:noescape
func tanhAVX2(o, x []float32) (inRange bool)

//go:noescape
func geluErfAVX2(o, x []float32, lo float32) (inRange bool)

//go:noescape
func geluTanhAVX2(o, x []float32) (inRange bool)

//go:noescape
func reluLikeAVX2(o, x []float32, alpha float32, thresholded bool)

//go:noescape
func mishAVX2(o, x []float32) (inRange bool)

//go:noescape
func eluLikeAVX2(o, x []float32, inv, neg, pos, k float32)
