package lossops

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// randomProblem draws seeded logits of shape (n, c, inner) scaled by scale,
// labels, and weights.
// withCounts gives a count-derived loss long-tailed counts for c classes and
// its default parameters, and drops the class weights of the losses that take
// none; other specs are returned as they are.
func withCounts(s Spec, c int) Spec {
	if !s.Loss.FromCounts() && !registry[s.Loss].UsesCounts {
		return s
	}
	s.Counts = make([]float64, c)
	for i := range s.Counts {
		s.Counts[i] = math.Round(1000 * math.Pow(0.1, float64(i)/float64(max(c-1, 1))))
	}
	s.Tau, s.MaxMargin, s.Scale = DefaultTau, DefaultMaxMargin, DefaultScale
	s.SeesawP, s.SeesawQ = 0.8, 2
	if !s.Loss.TakesWeights() {
		s.Weights = nil
	}
	return s
}

func randomProblem(seed uint64, n, c, inner int, scale float64) (logits []float64, shape []int, labels []int64, weights []float64) {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	shape = []int{n, c}
	if inner > 1 {
		shape = append(shape, inner)
	}
	logits = make([]float64, n*c*inner)
	for i := range logits {
		logits[i] = r.NormFloat64() * scale
	}
	labels = make([]int64, n*inner)
	for i := range labels {
		labels[i] = int64(r.IntN(c))
	}
	weights = make([]float64, c)
	for i := range weights {
		weights[i] = 0.1 + 2*r.Float64()
	}
	return
}

func mustReference(t *testing.T, spec Spec, logits []float64, shape []int, labels []int64, targets []float64) ([]float64, []int) {
	t.Helper()
	l, s, err := Reference(spec, logits, shape, labels, targets)
	if err != nil {
		t.Fatalf("Reference(%+v): %v", spec, err)
	}
	return l, s
}

// With γ = 0 the focal loss is the weighted cross-entropy, position by
// position; the means differ by design (|V| versus Σ w_y), so compare sums
// and per-position losses. cb_softmax is the same formula again.
func TestFocalGammaZeroIsWeightedCE(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		logits, shape, labels, w := randomProblem(seed, 1+int(seed%5), 2+int(seed%7), 1+int(seed%3), 3)
		for _, red := range []Reduction{Sum, None} {
			ce, _ := mustReference(t, Spec{Loss: WeightedCE, Weights: w, Reduction: red}, logits, shape, labels, nil)
			fo, _ := mustReference(t, Spec{Loss: Focal, Weights: w, Gamma: 0, Reduction: red}, logits, shape, labels, nil)
			cb, _ := mustReference(t, Spec{Loss: CBSoftmax, Weights: w, Reduction: red}, logits, shape, labels, nil)
			for i := range ce {
				if !closeTo(fo[i], ce[i], 1e-14, 0) || !closeTo(cb[i], ce[i], 1e-14, 0) {
					t.Errorf("seed %d %s [%d]: focal γ=0 %v, cb_softmax %v, weighted_ce %v", seed, red, i, fo[i], cb[i], ce[i])
				}
			}
		}
		// Means: focal divides by |V|, weighted_ce by Σ w_y.
		ceSum, _ := mustReference(t, Spec{Loss: WeightedCE, Weights: w, Reduction: Sum}, logits, shape, labels, nil)
		ceMean, _ := mustReference(t, Spec{Loss: WeightedCE, Weights: w, Reduction: Mean}, logits, shape, labels, nil)
		foMean, _ := mustReference(t, Spec{Loss: Focal, Weights: w, Reduction: Mean}, logits, shape, labels, nil)
		foSum, _ := mustReference(t, Spec{Loss: Focal, Weights: w, Reduction: Sum}, logits, shape, labels, nil)
		var wy float64
		for _, y := range labels {
			wy += w[y]
		}
		if !closeTo(ceMean[0], ceSum[0]/wy, 1e-14, 0) {
			t.Errorf("seed %d: weighted_ce mean %v, want sum/Σw_y = %v", seed, ceMean[0], ceSum[0]/wy)
		}
		if !closeTo(foMean[0], foSum[0]/float64(len(labels)), 1e-14, 0) {
			t.Errorf("seed %d: focal mean %v, want sum/|V| = %v", seed, foMean[0], foSum[0]/float64(len(labels)))
		}
	}
}

