package lossops

import (
	"fmt"
	"math"

	"github.com/onnxloss/onnxloss/graphedit"
)

// Seesaw is the Seesaw loss of Wang et al. 2021 ("Seesaw Loss for
// Long-Tailed Instance Segmentation") for classification, as
// mmdetection's seesaw_ce_loss (mmdet/models/losses/seesaw_loss.py)
// computes it, with the counts baked in instead of accumulated online:
// cross-entropy of z_j = x_j + log S_yj (j ≠ y), S_ij = M_ij·C_ij with the
// mitigation M_ij = (n_j/n_i)^p where n_j < n_i (counts clamped at 1) and
// the compensation C_ij = (σ_j/max(σ_i, 0.01))^q where that ratio is > 1,
// σ = softmax of the detached logits.
const Seesaw Loss = "seesaw"

// seesawEps is mmdetection's eps: σ_y is clamped at it in the compensation.
const seesawEps = 1e-2

func init() {
	register(&Def{
		Name: Seesaw, order: 140, UsesCounts: true, NoWeights: true, OneHot: true, Params: []string{"seesaw-p", "seesaw-q"},
		Formula:      "−log softmax(z)_y, z_j = x_j + [j≠y]·(p·log(n_j/n_y)·[n_j < n_y] + q·max(0, log σ_j − log max(σ_y, 0.01))), σ = softmax(stop_gradient(x)), n clamped at 1",
		MeanDivisor:  `\|V\|`,
		WeightingDoc: "none (the counts enter the mitigation factor)",
		Reference:    "mmdetection's `seesaw_ce_loss` (mmdet/models/losses/seesaw_loss.py; `SeesawLoss(use_sigmoid=False, p=0.8, q=2.0, eps=1e-2)` without its objectness branch), counts fixed instead of accumulated",
		validate: func(s Spec) error {
			for _, p := range []struct {
				name string
				v    float64
			}{{"seesaw-p", s.SeesawP}, {"seesaw-q", s.SeesawQ}} {
				if math.IsNaN(p.v) || math.IsInf(p.v, 0) || p.v < 0 {
					return fmt.Errorf("--%s %v is invalid: use a finite value >= 0", p.name, p.v)
				}
			}
			for c, n := range s.Counts {
				if math.IsNaN(n) || math.IsInf(n, 0) || n < 0 {
					return fmt.Errorf("count %d is %v: seesaw needs finite counts >= 0", c, n)
				}
			}
			return nil
		},
		build: func(g *lossGraph) (string, error) {
			if len(g.spec.Counts) != g.site.C {
				return "", fmt.Errorf("%d class counts for %d classes: give one count per class", len(g.spec.Counts), g.site.C)
			}
			return g.seesaw(), nil
		},
		position: func(r *refPosition) {
			s := r.spec
			refLogSoftmax(r.x, r.logp)
			ny := math.Max(s.Counts[r.y], 1)
			floor := math.Max(r.logp[r.y], math.Log(seesawEps))
			z := make([]float64, len(r.x))
			for j, x := range r.x {
				z[j] = x
				if j == r.y {
					continue
				}
				if nj := math.Max(s.Counts[j], 1); nj < ny {
					z[j] += s.SeesawP * math.Log(nj/ny)
				}
				if d := r.logp[j] - floor; d > 0 {
					z[j] += s.SeesawQ * d
				}
			}
			lz := make([]float64, len(z))
			refLogSoftmax(z, lz)
			r.out[r.p] = -lz[r.y]
			r.denom.add(1)
		},
	})
}

// seesaw builds the loss. The mitigation factor's logarithm is a baked
// C×C matrix (row i: the label's class) gathered by label; the
// compensation works on log-probabilities: log(σ_j / max(σ_y, eps)) =
// logσ_j − max(logσ_y, log eps), detached through a stop_gradient Identity.
func (g *lossGraph) seesaw() string {
	b, spec := g.b, g.spec
	C := g.site.C
	rank := int64(g.site.Rank)
	logM := make([]float64, C*C)
	for i := 0; i < C; i++ {
		ni := math.Max(spec.Counts[i], 1)
		for j := 0; j < C; j++ {
			if nj := math.Max(spec.Counts[j], 1); nj < ni {
				logM[i*C+j] = spec.SeesawP * math.Log(nj/ni)
			}
		}
	}
	// (N, d…, C) → class axis in place: label side.
	mit := b.Op("Gather", "seesaw_mitigation_y", []string{g.classVector("seesaw_log_mitigation", []int64{int64(C), int64(C)}, logM), g.y}, graphedit.AttrInt("axis", 0))
	if g.axis != rank-1 {
		perm := make([]int64, rank)
		for k := int64(0); k < rank; k++ {
			switch {
			case k < g.axis:
				perm[k] = k
			case k == g.axis:
				perm[k] = rank - 1
			default:
				perm[k] = k - 1
			}
		}
		mit = b.Op("Transpose", "seesaw_mitigation_c", []string{mit}, graphedit.AttrInts("perm", perm))
	}
	logS := mit
	if spec.SeesawQ > 0 {
		lp := b.Op("Identity", "stop_gradient", []string{b.LogSoftmax("logp_detached_in", g.x, g.axis, g.site.Rank)})
		idx := b.Unsqueeze("label_index", g.y, []int64{g.axis})
		lpY := b.Op("GatherElements", "logp_y_detached", []string{lp, idx}, graphedit.AttrInt("axis", g.axis))
		floor := b.Op("Max", "logp_y_floor", []string{lpY, g.scalar("log_eps", math.Log(seesawEps))})
		comp := b.Op("Mul", "seesaw_log_compensation", []string{
			g.scalar("seesaw_q", spec.SeesawQ),
			b.Op("Relu", "seesaw_log_ratio_pos", []string{b.Op("Sub", "seesaw_log_ratio", []string{lp, floor})}),
		})
		// Zero at the label's own class, as mmdetection's (1 − onehot).
		comp = b.Op("Mul", "seesaw_compensation_off_label", []string{comp, b.Op("Sub", "not_label", []string{g.scalar("one", 1), g.target})})
		logS = b.Op("Add", "seesaw_log_factor", []string{logS, comp})
	}
	z := b.Op("Add", "seesaw_logits", []string{g.x, logS})
	_, logpY := g.logSoftmaxAtLabel(z)
	return g.reduce(b.Op("Neg", "nll", []string{logpY}), "")
}
