package lossops

import (
	"math"
	"sort"

	"github.com/onnxloss/onnxloss/graphedit"
)

// LovaszSoftmax is Berman et al. 2018, "The Lovász-Softmax loss", as
// segmentation_models_pytorch 0.5.0's LovaszLoss(mode="multiclass",
// per_image=False) (losses/lovasz.py, _lovasz_softmax_flat): per class c
// the errors e = |[y = c] − p_c| over all non-ignored positions of the
// batch, sorted descending, dotted with the gradient of the Jaccard loss
// along the sorted labels; classes absent from the target are skipped
// (smp's classes="present"), so the mean is over the present classes.
const LovaszSoftmax Loss = "lovasz_softmax"

func init() {
	register(&Def{
		Name: LovaszSoftmax, order: 125, OneHot: true,
		Formula:      "per class c present in the target: l_c = Σ_i e_(i)·(J_i − J_(i−1)), e = \\|[y = c] − softmax(x)_c\\| over the non-ignored positions sorted descending, J_i = 1 − (G − F_i)/(G + i − F_i) with F_i the labels [y = c] among the first i, G = Σ[y = c]; absent classes 0",
		MeanDivisor:  "Σ_c w_c over the present classes (their number without weights; 0 when none is present; `none` returns the C values w_c·l_c, 0 for absent classes)",
		WeightingDoc: "none",
		Reference:    "`segmentation_models_pytorch.losses.LovaszLoss(mode=\"multiclass\", per_image=False, ignore_index)` 0.5.0 (its `classes=\"present\"`)",
		validate:     validateRegion,
		build:        buildLovasz,
		batch:        refLovasz,
	})
}

// buildLovasz lays the errors and labels out as (C, P), sorts each class's
// errors with TopK, gathers the errors and labels in that order and dots
// the errors with the Jaccard gradient, whose CumSums run over the sorted
// labels only. The gradient reaches the logits through the gathered errors
// (GatherElements); TopK's indices and the CumSums carry none.
//
// Ignored positions get error 0 and label 0: they sort after every
// positive error, so they only change the Jaccard gradient where the
// error is 0, and the loss not at all.
func buildLovasz(g *lossGraph) (string, error) {
	b := g.b
	p := b.Op("Exp", "p", []string{b.LogSoftmax("logp", g.x, g.axis, g.site.Rank)})
	t := g.target
	e := b.Op("Abs", "errors_raw", []string{b.Op("Sub", "target_minus_p", []string{t, p})})
	if g.mask != "" {
		validC := b.Unsqueeze("valid_c", g.mask, []int64{g.axis})
		e = b.Op("Mul", "errors", []string{e, validC})
		t = b.Op("Mul", "target_valid", []string{t, validC})
	}
	perm := []int64{g.axis}
	var axes []int64
	for i := int64(0); i < int64(g.site.Rank); i++ {
		if i != g.axis {
			perm = append(perm, i)
			axes = append(axes, i)
		}
	}
	cp := b.Int64("class_by_position", []int64{2}, []int64{int64(g.site.C), -1})
	flat := func(what, v string) string {
		return b.Op("Reshape", what, []string{b.Op("Transpose", what+"_class_first", []string{v}, graphedit.AttrInts("perm", perm)), cp})
	}
	ef, tf := flat("errors_flat", e), flat("target_flat", t)
	k := b.Op("Slice", "positions", []string{b.Op("Shape", "errors_flat_shape", []string{ef}),
		b.Int64("one_start", []int64{1}, []int64{1}), b.Int64("two_end", []int64{1}, []int64{2}), b.Int64("axis_zero", []int64{1}, []int64{0})})
	idx := b.OpN("TopK", "errors_order", 2, []string{ef, k}, graphedit.AttrInt("axis", 1), graphedit.AttrInt("largest", 1), graphedit.AttrInt("sorted", 1))[1]
	// Reshaped to (C, P) again so that the step model's shape inference,
	// which has no rule for TopK, knows the rank of what follows.
	es := b.Op("Reshape", "errors_sorted", []string{b.Op("GatherElements", "errors_gathered", []string{ef, idx}, graphedit.AttrInt("axis", 1)), cp})
	fs := b.Op("Reshape", "target_sorted", []string{b.Op("GatherElements", "target_gathered", []string{tf, idx}, graphedit.AttrInt("axis", 1)), cp})
	axis1 := b.Int64("position_axis", []int64{}, []int64{1})
	gts := b.ReduceSum("target_total", fs, []int64{1}, true)
	inter := b.Op("Sub", "intersection", []string{gts, b.Op("CumSum", "target_cumsum", []string{fs, axis1})})
	union := b.Op("Add", "union", []string{gts, b.Op("CumSum", "non_target_cumsum", []string{
		b.Op("Sub", "non_target_sorted", []string{g.scalar("one", 1), fs}), axis1})})
	// union ≥ 1 at every i: the i-th label adds 1 to G or to the count.
	jac := b.Op("Sub", "jaccard", []string{g.scalar("one", 1), b.Op("Div", "iou", []string{inter, union})})
	zeroCol := b.Op("Expand", "jaccard_start", []string{g.scalar("zero", 0), b.Int64("class_column", []int64{2}, []int64{int64(g.site.C), 1})})
	prev := b.Op("Concat", "jaccard_prev", []string{zeroCol, b.Op("Slice", "jaccard_head", []string{jac,
		b.Int64("head_start", []int64{1}, []int64{0}), b.Int64("head_end", []int64{1}, []int64{-1}), b.Int64("head_axis", []int64{1}, []int64{1})})},
		graphedit.AttrInt("axis", 1))
	grad := b.Op("Sub", "jaccard_grad", []string{jac, prev})
	perClass := b.ReduceSum("lovasz_raw", b.Op("Mul", "lovasz_terms", []string{es, grad}), []int64{1}, false)
	present := g.present(b.ReduceSum("target_sum", t, axes, false))
	loss := b.Op("Mul", "lovasz_per_class", []string{perClass, present})
	weight := present
	if g.spec.Weights != nil {
		w := g.weights([]int64{int64(g.site.C)})
		loss = b.Op("Mul", "weighted", []string{loss, w})
		weight = b.Op("Mul", "present_weight", []string{present, w})
	}
	if g.outOfRange != "" {
		loss = b.Op("Add", "range_checked", []string{loss, b.ReduceSum("label_range_nan_any", g.outOfRange, nil, false)})
	}
	switch g.spec.Reduction {
	case None:
		return loss, nil
	case Sum:
		return b.ReduceSum("loss_sum", loss, nil, false), nil
	}
	return b.Op("Div", "loss_mean", []string{b.ReduceSum("loss_sum", loss, nil, false),
		g.nonZero(b.ReduceSum("weight_sum", weight, nil, false))}), nil
}