// Multi-hot targets that are one-hot, with all weights equal, give the same
// cb_sigmoid/cb_focal/sigmoid_focal losses as the index labels.
func TestMultiHotOneHotMatchesIndex(t *testing.T) {
	logits, shape, labels, _ := randomProblem(7, 4, 5, 3, 2)
	n, c, inner := shape[0], shape[1], shape[2]
	targets := make([]float64, len(logits))
	for b := 0; b < n; b++ {
		for j := 0; j < inner; j++ {
			targets[(b*c+int(labels[b*inner+j]))*inner+j] = 1
		}
	}
	w := []float64{0.7, 0.7, 0.7, 0.7, 0.7}
	for _, loss := range []Loss{SigmoidFocal, CBSigmoid, CBFocal} {
		for _, red := range []Reduction{Mean, Sum, None} {
			spec := Spec{Loss: loss, Weights: w, Gamma: 1.5, Alpha: 0.3, Reduction: red}
			a, as := mustReference(t, spec, logits, shape, labels, nil)
			spec.MultiHot = true
			b, bs := mustReference(t, spec, logits, shape, nil, targets)
			if !reflect.DeepEqual(as, bs) {
				t.Fatalf("%s %s: shapes %v and %v", loss, red, as, bs)
			}
			for i := range a {
				if !closeTo(a[i], b[i], 1e-14, 1e-300) {
					t.Errorf("%s %s [%d]: index %v, multi-hot %v", loss, red, i, a[i], b[i])
				}
			}
		}
	}
}

// Hand-computed values.
func TestReferenceByHand(t *testing.T) {
	// Equal logits: softmax is uniform, CE = log C.
	l, s := mustReference(t, Spec{Loss: WeightedCE, Reduction: Mean}, []float64{3, 3, 3, 3}, []int{1, 4}, []int64{2}, nil)
	if !closeTo(l[0], math.Log(4), 1e-15, 0) || len(s) != 0 {
		t.Errorf("uniform CE = %v %v, want log 4 and a scalar", l, s)
	}
	// Focal on uniform C=4: -(1-1/4)^2·log(1/4) times w_y.
	l, _ = mustReference(t, Spec{Loss: Focal, Weights: []float64{1, 1, 2, 1}, Gamma: 2, Reduction: Sum}, []float64{0, 0, 0, 0}, []int{1, 4}, []int64{2}, nil)
	if want := 2 * 0.75 * 0.75 * math.Log(4); !closeTo(l[0], want, 1e-15, 0) {
		t.Errorf("focal = %v, want %v", l[0], want)
	}
	// sigmoid_focal at x = 0: BCE = log 2, 1-p_t = 1/2.
	l, s = mustReference(t, Spec{Loss: SigmoidFocal, Gamma: 2, Alpha: 0.25, Reduction: None}, []float64{0, 0}, []int{1, 2}, []int64{1}, nil)
	want := []float64{0.75 * 0.25 * math.Ln2, 0.25 * 0.25 * math.Ln2}
	if !reflect.DeepEqual(s, []int{1, 2}) || !closeTo(l[0], want[0], 1e-15, 0) || !closeTo(l[1], want[1], 1e-15, 0) {
		t.Errorf("sigmoid_focal = %v %v, want %v [1 2]", l, s, want)
	}
	// Label smoothing ε with weights, one position, C = 2, logits 0:
	// (1-ε)·w_y·log 2 + ε/2·(w_0+w_1)·log 2, divided by w_y.
	eps := 0.2
	l, _ = mustReference(t, Spec{Loss: WeightedCE, Weights: []float64{1, 3}, LabelSmoothing: eps, Reduction: Mean}, []float64{0, 0}, []int{1, 2}, []int64{1}, nil)
	if want := ((1-eps)*3*math.Ln2 + eps/2*4*math.Ln2) / 3; !closeTo(l[0], want, 1e-15, 0) {
		t.Errorf("smoothed CE = %v, want %v", l[0], want)
	}
}

