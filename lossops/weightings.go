package lossops

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// DefaultENetC is c of the enet weighting, as Paszke et al. chose it.
const DefaultENetC = 1.02

// rawWeights returns the unnormalized weight of class c with count n > 0.
type rawWeights func(c int, n float64) (float64, error)

// newRawWeights prepares the raw weights of cfg.Scheme over counts: the
// schemes that look at every class (median_frequency's median, enet's
// total, neg_pos's N) compute that once here.
func newRawWeights(counts []float64, cfg WeightConfig, className func(int) string) (rawWeights, error) {
	switch cfg.Scheme {
	case WeightMedianFrequency:
		return medianFrequency(counts, cfg, className)
	case WeightENet:
		return enet(counts, cfg)
	case WeightNegPos:
		return negPos(counts, cfg, className)
	}
	return func(_ int, n float64) (float64, error) { return rawWeight(cfg.Scheme, n, cfg.Beta), nil }, nil
}

// medianFrequency is Eigen & Fergus's median frequency balancing (also
// SegNet's): f_c = n_c / P_c with P_c the pixels of the images where c
// appears, w_c = median(f) / f_c, the median over the classes with n_c > 0
// (NumPy's median: the mean of the two middle values for an even number).
func medianFrequency(counts []float64, cfg WeightConfig, className func(int) string) (rawWeights, error) {
	if cfg.ImagePixels == nil {
		return nil, errors.New("median_frequency needs the pixels of the images each class appears in: count the mask PNGs with onnxloss counts (its counts file records \"image_pixels\")")
	}
	if len(cfg.ImagePixels) != len(counts) {
		return nil, fmt.Errorf("median_frequency: %d image-pixel totals for %d classes", len(cfg.ImagePixels), len(counts))
	}
	f := make([]float64, len(counts))
	var present []float64
	for c, n := range counts {
		if n <= 0 {
			continue
		}
		p := cfg.ImagePixels[c]
		if !(p >= n) || math.IsInf(p, 0) {
			return nil, fmt.Errorf("%s has %v pixels but its images have %v: image_pixels must be at least the count", className(c), n, p)
		}
		f[c] = n / p
		present = append(present, f[c])
	}
	if len(present) == 0 {
		return nil, errors.New("every class has count 0: at least one class needs a count > 0")
	}
	sort.Float64s(present)
	k := len(present)
	med := present[k/2]
	if k%2 == 0 {
		med = (present[k/2-1] + present[k/2]) / 2
	}
	return func(c int, _ float64) (float64, error) { return med / f[c], nil }, nil
}

// enet is ENet's weighting: w_c = 1 / ln(c + p_c) with p_c = n_c / Σn the
// class's share of all counted samples (pixels).
func enet(counts []float64, cfg WeightConfig) (rawWeights, error) {
	k := cfg.ENetC
	if k == 0 {
		k = DefaultENetC
	}
	if math.IsNaN(k) || math.IsInf(k, 0) || k <= 1 {
		return nil, fmt.Errorf("--enet-c %v is invalid: use a value > 1 so that ln(c + p) > 0 (ENet uses 1.02)", k)
	}
	total := 0.0
	for _, n := range counts {
		total += n
	}
	return func(_ int, n float64) (float64, error) { return 1 / math.Log(k+n/total), nil }, nil
}

// negPos is (N - n_c) / n_c, the negatives per positive of class c: the
// pos_weight of per-class binary cross-entropy. N is cfg.Samples, or Σn.
func negPos(counts []float64, cfg WeightConfig, className func(int) string) (rawWeights, error) {
	N := cfg.Samples
	if N == 0 {
		for _, n := range counts {
			N += n
		}
	}
	if math.IsNaN(N) || math.IsInf(N, 0) || N < 0 {
		return nil, fmt.Errorf("neg_pos: the number of samples %v is invalid", N)
	}
	return func(c int, n float64) (float64, error) {
		switch {
		case n > N:
			return 0, fmt.Errorf("%s has count %v, more than the %v samples: neg_pos needs the number of samples (\"samples\" in the counts file)", className(c), n, N)
		case n == N:
			return 0, fmt.Errorf("%s is in every one of the %v samples, so it has no negatives and its neg_pos weight is 0: use another weighting", className(c), N)
		}
		return (N - n) / n, nil
	}, nil
}

// givenWeights checks a weight vector given directly and normalizes it if
// asked. counts, when non-nil, fix the number of classes.
func givenWeights(counts []float64, cfg WeightConfig) ([]float64, error) {
	w := cfg.Given
	if len(w) == 0 {
		return nil, errors.New("--weights is empty: give one weight per class")
	}
	if counts != nil && len(w) != len(counts) {
		return nil, fmt.Errorf("--weights has %d values but the counts have %d classes: give one weight per class", len(w), len(counts))
	}
	out := make([]float64, len(w))
	kept := 0
	for c, v := range w {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return nil, fmt.Errorf("weight %d is %v: class weights must be finite numbers >= 0", c, v)
		}
		if v > 0 {
			kept++
		}
		out[c] = v
	}
	if kept == 0 {
		return nil, errors.New("every --weights value is 0: at least one class needs a weight > 0")
	}
	if cfg.Normalize {
		normalize(out, kept)
	}
	return out, nil
}
