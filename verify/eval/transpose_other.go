//go:build !amd64

package eval

func transpose32AVX2(dst *uint32, dstStride int, src *uint32, srcStride int, nb8, na8 int) {
	panic("transpose32AVX2 needs amd64")
}