// Every position ignored: mean is 0 (not NaN), sum is 0, none is all zeros.
func TestAllIgnored(t *testing.T) {
	ig := int64(-100)
	logits, shape, _, w := randomProblem(3, 3, 4, 2, 2)
	labels := []int64{-100, -100, -100, -100, -100, -100}
	for _, loss := range Losses {
		for _, red := range []Reduction{Mean, Sum, None} {
			l, _ := mustReference(t, withCounts(Spec{Loss: loss, Weights: w, Gamma: 2, Alpha: 0.25, Reduction: red, IgnoreIndex: &ig}, shape[1]), logits, shape, labels, nil)
			for i, v := range l {
				if v != 0 {
					t.Errorf("%s %s [%d] = %v, want 0", loss, red, i, v)
				}
			}
		}
	}
	// Zero weight on every labelled class: weighted_ce's mean is 0/0 too.
	l, _ := mustReference(t, Spec{Loss: WeightedCE, Weights: []float64{0, 1, 1, 1}, Reduction: Mean}, logits, shape, []int64{0, 0, 0, 0, 0, 0}, nil)
	if l[0] != 0 {
		t.Errorf("zero-weight mean = %v, want 0", l[0])
	}
}

// Some positions ignored: they contribute 0 and are out of the denominator.
func TestIgnoreSome(t *testing.T) {
	ig := int64(255)
	logits, shape, labels, w := randomProblem(4, 5, 3, 4, 2)
	keep := make([]bool, len(labels))
	masked := append([]int64(nil), labels...)
	for i := range masked {
		keep[i] = i%3 != 0
		if !keep[i] {
			masked[i] = ig
		}
	}
	for _, loss := range Losses {
		if registry[loss].batch != nil {
			continue // not a sum over positions: TestRegionIgnore
		}
		spec := withCounts(Spec{Loss: loss, Weights: w, Gamma: 2, Alpha: 0.25, Reduction: None, IgnoreIndex: &ig}, shape[1])
		full, _ := mustReference(t, spec, logits, shape, labels, nil)
		part, _ := mustReference(t, spec, logits, shape, masked, nil)
		per := len(part) / len(labels) // 1, or C for sigmoid_focal
		var sum float64
		var den float64
		for i, v := range part {
			p := i
			if per > 1 { // (N, C, inner) element → position
				p = (i/(per*4))*4 + i%4
			}
			if keep[p] && v != full[i] || !keep[p] && v != 0 {
				t.Fatalf("%s [%d] = %v, full %v, kept %v", loss, i, v, full[i], keep[p])
			}
			sum += v
		}
		for i, k := range keep {
			if k {
				if loss == WeightedCE || loss == LDAM || loss == Poly1 {
					den += w[labels[i]]
				} else {
					den += float64(per)
				}
			}
		}
		spec.Reduction = Mean
		mean, _ := mustReference(t, spec, logits, shape, masked, nil)
		if !closeTo(mean[0], sum/den, 1e-13, 0) {
			t.Errorf("%s mean %v, want %v", loss, mean[0], sum/den)
		}
	}
}

