package lossops

import (
	"fmt"
	"math"
)

// refAdjusted holds what the closed forms of the count-derived losses need,
// derived from the counts straight from the papers' formulas (not from
// Spec.Adjustments, which the subgraph builder uses).
type refAdjusted struct {
	kind Loss
	// skip marks the classes of count 0 left out with SkipZero.
	skip []bool
	// logPrior is log π_c = log n_c − log Σn (logit_adjusted).
	logPrior []float64
	tau      float64
	// counts are n_c (balanced_softmax).
	counts []float64
	// margin is Δ_c = max_m·(n_min/n_c)^(1/4) (ldam), n_min the smallest
	// non-zero count: n_c^(−1/4) rescaled so the rarest class gets max_m.
	margin []float64
	scale  float64
	u      []float64 // scratch
}

// newRefAdjusted prepares the closed form of a count-derived loss; nil for
// other losses. Spec.Validate has checked the parameters and counts.
func newRefAdjusted(spec Spec, nc int) (*refAdjusted, error) {
	if !spec.Loss.FromCounts() {
		return nil, nil
	}
	if len(spec.Counts) != nc {
		return nil, fmt.Errorf("%d class counts for %d classes: give one count per class", len(spec.Counts), nc)
	}
	r := &refAdjusted{kind: spec.Loss, skip: make([]bool, nc), tau: spec.Tau, counts: spec.Counts, scale: spec.Scale, u: make([]float64, nc)}
	var total compSum
	nmin := math.Inf(1)
	for c, n := range spec.Counts {
		r.skip[c] = n == 0
		total.add(n)
		if n > 0 {
			nmin = math.Min(nmin, n)
		}
	}
	switch spec.Loss {
	case LogitAdjusted:
		// Menon et al. 2021, eq. (10): ℓ = −log(e^{f_y + τ·log π_y} / Σ_c e^{f_c + τ·log π_c}).
		r.logPrior = make([]float64, nc)
		lt := math.Log(total.sum())
		for c, n := range spec.Counts {
			r.logPrior[c] = math.Log(n) - lt
		}
	case LDAM:
		// Cao et al. 2019, eq. (13) with Δ_j = K / n_j^{1/4}, K chosen so
		// that the largest margin is max_m (the authors' LDAMLoss).
		r.margin = make([]float64, nc)
		for c, n := range spec.Counts {
			if n > 0 {
				r.margin[c] = spec.MaxMargin * math.Pow(nmin/n, 0.25)
			}
		}
	}
	return r, nil
}

// loss returns the unweighted loss of one position with logits x and label
// y (not a skipped class); logp is scratch of len(x).
func (r *refAdjusted) loss(x []float64, y int, logp []float64) float64 {
	switch r.kind {
	case LogitAdjusted:
		for c := range x {
			if r.skip[c] {
				r.u[c] = math.Inf(-1)
			} else {
				r.u[c] = x[c] + r.tau*r.logPrior[c]
			}
		}
		refLogSoftmax(r.u, logp)
		return -logp[y]
	case BalancedSoftmax:
		// Ren et al. 2020, eq. (4): φ_y = n_y·e^{η_y} / Σ_j n_j·e^{η_j}, so
		// −log φ_y = log Σ_j n_j·e^{η_j − m} + m − η_y − log n_y.
		m := math.Inf(-1)
		for _, v := range x {
			m = math.Max(m, v)
		}
		var s compSum
		for j, v := range x {
			s.add(r.counts[j] * math.Exp(v-m))
		}
		return math.Log(s.sum()) + m - x[y] - math.Log(r.counts[y])
	}
	// LDAM: −log(e^{s(x_y − Δ_y)} / (e^{s(x_y − Δ_y)} + Σ_{j≠y} e^{s·x_j})).
	for c, v := range x {
		r.u[c] = r.scale * v
	}
	r.u[y] = r.scale * (x[y] - r.margin[y])
	refLogSoftmax(r.u, logp)
	return -logp[y]
}
