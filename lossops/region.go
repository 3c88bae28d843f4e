package lossops

import (
	"fmt"
	"math"
)

// Region losses (dice, tversky) are not sums over positions: per class c
// they compare the soft prediction p (softmax over the classes, or sigmoid
// with multi-hot targets) with the target t over the whole batch and space,
// through TP_c = Σ min(p, t), FP_c = Σ p − TP_c and FN_c = Σ t − TP_c
// (ignored positions left out). For t ∈ {0, 1}, min(p, t) = p·t; for soft
// targets it is smp's (Σp + Σt − Σ|p − t|)/2. The per-class losses l_c are
// combined by the reduction: mean Σ_c w_c·l_c / Σ_c w_c (the plain mean
// over classes without weights), sum Σ_c w_c·l_c, none the vector w_c·l_c
// of shape (C).

// regionEps is smp's eps: the score's denominator is at least this.
const regionEps = 1e-7

// validateRegion rejects what a region loss cannot do.
func validateRegion(s Spec) error {
	if s.Reduction == Foreground {
		return fmt.Errorf("%s is one value per class over the whole batch, not per position: use --reduction mean, sum or none, not foreground", s.Loss)
	}
	return nil
}

// maskedProbs builds the probabilities p (σ(x) with multi-hot targets,
// softmax(x) otherwise) and the targets t, both zero at the ignored
// positions, for the losses that sum them over positions.
func (g *lossGraph) maskedProbs() (p, t string) {
	b := g.b
	if g.spec.MultiHot {
		p = b.Op("Sigmoid", "p", []string{g.x})
	} else {
		p = b.Op("Exp", "p", []string{b.LogSoftmax("logp", g.x, g.axis, g.site.Rank)})
	}
	t = g.target
	if g.mask != "" {
		validC := b.Unsqueeze("valid_c", g.mask, []int64{g.axis})
		p = b.Op("Mul", "p_valid", []string{p, validC})
		t = b.Op("Mul", "target_valid", []string{t, validC})
	}
	return p, t
}

// regionSums builds TP, FP, FN and Σt per class, each of shape (C).
func (g *lossGraph) regionSums() (tp, fp, fn, st string) {
	b := g.b
	p, t := g.maskedProbs()
	var axes []int64
	for i := int64(0); i < int64(g.site.Rank); i++ {
		if i != g.axis {
			axes = append(axes, i)
		}
	}
	sp := b.ReduceSum("p_sum", p, axes, false)
	st = b.ReduceSum("target_sum", t, axes, false)
	tp = b.ReduceSum("true_positives", b.Op("Min", "p_and_target", []string{p, t}), axes, false)
	fp = b.Op("Sub", "false_positives", []string{sp, tp})
	fn = b.Op("Sub", "false_negatives", []string{st, tp})
	return tp, fp, fn, st
}

// present is 1 for the classes that occur in the (non-ignored) target, 0
// otherwise: label side, from the target sums st.
func (g *lossGraph) present(st string) string {
	b := g.b
	return b.Cast("class_present", b.Op("Greater", "class_present_bool", []string{st, g.scalar("zero", 0)}), g.elem)
}

// reduceClasses applies the class weights and the reduction to per-class
// losses of shape (C), and the out-of-range NaN.
func (g *lossGraph) reduceClasses(perClass string) string {
	b := g.b
	loss := perClass
	if g.spec.Weights != nil {
		loss = b.Op("Mul", "weighted", []string{loss, g.weights([]int64{int64(g.site.C)})})
	}
	if g.outOfRange != "" {
		loss = b.Op("Add", "range_checked", []string{loss, b.ReduceSum("label_range_nan_any", g.outOfRange, nil, false)})
	}
	switch g.spec.Reduction {
	case None:
		return loss
	case Sum:
		return b.ReduceSum("loss_sum", loss, nil, false)
	}
	if g.spec.Weights == nil {
		return b.ReduceMean("loss_mean", loss, nil, false)
	}
	total := b.ReduceSum("loss_sum", loss, nil, false)
	return b.Op("Div", "loss_mean", []string{total, g.nonZero(b.ReduceSum("weight_sum", g.weights([]int64{int64(g.site.C)}), nil, false))})
}

// refRegionSums returns TP, FP, FN per class in float64, and whether each
// class occurs in the non-ignored targets.
func refRegionSums(in *refBatch) (tp, fp, fn []float64, present []bool) {
	nc := in.nc
	var stp, sp, st = make([]compSum, nc), make([]compSum, nc), make([]compSum, nc)
	x, p := make([]float64, nc), make([]float64, nc)
	for b := 0; b < in.n; b++ {
		for j := 0; j < in.inner; j++ {
			pos := b*in.inner + j
			if in.ignored(pos) {
				continue
			}
			in.probsAt(b, j, x, p)
			for c := 0; c < nc; c++ {
				t := in.targetAt(b, c, j, pos)
				sp[c].add(p[c])
				st[c].add(t)
				stp[c].add(math.Min(p[c], t))
			}
		}
	}
	tp, fp, fn, present = make([]float64, nc), make([]float64, nc), make([]float64, nc), make([]bool, nc)
	for c := 0; c < nc; c++ {
		tp[c] = stp[c].sum()
		fp[c] = sp[c].sum() - tp[c]
		fn[c] = st[c].sum() - tp[c]
		present[c] = st[c].sum() > 0
	}
	return tp, fp, fn, present
}

// refReduceClasses is reduceClasses in float64.
func refReduceClasses(in *refBatch, perClass []float64) ([]float64, []int, error) {
	out := make([]float64, len(perClass))
	var s, ws compSum
	for c, l := range perClass {
		out[c] = in.w(c) * l
		s.add(out[c])
		ws.add(in.w(c))
	}
	switch in.spec.Reduction {
	case None:
		return out, []int{len(out)}, nil
	case Sum:
		return []float64{s.sum()}, []int{}, nil
	}
	if ws.sum() == 0 {
		return []float64{0}, []int{}, nil
	}
	return []float64{s.sum() / ws.sum()}, []int{}, nil
}
