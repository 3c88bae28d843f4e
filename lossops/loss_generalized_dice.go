package lossops

import (
	"fmt"
	"math"

	"github.com/onnxloss/onnxloss/graphedit"
)

// GeneralizedDice is the Generalized Dice loss of Sudre et al. 2017 as
// MONAI 1.4's GeneralizedDiceLoss(softmax=True, to_onehot_y=True,
// w_type="square") computes it (monai/losses/dice.py): per sample b,
// 1 − (2·Σ_c w_bc·I_bc + 1e-5) / (Σ_c w_bc·(G_bc + P_bc) + 1e-5) with
// I = Σ p·t, G = Σ t, P = Σ p over the sample's positions, and
// w_bc = 1/G_bc² (a class absent from the sample gets the sample's largest
// weight). With class weights (--weighting other than none) w_bc = w_c,
// baked from the counts instead of the batch.
const GeneralizedDice Loss = "generalized_dice"

// gdlSmooth is MONAI's smooth_nr and smooth_dr.
const gdlSmooth = 1e-5

func init() {
	register(&Def{
		Name: GeneralizedDice, order: 125, MultiHot: true, OneHot: true,
		Formula:      "per sample b: 1 − (2·Σ_c w_bc·I_bc + 1e-5) / (Σ_c w_bc·(G_bc + P_bc) + 1e-5), I = Σ p·t, G = Σ t, P = Σ p over b's positions, p = softmax(x) (σ(x) with multi-hot); w_bc = 1/G_bc² (absent class: b's largest), or the baked w_c with a `--weighting`",
		MeanDivisor:  "N (samples; `none` returns the N values)",
		WeightingDoc: "none (weights 1/G² from the batch)",
		Reference:    "`monai.losses.GeneralizedDiceLoss(softmax=True, to_onehot_y=True, w_type=\"square\")` 1.4.0 (`sigmoid=True` with multi-hot)",
		validate:     validateRegion,
		build: func(g *lossGraph) (string, error) {
			if g.axis == 0 {
				return "", fmt.Errorf("generalized_dice needs the samples on axis 0 and the classes elsewhere: use --class-axis 1 or -1")
			}
			return g.generalizedDice(), nil
		},
		batch: refGeneralizedDice,
	})
}

// generalizedDice builds the loss; the weights are label side.
func (g *lossGraph) generalizedDice() string {
	b := g.b
	p, t := g.maskedProbs()
	var axes []int64 // the positions of a sample: all but axis 0 and the class axis
	for i := int64(1); i < int64(g.site.Rank); i++ {
		if i != g.axis {
			axes = append(axes, i)
		}
	}
	sum := func(what, v string) string { // → (N, C)
		if axes == nil {
			return v
		}
		return b.ReduceSum(what, v, axes, false)
	}
	inter := sum("intersection", b.Op("Mul", "p_t", []string{p, t}))
	ground := sum("ground_sum", t)
	pred := sum("pred_sum", p)
	var w string
	if g.spec.Weights != nil {
		w = g.weights([]int64{1, int64(g.site.C)})
	} else {
		present := b.Op("Greater", "class_in_sample", []string{ground, g.scalar("zero", 0)})
		safe := b.Op("Where", "ground_safe", []string{present, ground, g.scalar("one", 1)})
		inv := b.Op("Div", "ground_inv_square", []string{g.scalar("one", 1), b.Op("Mul", "ground_square", []string{safe, safe})})
		w0 := b.Op("Where", "gdl_weights_present", []string{present, inv, g.scalar("zero", 0)})
		w = b.Op("Where", "gdl_weights", []string{present, w0, g.classMax(w0)})
	}
	num := b.Op("Add", "gdl_num", []string{
		b.Op("Mul", "gdl_num_twice", []string{g.scalar("two", 2), b.ReduceSum("gdl_num_sum", b.Op("Mul", "gdl_iw", []string{inter, w}), []int64{1}, false)}),
		g.scalar("gdl_smooth", gdlSmooth),
	})
	den := b.Op("Add", "gdl_den", []string{
		b.ReduceSum("gdl_den_sum", b.Op("Mul", "gdl_dw", []string{b.Op("Add", "ground_plus_pred", []string{ground, pred}), w}), []int64{1}, false),
		g.scalar("gdl_smooth", gdlSmooth),
	})
	loss := b.Op("Sub", "gdl_per_sample", []string{g.scalar("one", 1), b.Op("Div", "gdl_ratio", []string{num, den})})
	if g.outOfRange != "" {
		loss = b.Op("Add", "range_checked", []string{loss, b.ReduceSum("label_range_nan_any", g.outOfRange, nil, false)})
	}
	switch g.spec.Reduction {
	case None:
		return loss
	case Sum:
		return b.ReduceSum("loss_sum", loss, nil, false)
	}
	// The mean over samples as Σ / max(N, 1), so an empty batch gives 0
	// (ReduceMean of nothing is NaN); N counted label side from the (N, C)
	// target sums.
	ones := b.Cast("sample_class_ones", b.Op("Equal", "sample_class_ones_bool", []string{ground, ground}), g.elem)
	samples := b.Op("Div", "samples", []string{b.ReduceSum("sample_class_count", ones, nil, false), g.scalar("classes", float64(g.site.C))})
	total := b.ReduceSum("loss_sum", loss, nil, false)
	return b.Op("Div", "loss_mean", []string{total, b.Op("Max", "samples_at_least_one", []string{samples, g.scalar("one", 1)})})
}

