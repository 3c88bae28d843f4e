package lossops

import "math"

// closeTo is |got − want| ≤ atol + rtol·|want|.
func closeTo(got, want, rtol, atol float64) bool {
	return math.Abs(got-want) <= atol+rtol*math.Abs(want)
}
