package lossops

import (
	"fmt"
	"math"
)

// Weighting names how class weights are derived from per-class counts, as
// given to --weighting.
type Weighting string

// The weighting schemes. For a class with count n the raw weight is:
const (
	// WeightNone gives every class weight 1.
	WeightNone Weighting = "none"
	// WeightInverse gives 1/n.
	WeightInverse Weighting = "inverse"
	// WeightSqrtInverse gives 1/sqrt(n).
	WeightSqrtInverse Weighting = "sqrt_inverse"
	// WeightEffective gives (1-β)/(1-β^n), the inverse effective number of
	// samples of Cui et al. 2019, "Class-Balanced Loss Based on Effective
	// Number of Samples".
	WeightEffective Weighting = "effective"
	// WeightMedianFrequency gives median(f)/f_c with f_c = n_c / (pixels of
	// the images where c appears): Eigen & Fergus 2015, used by SegNet.
	WeightMedianFrequency Weighting = "median_frequency"
	// WeightENet gives 1/ln(c + p_c), p_c = n_c/Σn: Paszke et al. 2016, ENet.
	WeightENet Weighting = "enet"
	// WeightNegPos gives (N - n_c)/n_c, N the number of samples: the
	// pos_weight of per-class binary cross-entropy.
	WeightNegPos Weighting = "neg_pos"
	// WeightGiven is a weight vector given directly (--weights), recorded
	// under this name; it is not chosen with --weighting.
	WeightGiven Weighting = "given"
)

// Weightings lists the weighting schemes in the order the README documents them.
var Weightings = []Weighting{WeightNone, WeightInverse, WeightSqrtInverse, WeightEffective, WeightMedianFrequency, WeightENet, WeightNegPos}

// DefaultBeta is the default β of the effective-number weighting.
const DefaultBeta = 0.9999

// ParseWeighting returns the Weighting named s, or an error listing the valid names.
func ParseWeighting(s string) (Weighting, error) {
	for _, w := range Weightings {
		if string(w) == s {
			return w, nil
		}
	}
	return "", fmt.Errorf("unknown weighting %q: use one of %v", s, Weightings)
}

// DefaultWeighting returns the weighting a loss uses when none is asked for:
// inverse for weighted_ce and focal, none for sigmoid_focal (torchvision has
// no class weights) and effective for the class-balanced losses.
func DefaultWeighting(l Loss) Weighting {
	if d := registry[l]; d != nil {
		return d.Weighting
	}
	return WeightNone
}

// WeightConfig says how ClassWeights turns counts into weights.
type WeightConfig struct {
	// Scheme is the raw weight formula.
	Scheme Weighting
	// Beta is β of the effective weighting, in [0, 1); 0 gives all ones.
	// It is checked for every scheme but used only by WeightEffective.
	Beta float64
	// Normalize rescales the weights to sum to the number of classes
	// (w ← w·C/Σw), as Cui et al. do; false keeps the raw weights.
	Normalize bool
	// SkipZero (--zero-counts skip) gives classes with a zero count weight 0
	// instead of failing; they are left out of the normalization, so the
	// remaining weights sum to the number of classes with a non-zero count.
	SkipZero bool
	// ENetC is c of the enet weighting (> 1); 0 means DefaultENetC.
	ENetC float64
	// Samples is N of neg_pos, the number of samples (multi-hot: rows);
	// 0 means the sum of the counts (one label per sample).
	Samples float64
	// ImagePixels[c] is the number of pixels of the images in which class
	// c appears; median_frequency needs it.
	ImagePixels []float64
	// Given, when non-nil, is the weight vector itself (--weights): the
	// counts are not used (they may be nil) and Scheme is ignored.
	Given []float64
}

// ClassWeights computes one weight per class from the per-class counts; see
// WeightConfig. Counts must be finite and >= 0. A zero count is an error
// naming the class unless cfg.SkipZero. ClassWeightsNamed does the same and
// names classes by name in errors.
func ClassWeights(counts []float64, cfg WeightConfig) ([]float64, error) {
	return ClassWeightsNamed(counts, nil, cfg)
}