// Logits of ±1e4 (and ±88) must give finite losses for every loss and reduction.
func TestExtremeLogitsFinite(t *testing.T) {
	for _, mag := range []float64{88, 1e4, 1e15} {
		r := rand.New(rand.NewPCG(uint64(mag), 1))
		logits := make([]float64, 6*5)
		targets := make([]float64, len(logits))
		for i := range logits {
			logits[i] = mag
			if r.IntN(2) == 0 {
				logits[i] = -mag
			}
			targets[i] = float64(r.IntN(2))
		}
		labels := []int64{0, 1, 2, 3, 4, 0}
		w := []float64{0.5, 1, 2, 0.1, 1.4}
		for _, loss := range Losses {
			for _, red := range []Reduction{Mean, Sum, None} {
				for _, gamma := range []float64{0, 2, 5} {
					spec := withCounts(Spec{Loss: loss, Weights: w, Gamma: gamma, Alpha: 0.25, Reduction: red, LabelSmoothing: 0}, 5)
					if loss == WeightedCE {
						spec.LabelSmoothing = 0.1
					}
					check := func(l []float64, what string) {
						for i, v := range l {
							if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
								t.Errorf("±%g %s %s γ=%v %s [%d] = %v", mag, loss, red, gamma, what, i, v)
							}
						}
					}
					l, _ := mustReference(t, spec, logits, []int{6, 5}, labels, nil)
					check(l, "index")
					if loss.IsSigmoid() {
						spec.MultiHot = true
						l, _ = mustReference(t, spec, logits, []int{6, 5}, nil, targets)
						check(l, "multi-hot")
					}
				}
			}
		}
	}
	// A confidently wrong logit of 1e4 costs about 2e4 (softmax) or 1e4 (BCE).
	l, _ := mustReference(t, Spec{Loss: CBSoftmax, Reduction: Sum}, []float64{1e4, -1e4}, []int{1, 2}, []int64{1}, nil)
	if l[0] != 2e4 {
		t.Errorf("cb_softmax at ±1e4 = %v, want 2e4", l[0])
	}
	l, _ = mustReference(t, Spec{Loss: CBSigmoid, Reduction: Sum}, []float64{1e4, -1e4}, []int{1, 2}, []int64{1}, nil)
	if l[0] != 2e4 {
		t.Errorf("cb_sigmoid at ±1e4 = %v, want 2e4", l[0])
	}
}

