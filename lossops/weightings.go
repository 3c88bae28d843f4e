package lossops

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
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

// maxWeightsFile bounds a --weights file.
const maxWeightsFile = 64 << 20

// ParseWeightVector reads a --weights value: numbers separated by commas
// ("0.2,1,3.5"), or the path of a file holding a JSON array of numbers or
// numbers separated by commas or whitespace (what numpy.savetxt or
// print(w.tolist()) write). Errors are one line.
func ParseWeightVector(s string) ([]float64, error) {
	if w, err := parseNumberList(s); err == nil {
		return w, nil
	}
	name := displayName(s)
	st, err := os.Stat(s)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("--weights %q is neither numbers like 0.2,1,3.5 nor an existing file", shortValue(s))
	case err != nil:
		return nil, fmt.Errorf("--weights file %s cannot be read: %v", name, errors.Unwrap(err))
	case st.IsDir():
		return nil, fmt.Errorf("--weights file %s is a directory", name)
	case st.Size() > maxWeightsFile:
		return nil, fmt.Errorf("--weights file %s is larger than %d MiB: is it a weight vector?", name, maxWeightsFile>>20)
	}
	data, err := os.ReadFile(s)
	if err != nil {
		return nil, fmt.Errorf("--weights file %s cannot be read: %v", name, errors.Unwrap(err))
	}
	data = bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	var w []float64
	if bytes.HasPrefix(data, []byte("[")) {
		if err := json.Unmarshal(data, &w); err != nil {
			return nil, fmt.Errorf("--weights file %s is not a JSON array of numbers: %v", name, oneLine(err.Error()))
		}
	} else if w, err = parseNumberList(string(data)); err != nil {
		return nil, fmt.Errorf("--weights file %s: %v", name, err)
	}
	if len(w) == 0 {
		return nil, fmt.Errorf("--weights file %s has no weights", name)
	}
	return w, nil
}

// parseNumberList parses numbers separated by commas and/or whitespace.
func parseNumberList(s string) ([]float64, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	if len(fields) == 0 {
		return nil, errors.New("no numbers")
	}
	w := make([]float64, len(fields))
	for i, f := range fields {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return nil, fmt.Errorf("weight %d is %q, not a number", i, shortValue(f))
		}
		w[i] = v
	}
	return w, nil
}

// displayName quotes a file name that has characters that would break the
// one-line error.
func displayName(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

func shortValue(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}
