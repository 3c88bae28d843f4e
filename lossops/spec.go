package lossops

import (
	"fmt"
	"math"
)

// Loss names one loss of the catalogue, as given to --loss.
type Loss string

// The loss catalogue (see the README for formulas).
const (
	WeightedCE   Loss = "weighted_ce"
	Focal        Loss = "focal"
	SigmoidFocal Loss = "sigmoid_focal"
	CBSoftmax    Loss = "cb_softmax"
	CBSigmoid    Loss = "cb_sigmoid"
	CBFocal      Loss = "cb_focal"
	// LogitAdjusted is Menon et al. 2021: CE(x + τ·log π, y), π_c = n_c/Σn.
	LogitAdjusted Loss = "logit_adjusted"
	// BalancedSoftmax is Ren et al. 2020: CE(x + log n, y).
	BalancedSoftmax Loss = "balanced_softmax"
	// LDAM is Cao et al. 2019: CE(s·(x − m_y·onehot(y)), y, w), m_c ∝ n_c^(−1/4).
	LDAM Loss = "ldam"
)

// Losses lists the catalogue in the order the README documents it.
var Losses = []Loss{WeightedCE, Focal, SigmoidFocal, CBSoftmax, CBSigmoid, CBFocal, LogitAdjusted, BalancedSoftmax, LDAM}

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
// sigmoid (and so accepts multi-hot targets).
func (l Loss) IsSigmoid() bool {
	return l == SigmoidFocal || l == CBSigmoid || l == CBFocal
}

// FromCounts reports whether the loss derives per-class logit offsets or
// margins from the counts (logit_adjusted, balanced_softmax, ldam).
func (l Loss) FromCounts() bool {
	return l == LogitAdjusted || l == BalancedSoftmax || l == LDAM
}

// TakesWeights reports whether the loss accepts class weights. The logit
// adjustment losses do not: the counts already enter as logit offsets.
func (l Loss) TakesWeights() bool {
	return l != LogitAdjusted && l != BalancedSoftmax
}

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
	if s.LabelSmoothing != 0 && s.Loss != WeightedCE {
		return fmt.Errorf("label smoothing applies to weighted_ce only, not %s", s.Loss)
	}
	if s.MultiHot && !s.Loss.IsSigmoid() {
		return fmt.Errorf("multi-hot targets need a sigmoid loss (sigmoid_focal, cb_sigmoid, cb_focal), not %s", s.Loss)
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
