//go:build amd64

package eval

import "testing"

// forEachWindowKernel runs f with the AVX-512 kernels (when the CPU has
// them), the AVX2 ones (likewise) and the portable Go loops.
func forEachWindowKernel(t *testing.T, f func(t *testing.T)) {
	saved, saved512 := haveAVX2, haveAVX512
	defer func() { haveAVX2, haveAVX512 = saved, saved512 }()
	if saved512 {
		t.Run("avx512", f)
	}
	haveAVX512 = false
	if saved {
		t.Run("avx2", f)
	}
	haveAVX2 = false
	t.Run("go", f)
}
