package lossops

import "math"

// The Class-Balanced losses of Cui et al. 2019: the weights come from the
// effective number of samples.
const (
	CBSoftmax Loss = "cb_softmax"
	CBSigmoid Loss = "cb_sigmoid"
	CBFocal   Loss = "cb_focal"
)

func init() {
	register(&Def{
		Name: CBSoftmax, order: 40, Weighting: WeightEffective,
		Formula:      "−w_y·logp_y",
		MeanDivisor:  `\|V\|`,
		WeightingDoc: "effective",
		Reference:    "Cui et al. 2019 (softmax CB loss)",
		build:        func(g *lossGraph) (string, error) { return g.softmaxLoss(), nil },
		position: func(r *refPosition) {
			refLogSoftmax(r.x, r.logp)
			r.out[r.p] = -r.w(r.y) * r.logp[r.y]
			r.denom.add(1)
		},
	})
	register(&Def{
		Name: CBSigmoid, order: 50, Sigmoid: true, OneHot: true, Weighting: WeightEffective,
		Formula:      "w_y·Σ_c BCE(x_c, t_c)",
		MeanDivisor:  `\|V\|`,
		WeightingDoc: "effective",
		Reference:    "Cui et al. 2019 (sigmoid CB loss)",
		build:        func(g *lossGraph) (string, error) { return g.cbSigmoidLoss(), nil },
		position:     cbSigmoidPosition,
	})
	register(&Def{
		Name: CBFocal, order: 60, Sigmoid: true, OneHot: true, Weighting: WeightEffective, Params: []string{"gamma"},
		Formula:      "w_y·Σ_c exp(−γ·(t_c·x_c + softplus(−x_c)))·BCE(x_c, t_c)",
		MeanDivisor:  `\|V\|`,
		WeightingDoc: "effective",
		Reference:    "Cui et al. 2019 reference code (the modulator equals (1−p_t)^γ)",
		build:        func(g *lossGraph) (string, error) { return g.cbSigmoidLoss(), nil },
		position:     cbSigmoidPosition,
	})
}

// cbSigmoidPosition is cb_sigmoid and cb_focal at one position: w_y·Σ_c of
// the (modulated) BCE, or Σ_c w_c·… for multi-hot and background rows.
func cbSigmoidPosition(r *refPosition) {
	spec := r.spec
	perColumn := spec.MultiHot || r.y < 0
	var s compSum
	for c := range r.x {
		l := refBCE(r.x[c], r.t[c])
		if spec.Loss == CBFocal {
			l *= math.Exp(-spec.Gamma * (r.t[c]*r.x[c] + refSoftplus(-r.x[c])))
		}
		if perColumn {
			l *= r.w(c)
		}
		s.add(l)
	}
	if perColumn {
		r.out[r.p] = s.sum()
	} else {
		r.out[r.p] = r.w(r.y) * s.sum()
	}
	r.denom.add(1)
}
