//go:build amd64

package eval

// transpose32AVX2 is implemented in transpose_amd64.s.
//
//go:noescape
func transpose32AVX2(dst *uint32, dstStride int, src *uint32, srcStride int, nb8, na8 int)
