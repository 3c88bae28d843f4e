//go:build !amd64

package eval

import "testing"

// forEachWindowKernel runs f with the portable Go loops (the only ones).
func forEachWindowKernel(t *testing.T, f func(t *testing.T)) { t.Run("go", f) }
