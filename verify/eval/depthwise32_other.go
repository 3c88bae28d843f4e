//go:build !amd64

package eval

// Without amd64 the window kernels run as Go loops (haveAVX2 is false).

func dwPlaneAVX2(o *float32, ow, oh, ostride int, x *float32, xstep int, offs *int, w *float32, ntaps int, bias float32) {
	panic("dwPlaneAVX2 needs amd64")
}

func maxPlaneAVX2(o *float32, ow, oh, ostride int, x *float32, xstep int, offs *int, ntaps int) {
	panic("maxPlaneAVX2 needs amd64")
}

func scaleShiftAVX2(o, x []float32, a, b float32) { panic("scaleShiftAVX2 needs amd64") }

func gather2RowsAVX2(dst *float32, dstep int, src *float32, sstep, rows, n int) {
	panic("gather2RowsAVX2 needs amd64")
}
