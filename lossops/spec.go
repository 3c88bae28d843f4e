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
)

// Losses lists the catalogue in the order the README documents it.
var Losses = []Loss{WeightedCE, Focal, SigmoidFocal, CBSoftmax, CBSigmoid, CBFocal}

// Reduction says how per-position losses are combined.
type Reduction string

// Reductions accepted by --reduction.
const (
	Mean Reduction = "mean"
	Sum  Reduction = "sum"
	None Reduction = "none"
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
}

// IsSigmoid reports whether the loss scores each class independently with a
// sigmoid (and so accepts multi-hot targets).
func (l Loss) IsSigmoid() bool {
	return l == SigmoidFocal || l == CBSigmoid || l == CBFocal
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
	case Mean, Sum, None:
		return Reduction(s), nil
	}
	return "", fmt.Errorf("unknown reduction %q: use mean, sum or none", s)
}

// Validate checks the options against the loss: γ ≥ 0, α ≤ 1, ε ∈ [0, 1)
// and only on weighted_ce, multi-hot only on sigmoid losses, finite weights.
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
	for c, w := range s.Weights {
		if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
			return fmt.Errorf("class weight %d is %v: weights must be finite and >= 0", c, w)
		}
	}
	return nil
}
