//go:build amd64

package eval

import "testing"

// TestUnary32AccuracyPaths runs the accuracy test with the AVX-512 kernels
// off (AVX2 only) and with both off (the portable path, as on CPUs without
// AVX2 and on other architectures).
func TestUnary32AccuracyPaths(t *testing.T) {
	saved2, saved512 := haveAVX2, haveAVX512
	defer func() { haveAVX2, haveAVX512 = saved2, saved512 }()
	t.Run("AVX2", func(t *testing.T) {
		if !saved2 {
			t.Skip("no AVX2")
		}
		haveAVX2, haveAVX512 = true, false
		checkUnary32Accuracy(t)
	})
	t.Run("portable", func(t *testing.T) {
		haveAVX2, haveAVX512 = false, false
		checkUnary32Accuracy(t)
	})
}
