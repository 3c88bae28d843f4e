//go:build amd64

package eval

// Window kernels in depthwise32_amd64.s (AVX2 + FMA); strides and tap
// offsets are in bytes. See windowPlan for the layout they read.

//go:noescape
func dwPlaneAVX2(o *float32, ow, oh, ostride int, x *float32, xstep int, offs *int, w *float32, ntaps int, bias float32)

//go:noescape
func maxPlaneAVX2(o *float32, ow, oh, ostride int, x *float32, xstep int, offs *int, ntaps int)

//go:noescape
func scaleShiftAVX2(o, x []float32, a, b float32)

//go:noescape
func gather2RowsAVX2(dst *float32, dstep int, src *float32, sstep, rows, n int)
