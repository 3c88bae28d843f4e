package inject

import (
	"fmt"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/lossops"
)

// NeedsCounts reports whether a loss with this weighting ("" means the
// loss's default) reads the class counts: the count-derived losses always,
// the others unless their weighting is none or given (--weights).
func NeedsCounts(loss lossops.Loss, weighting lossops.Weighting) bool {
	if weighting == "" {
		weighting = lossops.DefaultWeighting(loss)
	}
	return loss.FromCounts() || (loss.TakesWeights() && weighting != lossops.WeightNone && weighting != lossops.WeightGiven)
}

// countsFromModel stands in for the counts of a loss that reads none: C
// ones, C being the static size of the (first) head's class axis, so the
// rest of the injection sees the same counts as with a file of ones. It
// returns the note saying so.
func countsFromModel(m *graphedit.Model, opt Options) (*lossops.Counts, string, error) {
	name := opt.Logits
	if len(opt.Heads) > 0 {
		name = opt.Heads[0]
	}
	logits, err := findLogits(m, name)
	if err != nil {
		return nil, "", fmt.Errorf("without --counts the number of classes comes from the logits: %w", err)
	}
	if logits, _, _, err = beforeActivation(m, logits); err != nil {
		return nil, "", err
	}
	vt, ok := m.InferType(logits)
	if !ok || vt.Rank() < 2 {
		return nil, "", fmt.Errorf("logits %q have no known shape of rank >= 2, so the number of classes is unknown: pass --counts FILE", logits)
	}
	axis := 1
	switch {
	case opt.ClassAxis != nil:
		axis = *opt.ClassAxis
		if axis < 0 {
			axis += vt.Rank()
		}
		if axis < 0 || axis >= vt.Rank() {
			return nil, "", fmt.Errorf("--class-axis %d is outside logits %q of shape %s: use an axis in -%d..%d", *opt.ClassAxis, logits, shapeString(vt), vt.Rank(), vt.Rank()-1)
		}
	case vt.Rank() == 3:
		return nil, "", fmt.Errorf("logits %q (shape %s) have rank 3 and no --counts to tell C: pass --class-axis 1 or --class-axis -1", logits, shapeString(vt))
	}
	d := vt.Shape[axis]
	if !d.Static() || d.Value < 1 {
		return nil, "", fmt.Errorf("the class axis %d of logits %q (shape %s) has no static size: pass --counts FILE with one count per class", axis, logits, shapeString(vt))
	}
	ones := make([]float64, d.Value)
	for i := range ones {
		ones[i] = 1
	}
	note := fmt.Sprintf("no --counts: C = %d from axis %d of %s; %s takes no class weights here, so none are needed", d.Value, axis, logits, opt.Loss)
	return &lossops.Counts{Values: ones}, note, nil
}
