package lossops

import "github.com/onnxloss/onnxloss/graphedit"

// adjustedLoss builds logit_adjusted, balanced_softmax and ldam: softmax
// cross-entropy of logits shifted by per-class offsets (baked in as the
// initializer onnxloss/logit_offsets) or, for ldam, of s·(x − m_y·onehot(y))
// with the margins baked in as onnxloss/ldam_margins.
func (g *lossGraph) adjustedLoss() (string, error) {
	b, spec := g.b, g.spec
	adj, err := spec.Adjustments(nil)
	if err != nil {
		return "", err
	}
	var z string
	switch spec.Loss {
	case LogitAdjusted, BalancedSoftmax:
		// z = x + offset_c; a skipped class has offset −∞ and drops out of
		// the softmax (its labels were masked in prepareLabels).
		z = b.Op("Add", "adjusted_logits", []string{g.x, g.classVector("logit_offsets", g.classShape(), adj)})
	case LDAM:
		// m_y at the label's class, 0 elsewhere: label side, no gradient.
		margin := b.Op("Mul", "margin_onehot", []string{g.classVector("ldam_margins", g.classShape(), adj), g.target})
		z = b.Op("Mul", "scaled_logits", []string{
			b.Op("Sub", "margin_logits", []string{g.x, margin}),
			g.scalar("scale", spec.Scale),
		})
	}
	_, logpY := g.logSoftmaxAtLabel(z)
	loss := b.Op("Neg", "nll", []string{logpY})
	var den string // weighted mean (ldam with class weights), as weighted_ce
	if spec.Weights != nil {
		den = b.Op("Gather", "w_y", []string{g.weights([]int64{int64(g.site.C)}), g.y}, graphedit.AttrInt("axis", 0))
		loss = b.Op("Mul", "weighted", []string{den, loss})
	}
	return g.reduce(loss, den), nil
}

// skipZeroClasses treats positions whose label is a class of count 0 (with
// SkipZero) as ignored: it multiplies the ignore mask by the class's 0/1
// "kept" flag and replaces such labels by the first kept class, so nothing
// downstream gathers the −∞ offset of a skipped class.
func (g *lossGraph) skipZeroClasses() {
	b := g.b
	kept := make([]float64, g.site.C)
	first, any := -1, false
	for c := range kept {
		if g.spec.skipped(c) {
			any = true
			continue
		}
		kept[c] = 1
		if first < 0 {
			first = c
		}
	}
	if !any || first < 0 {
		return
	}
	keptY := b.Op("Gather", "label_kept", []string{g.classVector("class_kept", []int64{int64(g.site.C)}, kept), g.y}, graphedit.AttrInt("axis", 0))
	isSkipped := b.Op("Equal", "label_skipped", []string{keptY, g.scalar("zero", 0)})
	g.y = b.Op("Where", "labels_kept", []string{isSkipped, b.Int64("kept_label", []int64{}, []int64{int64(first)}), g.y})
	if g.mask == "" {
		g.mask = keptY
	} else {
		g.mask = b.Op("Mul", "valid_kept", []string{g.mask, keptY})
	}
}
