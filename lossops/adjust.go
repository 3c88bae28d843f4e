package lossops

import (
	"fmt"
	"math"
)

// Adjustments returns the per-class vector a count-derived loss bakes into
// its subgraph, computed from s.Counts:
//
//   - logit_adjusted: the logit offsets τ·log π_c with π_c = n_c / Σn
//     (Menon et al. 2021, "Long-tail learning via logit adjustment");
//   - balanced_softmax: the logit offsets log n_c (Ren et al. 2020,
//     "Balanced Meta-Softmax for Long-Tailed Visual Recognition");
//   - ldam: the margins m_c = n_c^(−1/4) rescaled so the largest is
//     s.MaxMargin (Cao et al. 2019, "Learning Imbalanced Datasets with
//     Label-Distribution-Aware Margin Loss"), computed in the order of the
//     authors' LDAMLoss: 1/sqrt(sqrt(n)), then times max_m / max.
//
// With s.SkipZero a class with count 0 gets offset −∞ (logit_adjusted,
// balanced_softmax) or margin 0 (ldam, left out of the maximum); without it
// a zero count is an error naming the class (by its name when names, one per
// count, is given). Other losses return nil. Errors are one line.
func (s Spec) Adjustments(names []string) ([]float64, error) {
	if !s.Loss.FromCounts() {
		return nil, nil
	}
	switch s.Loss {
	case LogitAdjusted:
		if math.IsNaN(s.Tau) || math.IsInf(s.Tau, 0) {
			return nil, fmt.Errorf("tau %v is invalid: use a finite value (1 is the paper's choice, 0 gives plain cross-entropy)", s.Tau)
		}
	case LDAM:
		if math.IsNaN(s.MaxMargin) || math.IsInf(s.MaxMargin, 0) || s.MaxMargin <= 0 {
			return nil, fmt.Errorf("max margin %v is invalid: use a finite value > 0 (default %v)", s.MaxMargin, DefaultMaxMargin)
		}
		if math.IsNaN(s.Scale) || math.IsInf(s.Scale, 0) || s.Scale <= 0 {
			return nil, fmt.Errorf("scale %v is invalid: use a finite value > 0 (default %v)", s.Scale, DefaultScale)
		}
	}
	if len(s.Counts) == 0 {
		return nil, fmt.Errorf("%s needs the per-class counts: give one count per class", s.Loss)
	}
	if names != nil && len(names) != len(s.Counts) {
		return nil, fmt.Errorf("%d class names for %d counts: give one name per count", len(names), len(s.Counts))
	}
	className := func(c int) string {
		if names != nil && names[c] != "" {
			return fmt.Sprintf("class %d (%q)", c, names[c])
		}
		return fmt.Sprintf("class %d", c)
	}
	total, kept := 0.0, 0
	for c, n := range s.Counts {
		switch {
		case math.IsNaN(n) || math.IsInf(n, 0) || n < 0:
			return nil, fmt.Errorf("%s has count %v: counts must be finite numbers >= 0", className(c), n)
		case n == 0 && !s.SkipZero:
			return nil, fmt.Errorf("%s has count 0, so its %s is infinite: give it a count > 0 or use --zero-counts skip (the class is left out of the loss)", className(c), adjustmentWhat(s.Loss))
		case n > 0:
			kept++
		}
		total += n
	}
	if kept == 0 {
		return nil, fmt.Errorf("every class has count 0: at least one class needs a count > 0")
	}
	if math.IsInf(total, 0) {
		return nil, fmt.Errorf("the counts sum to %v: use counts of ordinary size", total)
	}
	out := make([]float64, len(s.Counts))
	switch s.Loss {
	case LogitAdjusted:
		for c, n := range s.Counts {
			out[c] = s.Tau * math.Log(n/total) // log 0 = −Inf for skipped classes
			if n == 0 && s.Tau == 0 {
				out[c] = math.Inf(-1) // 0·−∞ would be NaN; the class is still left out
			}
		}
	case BalancedSoftmax:
		for c, n := range s.Counts {
			out[c] = math.Log(n)
		}
	case LDAM:
		maxm := 0.0
		for c, n := range s.Counts {
			if n > 0 {
				out[c] = 1 / math.Sqrt(math.Sqrt(n))
				maxm = math.Max(maxm, out[c])
			}
		}
		f := s.MaxMargin / maxm
		for c := range out {
			out[c] *= f
		}
	}
	return out, nil
}

func adjustmentWhat(l Loss) string {
	if l == LDAM {
		return "margin (n^-1/4)"
	}
	return "logit offset (log 0)"
}

// skipped reports whether class c is left out of a count-derived loss
// because its count is 0 (with SkipZero).
func (s Spec) skipped(c int) bool {
	return s.Loss.FromCounts() && s.SkipZero && c < len(s.Counts) && s.Counts[c] == 0
}
