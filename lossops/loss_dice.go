package lossops

import (
	"fmt"
	"math"
)

// The region losses of segmentation_models_pytorch 0.5 (losses/dice.py,
// losses/tversky.py, _functional.soft_tversky_score): per class c,
// 1 − (TP + s) / max(TP + α·FP + β·FN + s, 1e-7) over the batch and space,
// 0 for classes absent from the target, then the (weighted) mean over
// classes; see region.go.
const (
	// Dice is smp's DiceLoss(mode="multiclass", from_logits=True)
	// ("multilabel" with multi-hot targets): α = β = ½.
	Dice Loss = "dice"
	// Tversky is smp's TverskyLoss(mode="multiclass", alpha, beta, gamma):
	// the mean over classes raised to γ (focal Tversky for γ ≠ 1).
	Tversky Loss = "tversky"
)

func init() {
	register(&Def{
		Name: Dice, order: 110, MultiHot: true, OneHot: true, Params: []string{"smooth"},
		Formula:      "per class c over the batch: [Σt_c > 0]·(1 − (TP_c + s) / max(TP_c + ½FP_c + ½FN_c + s, 1e-7)), TP_c = Σ min(p_c, t_c), FP_c = Σ p_c − TP_c, FN_c = Σ t_c − TP_c, p = softmax(x) (σ(x) with multi-hot)",
		MeanDivisor:  "Σ_c w_c (C without weights; `none` returns the C values)",
		WeightingDoc: "none",
		Reference:    "`segmentation_models_pytorch.losses.DiceLoss(mode=\"multiclass\", from_logits=True, smooth=s, ignore_index)` 0.5.0 (`\"multilabel\"` with multi-hot)",
		validate:     validateSmooth,
		build: func(g *lossGraph) (string, error) {
			return g.reduceClasses(g.tverskyPerClass(0.5, 0.5)), nil
		},
		batch: func(in *refBatch) ([]float64, []int, error) {
			return refReduceClasses(in, refTverskyPerClass(in, 0.5, 0.5))
		},
	})
	register(&Def{
		Name: Tversky, order: 120, MultiHot: true, OneHot: true, Params: []string{"alpha", "tversky-beta", "gamma", "smooth"},
		Defaults:     map[string]float64{"alpha": 0.5, "tversky-beta": 0.5, "gamma": 1},
		Formula:      "per class c: [Σt_c > 0]·(1 − (TP_c + s) / max(TP_c + α·FP_c + β·FN_c + s, 1e-7)) as dice; the loss is (mean over classes)^γ",
		MeanDivisor:  "Σ_c w_c, then ^γ (`sum`: (Σ_c w_c·l_c)^γ; `none`: the C values w_c·l_c^γ)",
		WeightingDoc: "none",
		Reference:    "`segmentation_models_pytorch.losses.TverskyLoss(mode=\"multiclass\", from_logits=True, alpha, beta, gamma, smooth, ignore_index)` 0.5.0",
		validate: func(s Spec) error {
			for _, p := range []struct {
				name string
				v    float64
			}{{"alpha", s.Alpha}, {"tversky-beta", s.TverskyBeta}} {
				if math.IsNaN(p.v) || math.IsInf(p.v, 0) || p.v < 0 {
					return fmt.Errorf("--%s %v is invalid for tversky: use a finite value >= 0 (default 0.5)", p.name, p.v)
				}
			}
			return validateSmooth(s)
		},
		build: func(g *lossGraph) (string, error) {
			perClass := g.tverskyPerClass(g.spec.Alpha, g.spec.TverskyBeta)
			gamma := g.spec.Gamma
			if gamma != 1 && g.spec.Reduction == None {
				perClass = g.powReduced(perClass, gamma)
			}
			loss := g.reduceClasses(perClass)
			if gamma != 1 && g.spec.Reduction != None {
				loss = g.powReduced(loss, gamma)
			}
			return loss, nil
		},
		batch: func(in *refBatch) ([]float64, []int, error) {
			perClass := refTverskyPerClass(in, in.spec.Alpha, in.spec.TverskyBeta)
			gamma := in.spec.Gamma
			if gamma != 1 && in.spec.Reduction == None {
				for c, l := range perClass {
					perClass[c] = refPowReduced(l, gamma)
				}
			}
			out, shape, err := refReduceClasses(in, perClass)
			if err == nil && gamma != 1 && in.spec.Reduction != None {
				out[0] = refPowReduced(out[0], gamma)
			}
			return out, shape, err
		},
	})
}

func validateSmooth(s Spec) error {
	if math.IsNaN(s.Smooth) || math.IsInf(s.Smooth, 0) || s.Smooth < 0 {
		return fmt.Errorf("smooth %v is invalid: use a finite value >= 0 (default 0)", s.Smooth)
	}
	return validateRegion(s)
}

// tverskyPerClass builds the per-class losses of shape (C).
func (g *lossGraph) tverskyPerClass(alpha, beta float64) string {
	b := g.b
	tp, fp, fn, st := g.regionSums()
	s := g.scalar("smooth", g.spec.Smooth)
	den := b.Op("Add", "tversky_den", []string{
		b.Op("Add", "tversky_den_errors", []string{tp, b.Op("Add", "tversky_errors", []string{
			b.Op("Mul", "tversky_fp", []string{g.scalar("alpha", alpha), fp}),
			b.Op("Mul", "tversky_fn", []string{g.scalar("beta", beta), fn}),
		})}),
		s,
	})
	den = b.Op("Max", "tversky_den_safe", []string{den, g.scalar("eps", regionEps)})
	score := b.Op("Div", "tversky_score", []string{b.Op("Add", "tversky_num", []string{tp, s}), den})
	return b.Op("Mul", "region_per_class", []string{
		b.Op("Sub", "region_loss_raw", []string{g.scalar("one", 1), score}),
		g.present(st),
	})
}

// powReduced returns q^γ of a loss q ≥ 0 (up to rounding) as
// m^γ·(q/m) with m = max(q, 1e-30): exactly q^γ for q ≥ 1e-30, exactly 0
// at q = 0 (all ignored, all right), and every op's gradient finite for
// γ < 1 too (Pow only ever sees m ≥ 1e-30; see powBase). Only ops with an
// ONNX Runtime gradient: no comparison on the logits' path.
func (g *lossGraph) powReduced(q string, gamma float64) string {
	b := g.b
	m := b.Op("Max", "reduced_floor", []string{q, g.scalar("pow_floor", powFloor)})
	pw := b.Op("Pow", "reduced_pow", []string{m, g.scalar("gamma", gamma)})
	return b.Op("Mul", "loss_pow", []string{pw, b.Op("Div", "reduced_ratio", []string{q, m})})
}

// refPowReduced is q^γ for q > 0 and 0 otherwise, as powReduced.
func refPowReduced(q, gamma float64) float64 {
	if q > 0 {
		return math.Pow(q, gamma)
	}
	return 0
}

// refTverskyPerClass is tverskyPerClass in float64.
func refTverskyPerClass(in *refBatch, alpha, beta float64) []float64 {
	tp, fp, fn, present := refRegionSums(in)
	s := in.spec.Smooth
	l := make([]float64, in.nc)
	for c := range l {
		if present[c] {
			l[c] = 1 - (tp[c]+s)/math.Max(tp[c]+alpha*fp[c]+beta*fn[c]+s, regionEps)
		}
	}
	return l
}
