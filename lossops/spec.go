package lossops

import (
	"fmt"
	"math"
	"strings"
)

// Loss names one loss of the catalogue, as given to --loss. Each loss
// registers itself (a Def) from its own file, loss_*.go.
type Loss string

// Losses lists the catalogue in the order the README documents it; it is
// filled by the loss files' registrations.
var Losses []Loss

// Defaults of the count-derived losses' parameters (--tau, --max-margin, --scale).
const (
	DefaultTau       = 1.0
	DefaultMaxMargin = 0.5
	DefaultScale     = 30.0
)

// Reduction says how per-position losses are combined.
type Reduction string

// Reductions accepted by --reduction.
const (
	Mean Reduction = "mean"
	Sum  Reduction = "sum"
	None Reduction = "none"
	// Foreground is dense detection's normalization (RetinaNet): per sample,
	// the sum of the losses of its non-ignored positions divided by
	// max(1, its foreground positions), then the mean over the samples.
	// Foreground positions are those whose label is a class (not the
	// ignore_index, not the background label).
	Foreground Reduction = "foreground"
)

// Spec is everything that determines a loss value apart from the data: the
// loss, its class weights (already computed from counts) and its options.
type Spec struct {
	Loss Loss
	// Weights holds one weight per class; nil means no class weighting
	// (every weight 1; for sigmoid_focal it means the weight factor is absent).
	Weights []float64
	// Gamma is the focusing parameter of focal, sigmoid_focal and cb_focal.
	Gamma float64
	// Alpha balances positives and negatives in sigmoid_focal; < 0 disables it.
	Alpha     float64
	Reduction Reduction
	// IgnoreIndex, when non-nil, marks positions whose label equals it as
	// excluded from the loss.
	IgnoreIndex *int64
	// LabelSmoothing is ε of weighted_ce, in [0, 1).
	LabelSmoothing float64
	// MultiHot says the targets are a float tensor of the logits' shape
	// (sigmoid losses only) instead of index labels.
	MultiHot bool
	// ClassAxis is the logits' class axis: 0 means the default, axis 1;
	// a negative value counts from the end, so axis 0 itself is written as
	// −rank. Labels have the logits' shape without this axis. See Axis.
	ClassAxis int
	// BackgroundLabel, when non-nil, is the label of positions that are
	// negatives for every class (dense detection's background anchors):
	// their target row is all zeros (sigmoid losses only). It must not be
	// a class id or the ignore_index.
	BackgroundLabel *int64

	// Counts are the per-class sample counts the count-derived losses
	// (logit_adjusted, balanced_softmax, ldam; see Loss.FromCounts) turn
	// into logit offsets or margins; the other losses ignore them.
	Counts []float64
	// SkipZero (--zero-counts skip) lets Counts hold zeros for the
	// count-derived losses: such a class is left out of the loss. Positions
	// labelled with it count as ignored (loss 0, not in the mean); for
	// logit_adjusted and balanced_softmax its offset is −∞, which removes it
	// from the softmax (probability 0, no gradient); for ldam its margin is 0
	// and it does not take part in the margins' rescaling.
	SkipZero bool
	// Tau is τ of logit_adjusted, finite (0 gives plain cross-entropy).
	Tau float64
	// MaxMargin is the largest LDAM margin (that of the rarest class), > 0.
	MaxMargin float64
	// Scale is s of ldam, > 0.
	Scale float64
	// Epsilon is ε of poly1, the weight of its (1 − p_y) term.
	Epsilon float64
	// Smooth is the smoothing term of dice and tversky, >= 0.
	Smooth float64
	// GammaPos and GammaNeg are asl's focusing exponents of the positives
	// and the negatives; Clip is its probability margin of the negatives.
	GammaPos, GammaNeg, Clip float64
	// DetachFocusing computes asl's focusing weight without gradient
	// (timm's disable_torch_grad_focal_loss), through a stop_gradient Identity.
	DetachFocusing bool
	// SeesawP and SeesawQ are the exponents of seesaw's mitigation and
	// compensation factors.
	SeesawP, SeesawQ float64
	// TverskyBeta is β of tversky, the weight of the false negatives
	// (Alpha is that of the false positives).
	TverskyBeta float64
}

// Axis returns the class axis of logits of the given rank, in [0, rank):
// ClassAxis normalized (0 means 1, negative counts from the end). ok is
// false when the axis is outside the logits.
func (s Spec) Axis(rank int) (axis int, ok bool) {
	axis = s.ClassAxis
	switch {
	case axis == 0:
		axis = 1
	case axis < 0:
		axis += rank
	}
	return axis, axis >= 0 && axis < rank
}

// IsSigmoid reports whether the loss scores each class independently with a
// sigmoid (and so accepts a background label).
func (l Loss) IsSigmoid() bool { return l.def().Sigmoid }

// AcceptsMultiHot reports whether the loss accepts multi-hot targets.
func (l Loss) AcceptsMultiHot() bool { return l.def().Sigmoid || l.def().MultiHot }

// FromCounts reports whether the loss derives per-class logit offsets or
// margins from the counts (logit_adjusted, balanced_softmax, ldam).
func (l Loss) FromCounts() bool { return l.def().FromCounts }

