//go:build amd64

package eval

import "testing"

// TestUnary32AccuracyPortable runs the accuracy test on the portable path
// (as on CPUs without AVX2 and on other architectures).
func TestUnary32AccuracyPortable(t *testing.T) {
	saved := haveAVX2
	haveAVX2 = false
	defer func() { haveAVX2 = saved }()
	checkUnary32Accuracy(t)
}
