package lossops

// WeightedCE is weighted cross-entropy with label smoothing, exactly
// PyTorch's F.cross_entropy.
const WeightedCE Loss = "weighted_ce"

func init() {
	register(&Def{
		Name: WeightedCE, order: 10, Weighting: WeightInverse, Params: []string{"label-smoothing"},
		Formula:      "(1−ε)·(−w_y·logp_y) + (ε/C)·(−Σ_c w_c·logp_c)",
		MeanDivisor:  "Σ_{p∈V} w_{y_p}",
		WeightingDoc: "inverse",
		Reference:    "`F.cross_entropy(x, y, weight=w, ignore_index, reduction, label_smoothing=ε)`",
		build:        func(g *lossGraph) (string, error) { return g.softmaxLoss(), nil },
		position: func(r *refPosition) {
			refLogSoftmax(r.x, r.logp)
			l := -r.w(r.y) * r.logp[r.y]
			if eps := r.spec.LabelSmoothing; eps != 0 {
				var s compSum
				for c := range r.x {
					s.add(-r.w(c) * r.logp[c])
				}
				l = (1-eps)*l + eps/float64(len(r.x))*s.sum()
			}
			r.out[r.p] = l
			r.denom.add(r.w(r.y))
		},
	})
}
