//go:build !amd64

package eval

import "unsafe"

// gatherPiece is the assembly row gather's stand-in: none here, so
// gatherRows moves every piece in Go.
func gatherPiece(dp, sp unsafe.Pointer, w int, offs []int, n int) bool { return false }
