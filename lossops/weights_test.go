package lossops

import (
	"math"
	"strings"
	"testing"
)

func TestClassWeights(t *testing.T) {
	tests := []struct {
		name   string
		counts []float64
		cfg    WeightConfig
		want   []float64
	}{
		{"none", []float64{500, 120, 7}, WeightConfig{Scheme: WeightNone}, []float64{1, 1, 1}},
		{"none normalized", []float64{500, 120, 7}, WeightConfig{Scheme: WeightNone, Normalize: true}, []float64{1, 1, 1}},
		{"inverse raw", []float64{4, 2, 1}, WeightConfig{Scheme: WeightInverse}, []float64{0.25, 0.5, 1}},
		{"inverse normalized", []float64{4, 2, 1}, WeightConfig{Scheme: WeightInverse, Normalize: true}, []float64{0.75 / 1.75, 1.5 / 1.75, 3 / 1.75}},
		{"sqrt inverse raw", []float64{4, 1}, WeightConfig{Scheme: WeightSqrtInverse}, []float64{0.5, 1}},
		{"sqrt inverse normalized", []float64{4, 1}, WeightConfig{Scheme: WeightSqrtInverse, Normalize: true}, []float64{2.0 / 3, 4.0 / 3}},
		{"effective beta 0 is ones", []float64{500, 3}, WeightConfig{Scheme: WeightEffective, Beta: 0}, []float64{1, 1}},
		// (1-β)/(1-β^n): n=1 gives 1; n=2 gives 1/(1+β).
		{"effective small n", []float64{1, 2}, WeightConfig{Scheme: WeightEffective, Beta: 0.9}, []float64{1, 1 / 1.9}},
		{"effective beta near 1, n=1", []float64{1}, WeightConfig{Scheme: WeightEffective, Beta: 1 - 1e-15}, []float64{1}},
		// β = 1-h: (1-β)/(1-β^n) = 1/(n - h·n(n-1)/2 + O(h²)) → 1/n.
		{"effective beta near 1 small n", []float64{2, 5}, WeightConfig{Scheme: WeightEffective, Beta: 1 - 0x1p-40}, []float64{1 / (2 - 0x1p-40), 1 / (5 - 10*0x1p-40)}},
		// β^n underflows for n=1e9: the weight is 1-β.
		{"effective n=1e9", []float64{1e9}, WeightConfig{Scheme: WeightEffective, Beta: 0.9999}, []float64{1 - 0.9999}},
		{"effective n=1e9 normalized", []float64{1e9, 1}, WeightConfig{Scheme: WeightEffective, Beta: 0.9999, Normalize: true}, []float64{2 * (1 - 0.9999) / (1 + (1 - 0.9999)), 2 / (1 + (1 - 0.9999))}},
		{"inverse n=1e9 normalized", []float64{1e9, 1}, WeightConfig{Scheme: WeightInverse, Normalize: true}, []float64{2e-9 / (1 + 1e-9), 2 / (1 + 1e-9)}},
		{"skip zero", []float64{4, 0, 1}, WeightConfig{Scheme: WeightInverse, SkipZero: true}, []float64{0.25, 0, 1}},
		// Skipped classes are out of the normalization: the rest sum to 2.
		{"skip zero normalized", []float64{4, 0, 4}, WeightConfig{Scheme: WeightInverse, Normalize: true, SkipZero: true}, []float64{1, 0, 1}},
		{"fractional counts", []float64{0.5, 2}, WeightConfig{Scheme: WeightInverse}, []float64{2, 0.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ClassWeights(tt.counts, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for c := range got {
				if math.IsNaN(got[c]) || math.IsInf(got[c], 0) {
					t.Fatalf("weight %d is %v", c, got[c])
				}
				if !closeTo(got[c], tt.want[c], 1e-12, 0) {
					t.Errorf("weight %d = %.17g, want %.17g", c, got[c], tt.want[c])
				}
			}
		})
	}
}

// TestEffectiveAccuracy compares the stable form with the textbook one where
// the textbook one is accurate (β^n far from 1) and with a series where it
// is not (β near 1, where 1-β^n ≈ n(1-β)).
func TestEffectiveAccuracy(t *testing.T) {
	for _, beta := range []float64{0.1, 0.5, 0.9, 0.99, 0.999} {
		for _, n := range []float64{3, 10, 100, 1000} {
			want := (1 - beta) / (1 - math.Pow(beta, n))
			if got := effectiveWeight(n, beta); !closeTo(got, want, 1e-11, 0) {
				t.Errorf("β=%v n=%v: %v, want %v", beta, n, got, want)
			}
		}
	}
	// β = 1-h, h tiny: (1-β^n)/h = n - h·n(n-1)/2 + O(h²).
	h := 0x1p-40
	for _, n := range []float64{1, 2, 10, 1000} {
		want := 1 / (n - h*n*(n-1)/2)
		if got := effectiveWeight(n, 1-h); !closeTo(got, want, 1e-13, 0) {
			t.Errorf("β=1-2^-40 n=%v: %.17g, want %.17g", n, got, want)
		}
	}
}

func TestClassWeightsErrors(t *testing.T) {
	tests := []struct {
		name   string
		counts []float64
		names  []string
		cfg    WeightConfig
		want   string
	}{
		{"beta 1", []float64{1, 2}, nil, WeightConfig{Scheme: WeightEffective, Beta: 1}, "beta 1 is invalid: use a value in [0, 1)"},
		{"beta negative", []float64{1, 2}, nil, WeightConfig{Scheme: WeightEffective, Beta: -0.5}, "beta -0.5 is invalid"},
		{"beta NaN", []float64{1, 2}, nil, WeightConfig{Scheme: WeightEffective, Beta: math.NaN()}, "beta NaN is invalid"},
		{"unknown scheme", []float64{1}, nil, WeightConfig{Scheme: "log"}, `unknown weighting "log"`},
		{"no counts", nil, nil, WeightConfig{Scheme: WeightInverse}, "no class counts"},
		{"zero count", []float64{5, 0, 2}, nil, WeightConfig{Scheme: WeightInverse}, "class 1 has count 0"},
		{"zero count suggests skip", []float64{5, 0}, nil, WeightConfig{Scheme: WeightEffective, Beta: 0.99}, "--zero-counts skip"},
		{"zero count named", []float64{5, 0}, []string{"cat", "dog"}, WeightConfig{Scheme: WeightInverse}, `class 1 ("dog") has count 0`},
		{"zero count with none", []float64{0, 1}, nil, WeightConfig{Scheme: WeightNone}, "class 0 has count 0"},
		{"all zero skipped", []float64{0, 0}, nil, WeightConfig{Scheme: WeightInverse, SkipZero: true}, "every class has count 0"},
		{"negative", []float64{5, -1}, nil, WeightConfig{Scheme: WeightInverse}, "class 1 has count -1"},
		{"NaN", []float64{math.NaN()}, nil, WeightConfig{Scheme: WeightInverse}, "class 0 has count NaN"},
		{"Inf", []float64{math.Inf(1)}, nil, WeightConfig{Scheme: WeightInverse}, "class 0 has count +Inf"},
		{"names length", []float64{1, 2}, []string{"a"}, WeightConfig{Scheme: WeightInverse}, "1 class names for 2 counts"},
		{"subnormal count", []float64{5e-324}, nil, WeightConfig{Scheme: WeightInverse}, "not a usable number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := ClassWeightsNamed(tt.counts, tt.names, tt.cfg)
			if err == nil {
				t.Fatalf("got %v, want an error containing %q", w, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestCountsClassWeightsNamesClasses(t *testing.T) {
	c := &Counts{Values: []float64{3, 0}, Classes: []string{"cat", "dog"}}
	_, err := c.ClassWeights(WeightConfig{Scheme: WeightInverse})
	if err == nil || !strings.Contains(err.Error(), `"dog"`) {
		t.Errorf("error %v does not name class dog", err)
	}
}

func TestParseWeightingAndDefaults(t *testing.T) {
	for _, w := range Weightings {
		got, err := ParseWeighting(string(w))
		if err != nil || got != w {
			t.Errorf("ParseWeighting(%q) = %q, %v", w, got, err)
		}
	}
	if _, err := ParseWeighting("Inverse"); err == nil || !strings.Contains(err.Error(), "sqrt_inverse") {
		t.Errorf("ParseWeighting(Inverse) error %v should list the valid names", err)
	}
	want := map[Loss]Weighting{
		WeightedCE: WeightInverse, Focal: WeightInverse, SigmoidFocal: WeightNone,
		CBSoftmax: WeightEffective, CBSigmoid: WeightEffective, CBFocal: WeightEffective,
		LogitAdjusted: WeightNone, BalancedSoftmax: WeightNone, LDAM: WeightNone,
		Poly1: WeightNone, Dice: WeightNone, Tversky: WeightNone, ASL: WeightNone, Seesaw: WeightNone, GeneralizedDice: WeightNone, LovaszSoftmax: WeightNone,
	}
	for _, l := range Losses {
		if got := DefaultWeighting(l); got != want[l] {
			t.Errorf("DefaultWeighting(%s) = %s, want %s", l, got, want[l])
		}
	}
}