// refLovasz is buildLovasz in float64, as smp computes it: per present
// class a sort of the non-ignored positions' errors.
func refLovasz(in *refBatch) ([]float64, []int, error) {
	nc, spec := in.nc, in.spec
	var errs [][]float64
	var fg [][]bool
	for c := 0; c < nc; c++ {
		errs = append(errs, nil)
		fg = append(fg, nil)
	}
	x, p := make([]float64, nc), make([]float64, nc)
	for b := 0; b < in.n; b++ {
		for j := 0; j < in.inner; j++ {
			pos := b*in.inner + j
			if spec.IgnoreIndex != nil && in.labels[pos] == *spec.IgnoreIndex {
				continue
			}
			for c := 0; c < nc; c++ {
				x[c] = in.logits[in.at(b, c, j)]
			}
			refLogSoftmax(x, p)
			for c := 0; c < nc; c++ {
				f := int64(c) == in.labels[pos]
				t := 0.0
				if f {
					t = 1
				}
				errs[c] = append(errs[c], math.Abs(t-math.Exp(p[c])))
				fg[c] = append(fg[c], f)
			}
		}
	}
	out := make([]float64, nc)
	var s, ws compSum
	for c := 0; c < nc; c++ {
		var g float64
		for _, f := range fg[c] {
			if f {
				g++
			}
		}
		if g == 0 {
			continue
		}
		order := make([]int, len(errs[c]))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return errs[c][order[a]] > errs[c][order[b]] })
		var l compSum
		var seenFG, seenBG, prev float64
		for _, i := range order {
			if fg[c][i] {
				seenFG++
			} else {
				seenBG++
			}
			jac := 1 - (g-seenFG)/(g+seenBG)
			l.add(errs[c][i] * (jac - prev))
			prev = jac
		}
		out[c] = in.w(c) * l.sum()
		s.add(out[c])
		ws.add(in.w(c))
	}
	switch spec.Reduction {
	case None:
		return out, []int{nc}, nil
	case Sum:
		return []float64{s.sum()}, []int{}, nil
	}
	den := ws.sum()
	if den == 0 {
		den = 1
	}
	return []float64{s.sum() / den}, []int{}, nil
}
