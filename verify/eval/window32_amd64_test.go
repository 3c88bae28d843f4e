//go:build amd64

package eval

import "testing"

// forEachWindowKernel runs f with the AVX2 kernels (when the CPU has
// them) and with the portable Go loops.
func forEachWindowKernel(t *testing.T, f func(t *testing.T)) {
	saved := haveAVX2
	defer func() { haveAVX2 = saved }()
	if saved {
		t.Run("avx2", f)
	}
	haveAVX2 = false
	t.Run("go", f)
}