// ClassWeights computes the class weights of c's counts (see the function
// ClassWeights), naming classes by their names in errors when c has them.
// What the counts file records about its origin fills in what cfg leaves
// unset: Samples, and ImagePixels for median_frequency.
func (c *Counts) ClassWeights(cfg WeightConfig) ([]float64, error) {
	if o := c.Origin; o != nil {
		if cfg.Samples == 0 {
			cfg.Samples = o.Samples
		}
		if cfg.ImagePixels == nil {
			cfg.ImagePixels = o.ImagePixels
		}
	}
	return ClassWeightsNamed(c.Values, c.Classes, cfg)
}

// ClassWeightsNamed is ClassWeights with class names for the error messages;
// names may be nil, otherwise it must have one name per count.
func ClassWeightsNamed(counts []float64, names []string, cfg WeightConfig) ([]float64, error) {
	if cfg.Given != nil {
		return givenWeights(counts, cfg)
	}
	if _, err := ParseWeighting(string(cfg.Scheme)); err != nil {
		return nil, err
	}
	if math.IsNaN(cfg.Beta) || cfg.Beta < 0 || cfg.Beta >= 1 {
		return nil, fmt.Errorf("beta %v is invalid: use a value in [0, 1)", cfg.Beta)
	}
	if len(counts) == 0 {
		return nil, fmt.Errorf("no class counts: give one count per class")
	}
	if names != nil && len(names) != len(counts) {
		return nil, fmt.Errorf("%d class names for %d counts: give one name per count", len(names), len(counts))
	}
	className := func(c int) string {
		if names != nil && names[c] != "" {
			return fmt.Sprintf("class %d (%q)", c, names[c])
		}
		return fmt.Sprintf("class %d", c)
	}
	raw, err := newRawWeights(counts, cfg, className)
	if err != nil {
		return nil, err
	}
	w := make([]float64, len(counts))
	kept := 0
	for c, n := range counts {
		switch {
		case math.IsNaN(n) || math.IsInf(n, 0) || n < 0:
			return nil, fmt.Errorf("%s has count %v: counts must be finite numbers >= 0", className(c), n)
		case n == 0:
			if !cfg.SkipZero {
				return nil, fmt.Errorf("%s has count 0, so it has no weight: give it a count > 0 or use --zero-counts skip (weight 0)", className(c))
			}
			w[c] = 0
			continue
		}
		if w[c], err = raw(c, n); err != nil {
			return nil, err
		}
		if math.IsInf(w[c], 0) || math.IsNaN(w[c]) || w[c] == 0 {
			return nil, fmt.Errorf("%s has count %v, whose %s weight is not a usable number (%v): use counts of ordinary size", className(c), n, cfg.Scheme, w[c])
		}
		kept++
	}
	if kept == 0 {
		return nil, fmt.Errorf("every class has count 0: at least one class needs a count > 0")
	}
	if cfg.Normalize {
		normalize(w, kept)
	}
	return w, nil
}

// normalize scales w to sum to kept, in two steps so huge or tiny raw
// weights cannot overflow the sum: divide by the largest weight first.
func normalize(w []float64, kept int) {
	maxw := 0.0
	for _, v := range w {
		maxw = math.Max(maxw, v)
	}
	sum := 0.0
	for _, v := range w {
		sum += v / maxw
	}
	scale := float64(kept) / sum
	for c := range w {
		w[c] = w[c] / maxw * scale
	}
}

// rawWeight is the unnormalized weight of a class with count n > 0.
func rawWeight(s Weighting, n, beta float64) float64 {
	switch s {
	case WeightInverse:
		return 1 / n
	case WeightSqrtInverse:
		return 1 / math.Sqrt(n)
	case WeightEffective:
		return effectiveWeight(n, beta)
	}
	return 1
}

// effectiveWeight returns (1-β)/(1-β^n) without cancellation or overflow:
// β^n = exp(n·log β) with log β = log1p(β-1) (β-1 is exact for β ≥ 0.5),
// and 1-β^n = -expm1(n·log β). β = 0 gives 1 (0^n = 0 for n > 0).
func effectiveWeight(n, beta float64) float64 {
	if beta == 0 {
		return 1
	}
	var logBeta float64
	if beta >= 0.5 {
		logBeta = math.Log1p(beta - 1)
	} else {
		logBeta = math.Log(beta)
	}
	den := -math.Expm1(n * logBeta)
	return (1 - beta) / den
}
