package lossops

import "math"

// Focal is the softmax focal loss of Lin et al. 2017 (eq. 5), α_t = w_y.
const Focal Loss = "focal"

func init() {
	register(&Def{
		Name: Focal, order: 20, Weighting: WeightInverse, Params: []string{"gamma"},
		Formula:      "−w_y·(1 − p_y)^γ·logp_y",
		MeanDivisor:  `\|V\|`,
		WeightingDoc: "inverse",
		Reference:    "Lin et al. 2017 eq. 5, softmax form, α_t = w_y",
		build:        func(g *lossGraph) (string, error) { return g.softmaxLoss(), nil },
		position:     focalPosition,
	})
}

// focalPosition is −w_y·(1 − p_y)^γ·logp_y, with 1 − p_y = −expm1(logp_y).
func focalPosition(r *refPosition) {
	refLogSoftmax(r.x, r.logp)
	q := -math.Expm1(r.logp[r.y])
	r.out[r.p] = -r.w(r.y) * math.Pow(q, r.spec.Gamma) * r.logp[r.y]
	r.denom.add(1)
}
