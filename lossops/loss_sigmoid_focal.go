package lossops

import "math"

// SigmoidFocal is torchvision's sigmoid_focal_loss, per element.
const SigmoidFocal Loss = "sigmoid_focal"

func init() {
	register(&Def{
		Name: SigmoidFocal, order: 30, Sigmoid: true, PerElement: true, OneHot: true, Params: []string{"gamma", "alpha"},
		Formula:      "per element: BCE(x,t)·(1−p_t)^γ·(α·t + (1−α)(1−t)), p_t = σ(x)t + (1−σ(x))(1−t); × w_c if weighted",
		MeanDivisor:  `\|V\|·C`,
		WeightingDoc: "none",
		Reference:    "`torchvision.ops.sigmoid_focal_loss(x, t, alpha, gamma, reduction)`",
		build:        func(g *lossGraph) (string, error) { return g.sigmoidFocal(), nil },
		position: func(r *refPosition) {
			spec := r.spec
			for c := range r.x {
				x, t := r.x[c], r.t[c]
				// 1 - p_t = σ(x)(1-t) + σ(-x)t, σ(-x) computed directly.
				q := refSigmoid(x)*(1-t) + refSigmoid(-x)*t
				l := refBCE(x, t) * math.Pow(q, spec.Gamma)
				if spec.Alpha >= 0 {
					l *= spec.Alpha*t + (1-spec.Alpha)*(1-t)
				}
				l *= r.w(c)
				r.out[r.elem(c)] = l
				r.denom.add(1)
			}
		},
	})
}