// TakesWeights reports whether the loss accepts class weights. The logit
// adjustment losses do not: the counts already enter as logit offsets.
func (l Loss) TakesWeights() bool { return !l.def().NoWeights }

// ParseLoss returns the Loss named s, or an error listing the valid names.
func ParseLoss(s string) (Loss, error) {
	for _, l := range Losses {
		if string(l) == s {
			return l, nil
		}
	}
	return "", fmt.Errorf("unknown loss %q: use one of %v", s, Losses)
}

// ParseReduction returns the Reduction named s, or an error listing the valid names.
func ParseReduction(s string) (Reduction, error) {
	switch Reduction(s) {
	case Mean, Sum, None, Foreground:
		return Reduction(s), nil
	}
	return "", fmt.Errorf("unknown reduction %q: use mean, sum, none or foreground", s)
}

// Validate checks the options against the loss: γ ≥ 0, α ≤ 1, ε ∈ [0, 1)
// and only on weighted_ce, multi-hot only on sigmoid losses, finite weights;
// for the count-derived losses also τ finite, max margin > 0, scale > 0,
// counts finite and ≥ 0 (zeros only with SkipZero), and no class weights on
// logit_adjusted and balanced_softmax.
func (s Spec) Validate() error {
	if _, err := ParseLoss(string(s.Loss)); err != nil {
		return err
	}
	if _, err := ParseReduction(string(s.Reduction)); err != nil {
		return err
	}
	if math.IsNaN(s.Gamma) || math.IsInf(s.Gamma, 0) || s.Gamma < 0 {
		return fmt.Errorf("gamma %v is invalid: use a finite value >= 0", s.Gamma)
	}
	if math.IsNaN(s.Alpha) || s.Alpha > 1 || math.IsInf(s.Alpha, 0) {
		return fmt.Errorf("alpha %v is invalid: use a value <= 1 (a negative alpha disables the alpha term)", s.Alpha)
	}
	if math.IsNaN(s.LabelSmoothing) || s.LabelSmoothing < 0 || s.LabelSmoothing >= 1 {
		return fmt.Errorf("label smoothing %v is invalid: use a value in [0, 1)", s.LabelSmoothing)
	}
	if s.LabelSmoothing != 0 && !s.Loss.def().Uses("label-smoothing") {
		return fmt.Errorf("label smoothing applies to %s only, not %s", lossNames(ParamUsers("label-smoothing")), s.Loss)
	}
	if s.MultiHot && !s.Loss.AcceptsMultiHot() {
		return fmt.Errorf("multi-hot targets need a sigmoid loss or one with a multilabel mode (%s), not %s", lossNames(multiHotLosses()), s.Loss)
	}
	if s.MultiHot && s.IgnoreIndex != nil {
		return fmt.Errorf("ignore_index applies to index labels, not multi-hot targets")
	}
	if bg := s.BackgroundLabel; bg != nil {
		if !s.Loss.IsSigmoid() {
			return fmt.Errorf("a background label needs a sigmoid loss (sigmoid_focal, cb_sigmoid, cb_focal), not %s: background positions are negatives for every class", s.Loss)
		}
		if s.MultiHot {
			return fmt.Errorf("a background label applies to index labels, not multi-hot targets (give background rows all zeros)")
		}
		if s.IgnoreIndex != nil && *s.IgnoreIndex == *bg {
			return fmt.Errorf("the background label and ignore_index are both %d: give them different values", *bg)
		}
		if *bg >= 0 && s.Weights != nil && *bg < int64(len(s.Weights)) {
			return fmt.Errorf("the background label %d is a class id (0..%d): use a value outside the classes, e.g. -1", *bg, len(s.Weights)-1)
		}
	}
	if s.Reduction == Foreground && s.MultiHot {
		return fmt.Errorf("the foreground reduction counts index labels that are classes: use index labels, not multi-hot targets")
	}
	if v := s.Loss.def().validate; v != nil {
		if err := v(s); err != nil {
			return err
		}
	}
	if s.DetachFocusing && s.Loss != ASL {
		return fmt.Errorf("detached focusing applies to asl only, not %s", s.Loss)
	}
	for c, w := range s.Weights {
		if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
			return fmt.Errorf("class weight %d is %v: weights must be finite and >= 0", c, w)
		}
	}
	if s.Loss.FromCounts() {
		if s.Weights != nil && !s.Loss.TakesWeights() {
			return fmt.Errorf("%s takes no class weights (the counts enter as logit offsets): use weighting none", s.Loss)
		}
		if _, err := s.Adjustments(nil); err != nil {
			return err
		}
	}
	return nil
}

// lossNames joins loss names with commas, for messages.
func lossNames(ls []Loss) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = string(l)
	}
	return strings.Join(parts, ", ")
}

// multiHotLosses lists the losses that accept multi-hot targets.
func multiHotLosses() []Loss {
	var out []Loss
	for _, l := range Losses {
		if l.AcceptsMultiHot() {
			out = append(out, l)
		}
	}
	return out
}
