package lossops

import (
	"fmt"
	"math"

	"github.com/onnxloss/onnxloss/graphedit"
)

// Poly1 is the Poly-1 loss of Leng et al. 2022 ("PolyLoss: A Polynomial
// Expansion Perspective of Classification Loss Functions", eq. 2 and their
// code listing): cross-entropy plus ε·(1 − p_y). Class weights weight the
// whole position, as weighted_ce's do, and the mean divides by their sum.
const Poly1 Loss = "poly1"

func init() {
	register(&Def{
		Name: Poly1, order: 100, Params: []string{"epsilon"},
		Formula:      "w_y·(−logp_y + ε·(1 − p_y))",
		MeanDivisor:  "Σ_{p∈V} w_{y_p}",
		WeightingDoc: "none",
		Reference:    "Leng et al. 2022 eq. 2 (their listing: `CE + ε·(1 − p_t)`), CE as `F.cross_entropy(x, y, weight=w, ignore_index)`",
		validate: func(s Spec) error {
			if math.IsNaN(s.Epsilon) || math.IsInf(s.Epsilon, 0) {
				return fmt.Errorf("epsilon %v is invalid: use a finite value (1 is the paper's Poly-1 default; 0 gives cross-entropy)", s.Epsilon)
			}
			return nil
		},
		build: func(g *lossGraph) (string, error) {
			b := g.b
			_, logpY := g.logSoftmaxAtLabel(g.x)
			pY := b.Op("Exp", "p_y", []string{logpY})
			poly := b.Op("Mul", "poly_term", []string{g.scalar("epsilon", g.spec.Epsilon), b.Op("Sub", "one_minus_p_y", []string{g.scalar("one", 1), pY})})
			loss := b.Op("Add", "poly1", []string{b.Op("Neg", "nll", []string{logpY}), poly})
			var den string
			if g.spec.Weights != nil {
				den = b.Op("Gather", "w_y", []string{g.weights([]int64{int64(g.site.C)}), g.y}, graphedit.AttrInt("axis", 0))
				loss = b.Op("Mul", "weighted", []string{den, loss})
			}
			return g.reduce(loss, den), nil
		},
		position: func(r *refPosition) {
			refLogSoftmax(r.x, r.logp)
			lp := r.logp[r.y]
			r.out[r.p] = r.w(r.y) * (-lp + r.spec.Epsilon*-math.Expm1(lp))
			r.denom.add(r.w(r.y))
		},
	})
}
