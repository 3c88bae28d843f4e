package lossops

import (
	"fmt"
	"math"
)

// ASL is the Asymmetric Loss of Ridnik et al. 2021 ("Asymmetric Loss For
// Multi-Label Classification"), exactly timm's AsymmetricLossMultiLabel
// (timm/loss/asymmetric_loss.py), per element.
const ASL Loss = "asl"

// aslEps is timm's eps: probabilities are clamped at it before the log.
const aslEps = 1e-8

func init() {
	register(&Def{
		Name: ASL, order: 130, Sigmoid: true, PerElement: true, OneHot: true, Params: []string{"gamma-pos", "gamma-neg", "clip"},
		Formula:      "per element: −[t·log max(p, 1e-8) + (1−t)·log max(p_m, 1e-8)]·(1 − p_t)^{γ₊·t + γ₋·(1−t)}, p = σ(x), p_m = min(1 − p + m, 1), p_t = p·t + p_m·(1−t); × w_c if weighted",
		MeanDivisor:  `\|V\|·C`,
		WeightingDoc: "none",
		Reference:    "`timm.loss.AsymmetricLossMultiLabel(gamma_neg=γ₋, gamma_pos=γ₊, clip=m, eps=1e-8)` 1.0.15 (it returns the sum: `--reduction sum`)",
		validate: func(s Spec) error {
			for _, p := range []struct {
				name string
				v    float64
			}{{"gamma-pos", s.GammaPos}, {"gamma-neg", s.GammaNeg}} {
				if math.IsNaN(p.v) || math.IsInf(p.v, 0) || p.v < 0 {
					return fmt.Errorf("--%s %v is invalid: use a finite value >= 0", p.name, p.v)
				}
			}
			if math.IsNaN(s.Clip) || s.Clip < 0 || s.Clip >= 1 {
				return fmt.Errorf("--clip %v is invalid: use a value in [0, 1) (timm's default 0.05; 0 disables it)", s.Clip)
			}
			return nil
		},
		build: func(g *lossGraph) (string, error) { return g.asl(), nil },
		position: func(r *refPosition) {
			s := r.spec
			for c := range r.x {
				x, t := r.x[c], r.t[c]
				p, q := refSigmoid(x), refSigmoid(-x) // q = 1 − p
				pm := q
				oneMinusPm := p // 1 − p_m
				if s.Clip > 0 {
					pm = math.Min(q+s.Clip, 1)
					oneMinusPm = math.Max(p-s.Clip, 0)
				}
				l := t*math.Log(math.Max(p, aslEps)) + (1-t)*math.Log(math.Max(pm, aslEps))
				if s.GammaPos > 0 || s.GammaNeg > 0 {
					l *= math.Pow(t*q+(1-t)*oneMinusPm, s.GammaPos*t+s.GammaNeg*(1-t))
				}
				r.out[r.elem(c)] = -l * r.w(c)
				r.denom.add(1)
			}
		},
	})
}

// asl builds timm's AsymmetricLossMultiLabel per element. 1 − p is
// σ(−x) and 1 − p_m is max(p − m, 0), which float32 computes without the
// cancellation of 1 − σ(x).
func (g *lossGraph) asl() string {
	b, spec := g.b, g.spec
	p := b.Op("Sigmoid", "p", []string{g.x})
	q := b.Op("Sigmoid", "one_minus_p", []string{b.Op("Neg", "neg_x", []string{g.x})})
	pm, oneMinusPm := q, p
	if spec.Clip > 0 {
		clip := g.scalar("clip", spec.Clip)
		pm = b.Op("Min", "p_neg_clipped", []string{b.Op("Add", "p_neg_shifted", []string{q, clip}), g.scalar("one", 1)})
		oneMinusPm = b.Op("Relu", "one_minus_p_neg", []string{b.Op("Sub", "p_minus_clip", []string{p, clip})})
	}
	eps := g.scalar("asl_eps", aslEps)
	oneMinusT := b.Op("Sub", "one_minus_t", []string{g.scalar("one", 1), g.target})
	logPos := b.Op("Log", "log_p", []string{b.Op("Max", "p_clamped", []string{p, eps})})
	logNeg := b.Op("Log", "log_p_neg", []string{b.Op("Max", "p_neg_clamped", []string{pm, eps})})
	ll := b.Op("Add", "asl_ce", []string{
		b.Op("Mul", "asl_ce_pos", []string{g.target, logPos}),
		b.Op("Mul", "asl_ce_neg", []string{oneMinusT, logNeg}),
	})
	if spec.GammaPos > 0 || spec.GammaNeg > 0 {
		base := b.Op("Add", "one_minus_p_t", []string{
			b.Op("Mul", "t_one_minus_p", []string{g.target, q}),
			b.Op("Mul", "neg_one_minus_p_neg", []string{oneMinusT, oneMinusPm}),
		})
		if math.Min(spec.GammaPos, spec.GammaNeg) < 1 {
			// An exponent below 1 (0 included: 0·0^−1): keep the Pow base
			// > 0, see powBase.
			base = b.Op("Max", "focal_base_floor", []string{base, g.scalar("pow_floor", powFloor)})
		}
		exponent := b.Op("Add", "one_sided_gamma", []string{
			b.Op("Mul", "gamma_pos_t", []string{g.scalar("gamma_pos", spec.GammaPos), g.target}),
			b.Op("Mul", "gamma_neg_t", []string{g.scalar("gamma_neg", spec.GammaNeg), oneMinusT}),
		})
		w := b.Op("Pow", "asl_focusing", []string{base, exponent})
		if spec.DetachFocusing {
			w = b.Op("Identity", "stop_gradient", []string{w})
		}
		ll = b.Op("Mul", "asl_focused", []string{ll, w})
	}
	return g.reduceElements(b.Op("Neg", "asl", []string{ll}))
}