func TestReferenceErrors(t *testing.T) {
	ig := int64(-1)
	ok := Spec{Loss: WeightedCE, Reduction: Mean}
	tests := []struct {
		name    string
		spec    Spec
		logits  []float64
		shape   []int
		labels  []int64
		targets []float64
		want    string
	}{
		{"rank 1", ok, []float64{1, 2}, []int{2}, []int64{0}, nil, "rank >= 2"},
		{"size mismatch", ok, []float64{1, 2, 3}, []int{1, 2}, []int64{0}, nil, "logits have 3 values but shape [1 2] needs 2"},
		{"negative dim", ok, nil, []int{-1, 2}, nil, nil, "negative dimension"},
		{"no classes", ok, nil, []int{1, 0}, []int64{0}, nil, "no classes"},
		{"labels length", ok, []float64{1, 2}, []int{1, 2}, []int64{0, 1}, nil, "labels have 2 values but shape [1] needs 1"},
		{"label out of range", ok, []float64{1, 2}, []int{1, 2}, []int64{2}, nil, "label 2 at position 0 is out of range: use 0..1"},
		{"negative label not ignored", Spec{Loss: Focal, Reduction: Mean, IgnoreIndex: &ig}, []float64{1, 2}, []int{1, 2}, []int64{-2}, nil, "label -2 at position 0 is out of range"},
		{"weights length", Spec{Loss: Focal, Reduction: Mean, Weights: []float64{1}}, []float64{1, 2}, []int{1, 2}, []int64{0}, nil, "1 class weights for 2 classes"},
		{"NaN logit", ok, []float64{1, math.NaN()}, []int{1, 2}, []int64{0}, nil, "logit 1 is NaN"},
		{"targets length", Spec{Loss: CBSigmoid, Reduction: Mean, MultiHot: true}, []float64{1, 2}, []int{1, 2}, nil, []float64{1}, "multi-hot targets have 1 values"},
		{"target out of [0,1]", Spec{Loss: CBSigmoid, Reduction: Mean, MultiHot: true}, []float64{1, 2}, []int{1, 2}, nil, []float64{1, 2}, "multi-hot target 1 is 2"},
		{"multi-hot softmax", Spec{Loss: Focal, Reduction: Mean, MultiHot: true}, []float64{1, 2}, []int{1, 2}, nil, []float64{1, 0}, "multi-hot targets need a sigmoid loss"},
		{"bad gamma", Spec{Loss: Focal, Reduction: Mean, Gamma: -1}, []float64{1, 2}, []int{1, 2}, []int64{0}, nil, "gamma -1 is invalid"},
		{"bad reduction", Spec{Loss: Focal, Reduction: "avg"}, []float64{1, 2}, []int{1, 2}, []int64{0}, nil, `unknown reduction "avg"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Reference(tt.spec, tt.logits, tt.shape, tt.labels, tt.targets)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestReferenceShapes(t *testing.T) {
	logits, shape, labels, _ := randomProblem(9, 2, 3, 4, 1)
	for _, loss := range Losses {
		for _, red := range []Reduction{Mean, Sum, None} {
			l, s := mustReference(t, withCounts(Spec{Loss: loss, Gamma: 2, Alpha: 0.25, Reduction: red}, shape[1]), logits, shape, labels, nil)
			want := []int{}
			switch {
			case red != None:
			case registry[loss].PerElement:
				want = shape
			case loss == GeneralizedDice: // one value per sample
				want = []int{shape[0]}
			case registry[loss].batch != nil: // region losses: one value per class
				want = []int{shape[1]}
			default:
				want = []int{2, 4}
			}
			if !reflect.DeepEqual(s, want) {
				t.Errorf("%s %s: shape %v, want %v", loss, red, s, want)
			}
			n := 1
			for _, d := range want {
				n *= d
			}
			if len(l) != n {
				t.Errorf("%s %s: %d values for shape %v", loss, red, len(l), want)
			}
		}
	}
	// Empty batch: mean 0, sum 0, none empty.
	l, s := mustReference(t, Spec{Loss: CBFocal, Gamma: 2, Reduction: Mean}, nil, []int{0, 3}, nil, nil)
	if l[0] != 0 || len(s) != 0 {
		t.Errorf("empty batch mean = %v %v", l, s)
	}
}

// Region losses (dice, tversky): an ignored position is the same as a
// position that is not there, for every reduction and with class weights.
func TestRegionIgnore(t *testing.T) {
	ig := int64(255)
	r := rand.New(rand.NewPCG(15, 3))
	const n, c = 12, 4
	logits := make([]float64, n*c)
	for i := range logits {
		logits[i] = r.NormFloat64() * 3
	}
	labels := make([]int64, n)
	var keptLogits []float64
	var keptLabels []int64
	for i := range labels {
		labels[i] = int64(r.IntN(c))
		if i%3 == 0 {
			labels[i] = ig
			continue
		}
		keptLogits = append(keptLogits, logits[i*c:(i+1)*c]...)
		keptLabels = append(keptLabels, labels[i])
	}
	for _, loss := range Losses {
		if registry[loss].batch == nil || loss == GeneralizedDice {
			continue // generalized_dice is per sample: rows are samples here
		}
		for _, red := range []Reduction{Mean, Sum, None} {
			spec := Spec{Loss: loss, Weights: []float64{0.5, 1, 2, 0.5}, Gamma: 1, Alpha: 0.3, TverskyBeta: 0.7, Smooth: 0.5, Reduction: red}
			want, _ := mustReference(t, spec, keptLogits, []int{len(keptLabels), c}, keptLabels, nil)
			spec.IgnoreIndex = &ig
			got, _ := mustReference(t, spec, logits, []int{n, c}, labels, nil)
			for i := range want {
				if !closeTo(got[i], want[i], 1e-14, 0) {
					t.Errorf("%s %s [%d] = %v with ignored positions, %v without them", loss, red, i, got[i], want[i])
				}
			}
		}
	}
}