// classMax returns the maximum over axis 1 of an (N, C) label-side value,
// shape (N, 1), as a tournament of Gathers and elementwise Max (ops every
// runtime has; ReduceMax is not among inject's label-side ops).
func (g *lossGraph) classMax(v string) string {
	b := g.b
	for n := g.site.C; n > 1; n = (n + 1) / 2 {
		var even, odd []int64
		for i := 0; i < n; i += 2 {
			even = append(even, int64(i))
			odd = append(odd, int64(min(i+1, n-1)))
		}
		m := int64(len(even))
		a := b.Op("Gather", "class_max_a", []string{v, b.Int64("class_max_even", []int64{m}, even)}, graphedit.AttrInt("axis", 1))
		c := b.Op("Gather", "class_max_b", []string{v, b.Int64("class_max_odd", []int64{m}, odd)}, graphedit.AttrInt("axis", 1))
		v = b.Op("Max", "class_max", []string{a, c})
	}
	return v
}

// refGeneralizedDice is the closed form in float64.
func refGeneralizedDice(in *refBatch) ([]float64, []int, error) {
	spec, nc := in.spec, in.nc
	if in.axis == 0 {
		return nil, nil, fmt.Errorf("generalized_dice needs the samples on axis 0")
	}
	samples := in.shape[0]
	perSample := 0 // positions per sample: n·inner / samples
	if samples > 0 {
		perSample = in.n * in.inner / samples
	}
	out := make([]float64, samples)
	x, p := make([]float64, nc), make([]float64, nc)
	for s := 0; s < samples; s++ {
		inter, ground, pred := make([]compSum, nc), make([]compSum, nc), make([]compSum, nc)
		for k := 0; k < perSample; k++ {
			pos := s*perSample + k
			bi, j := pos/in.inner, pos%in.inner
			if in.ignored(pos) {
				continue
			}
			in.probsAt(bi, j, x, p)
			for c := 0; c < nc; c++ {
				t := in.targetAt(bi, c, j, pos)
				inter[c].add(p[c] * t)
				ground[c].add(t)
				pred[c].add(p[c])
			}
		}
		w := make([]float64, nc)
		maxw := 0.0
		for c := range w {
			if spec.Weights != nil {
				w[c] = spec.Weights[c]
			} else if gc := ground[c].sum(); gc > 0 {
				w[c] = 1 / (gc * gc)
				maxw = math.Max(maxw, w[c])
			}
		}
		var num, den compSum
		for c := range w {
			if spec.Weights == nil && ground[c].sum() == 0 {
				w[c] = maxw
			}
			num.add(inter[c].sum() * w[c])
			den.add((ground[c].sum() + pred[c].sum()) * w[c])
		}
		out[s] = 1 - (2*num.sum()+gdlSmooth)/(den.sum()+gdlSmooth)
	}
	switch spec.Reduction {
	case None:
		return out, []int{samples}, nil
	case Sum:
		var s compSum
		for _, v := range out {
			s.add(v)
		}
		return []float64{s.sum()}, []int{}, nil
	}
	if samples == 0 {
		return []float64{0}, []int{}, nil
	}
	var s compSum
	for _, v := range out {
		s.add(v)
	}
	return []float64{s.sum() / float64(samples)}, []int{}, nil
}
