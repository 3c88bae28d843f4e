package lossops

// The count-derived losses: softmax cross-entropy of logits shifted by
// per-class offsets from the counts, or with count-derived margins.
const (
	// LogitAdjusted is Menon et al. 2021: CE(x + τ·log π, y), π_c = n_c/Σn.
	LogitAdjusted Loss = "logit_adjusted"
	// BalancedSoftmax is Ren et al. 2020: CE(x + log n, y).
	BalancedSoftmax Loss = "balanced_softmax"
	// LDAM is Cao et al. 2019: CE(s·(x − m_y·onehot(y)), y, w), m_c ∝ n_c^(−1/4).
	LDAM Loss = "ldam"
)

func init() {
	build := func(g *lossGraph) (string, error) { return g.adjustedLoss() }
	register(&Def{
		Name: LogitAdjusted, order: 70, FromCounts: true, NoWeights: true, Params: []string{"tau"},
		Formula:      "−log softmax(x + τ·log π)_y, π_c = n_c / Σn",
		MeanDivisor:  `\|V\|`,
		WeightingDoc: "none (no weights accepted)",
		Reference:    "Menon et al. 2021 eq. 10: `F.cross_entropy(x + τ·log π, y)`",
		build:        build, position: adjustedPosition,
	})
	register(&Def{
		Name: BalancedSoftmax, order: 80, FromCounts: true, NoWeights: true,
		Formula:      "−log softmax(x + log n)_y",
		MeanDivisor:  `\|V\|`,
		WeightingDoc: "none (no weights accepted)",
		Reference:    "Ren et al. 2020: `F.cross_entropy(x + log n, y)`",
		build:        build, position: adjustedPosition,
	})
	register(&Def{
		Name: LDAM, order: 90, FromCounts: true, OneHot: true, Params: []string{"max-margin", "scale"},
		Formula:      "−w_y·log softmax(s·(x − m_y·onehot(y)))_y, m_c ∝ n_c^{−1/4} rescaled so max m = `--max-margin`",
		MeanDivisor:  "Σ_{p∈V} w_{y_p}",
		WeightingDoc: "none (LDAM-DRW: `effective`)",
		Reference:    "the authors' `LDAMLoss` (Cao et al. 2019): `F.cross_entropy(s·where(onehot, x − m_y, x), y, weight=w)`",
		build:        build, position: adjustedPosition,
	})
}

// adjustedPosition is w_y times the count-derived loss of one position.
func adjustedPosition(r *refPosition) {
	r.out[r.p] = r.w(r.y) * r.adj.loss(r.x, r.y, r.logp)
	r.denom.add(r.w(r.y))
}
