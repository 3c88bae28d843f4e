//go:build amd64

package eval

import "unsafe"

// The im2col row gather in im2col_amd64.s (AVX2).

//go:noescape
func gatherPieceAVX2(dst *float32, dstep int, src *float32, offs *int, rows, n int)

// gatherPiece copies one piece of n floats down the rows of a w-wide strip
// at dp, row r from sp + offs[r] (see gatherRows), when the CPU has AVX2
// and the piece is at least 8 wide; it reports whether it did.
func gatherPiece(dp, sp unsafe.Pointer, w int, offs []int, n int) bool {
	if !gatherAVX2 || n < 8 || len(offs) == 0 {
		return false
	}
	gatherPieceAVX2((*float32)(dp), 4*w, (*float32)(sp), &offs[0], len(offs), n)
	return true
}
