package verify

import (
	"fmt"
	"math"
)

// Tolerance is the comparison rule |got − want| ≤ ATol + RTol·|want|.
type Tolerance struct {
	RTol float64 `json:"rtol"`
	ATol float64 `json:"atol"`
}

// DefaultTolerance fits a float32 graph against a float64 reference: float32
// has a unit roundoff of 6e-8, and the losses are short chains of ops and
// sums of at most a few million terms, which stay within 1e-5 relative; the
// absolute 1e-6 covers values near zero, whose relative error is meaningless.
var DefaultTolerance = Tolerance{RTol: 1e-5, ATol: 1e-6}

// Check is the comparison of one output with what it should be.
type Check struct {
	// Name says what was compared: the output and the case (shape, seed …).
	Name   string `json:"name"`
	Output string `json:"output"`
	// Elements is the number of values compared.
	Elements int `json:"elements"`
	// MaxAbsErr and MaxRelErr are the largest errors over all elements.
	MaxAbsErr float64 `json:"max_abs_err"`
	MaxRelErr float64 `json:"max_rel_err"`
	// Worst is the flat index of the element furthest outside (or closest
	// to) the tolerance, with its values.
	Worst     int     `json:"worst_index"`
	WorstGot  float64 `json:"worst_got"`
	WorstWant float64 `json:"worst_want"`
	Pass      bool    `json:"pass"`
	// Tolerance is the rule this check applied.
	Tolerance Tolerance `json:"tolerance"`
	// Problem explains a failure that is not a numeric mismatch (shape,
	// missing output, evaluation error).
	Problem string `json:"problem,omitempty"`
}

// compareValues compares got with want element by element. NaN matches
// only NaN, infinities only the same infinity.
func compareValues(name, output string, got, want []float64, tol Tolerance) Check {
	c := Check{Name: name, Output: output, Elements: len(want), Pass: true, Tolerance: tol}
	if len(got) != len(want) {
		c.Pass = false
		c.Problem = fmt.Sprintf("%d values, want %d", len(got), len(want))
		return c
	}
	worstExcess := math.Inf(-1)
	for i := range want {
		g, w := got[i], want[i]
		var abs, rel, excess float64
		switch {
		case math.IsNaN(g) || math.IsNaN(w):
			if math.IsNaN(g) && math.IsNaN(w) {
				continue
			}
			abs, rel, excess = math.Inf(1), math.Inf(1), math.Inf(1)
		case math.IsInf(g, 0) || math.IsInf(w, 0):
			if g == w {
				continue
			}
			abs, rel, excess = math.Inf(1), math.Inf(1), math.Inf(1)
		default:
			abs = math.Abs(g - w)
			if w != 0 {
				rel = abs / math.Abs(w)
			} else if abs != 0 {
				rel = math.Inf(1)
			}
			excess = abs - (tol.ATol + tol.RTol*math.Abs(w))
		}
		c.MaxAbsErr = math.Max(c.MaxAbsErr, abs)
		c.MaxRelErr = math.Max(c.MaxRelErr, rel)
		if excess > worstExcess {
			worstExcess, c.Worst, c.WorstGot, c.WorstWant = excess, i, g, w
		}
		if excess > 0 {
			c.Pass = false
		}
	}
	return c
}
