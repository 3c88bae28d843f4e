package lossops_test

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/onnxloss/onnxloss/internal/goldens"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/lossops"
)

func loadGoldens(t *testing.T) []goldens.Case {
	t.Helper()
	cases := goldens.ForTest(t)
	if len(cases) < 70 {
		t.Fatalf("%d golden cases, want >= 70", len(cases))
	}
	return cases
}

// goldenSpec returns the lossops.Spec of a golden case, with PyTorch's weights, and
// its labels or targets.
func goldenSpec(t *testing.T, g goldens.Case) (lossops.Spec, []int64, []float64) {
	t.Helper()
	loss, err := lossops.ParseLoss(g.Loss)
	if err != nil {
		t.Fatal(err)
	}
	red, err := lossops.ParseReduction(g.Reduction)
	if err != nil {
		t.Fatal(err)
	}
	s := lossops.Spec{
		Loss:           loss,
		Weights:        g.Weights,
		Gamma:          g.Gamma,
		Alpha:          g.Alpha,
		Reduction:      red,
		IgnoreIndex:    g.IgnoreIndex,
		LabelSmoothing: g.LabelSmoothing,
		MultiHot:       g.MultiHot(),
	}
	if loss.FromCounts() {
		s.Counts, s.SkipZero = g.Counts, g.ZeroCounts == "skip"
		s.Tau, s.MaxMargin, s.Scale = g.Tau, g.MaxMargin, g.Scale
	}
	if s.MultiHot {
		return s, nil, g.Labels.Data
	}
	labels := make([]int64, len(g.Labels.Data))
	for i, v := range g.Labels.Data {
		labels[i] = int64(v)
		if float64(labels[i]) != v {
			t.Fatalf("label %d is %v, not an integer", i, v)
		}
	}
	return s, labels, nil
}

// Tolerances against the goldens: 1e-9 relative, plus 1e-12 absolute. The
// absolute part is for values near 0 (a confidently right position, a
// modulated element, an all-ignored mean): there torch evaluates 1 - p and
// log(1 + e^-x) with cancellation, so its answer is right to ~1e-16
// absolutely but not relatively, and a purely relative test would compare
// rounding noise.
const (
	goldenRtol = 1e-9
	goldenAtol = 1e-12
)

func TestReferenceGoldens(t *testing.T) {
	for _, g := range loadGoldens(t) {
		t.Run(g.Name, func(t *testing.T) {
			spec, labels, targets := goldenSpec(t, g)
			got, shape, err := lossops.Reference(spec, g.Logits.Data, g.Logits.Shape, labels, targets)
			if err != nil {
				t.Fatalf("Reference: %v", err)
			}
			wantShape := g.Expected.Shape
			if wantShape == nil {
				wantShape = []int{}
			}
			if !reflect.DeepEqual(shape, wantShape) {
				t.Fatalf("loss shape %v, want %v", shape, wantShape)
			}
			if len(got) != len(g.Expected.Data) {
				t.Fatalf("%d loss values, want %d", len(got), len(g.Expected.Data))
			}
			for i, want := range g.Expected.Data {
				if !closeTo(got[i], want, goldenRtol, goldenAtol) {
					t.Errorf("loss[%d] = %.17g, want %.17g (rel err %.3g)", i, got[i], want, math.Abs(got[i]-want)/math.Abs(want))
				}
			}
		})
	}
}

func TestClassWeightsGoldens(t *testing.T) {
	for _, g := range loadGoldens(t) {
		t.Run(g.Name, func(t *testing.T) {
			scheme, err := lossops.ParseWeighting(g.Weighting)
			if err != nil {
				t.Fatal(err)
			}
			cfg := lossops.WeightConfig{Scheme: scheme, Beta: g.Beta, Normalize: g.Normalize, SkipZero: g.ZeroCounts == "skip"}
			got, err := lossops.ClassWeightsNamed(g.Counts, g.Classes, cfg)
			if err != nil {
				t.Fatalf("ClassWeights: %v", err)
			}
			want := g.Weights
			if want == nil { // weighting none: no weights, i.e. all ones
				want = make([]float64, len(g.Counts))
				for i := range want {
					want[i] = 1
					if g.Counts[i] == 0 && cfg.SkipZero { // skipped class: weight 0
						want[i] = 0
					}
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%d weights, want %d", len(got), len(want))
			}
			for c := range want {
				if !closeTo(got[c], want[c], 1e-12, 0) {
					t.Errorf("weight[%d] = %.17g, want %.17g", c, got[c], want[c])
				}
			}
		})
	}
}

// TestGoldenCoverage checks that the goldens cover what they promise, so a
// regeneration that silently drops a family fails here.
func TestGoldenCoverage(t *testing.T) {
	seen := map[string]bool{}
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	later, err := goldens.LoadFile(root, goldens.CatalogueFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range later {
		seen["loss/reduction "+g.Loss+"/"+g.Reduction] = true
		seen["targets "+g.Targets+" "+g.Loss] = true
	}
	for _, g := range loadGoldens(t) {
		seen["loss/reduction "+g.Loss+"/"+g.Reduction] = true
		seen["weighting "+g.Weighting] = true
		seen["dtype "+g.LogitsDtype] = true
		seen["labels "+g.LabelsDtype] = true
		seen["targets "+g.Targets+" "+g.Loss] = true
		if g.IgnoreIndex != nil {
			seen["ignore"] = true
		}
		if g.LabelSmoothing != 0 {
			seen["smoothing"] = true
		}
		if len(g.Logits.Shape) == 3 {
			seen["NCL"] = true
		}
		if len(g.Logits.Shape) == 4 {
			seen["NCHW"] = true
		}
		if g.ZeroCounts == "skip" {
			seen["skip "+g.Loss] = true
		}
		if g.Loss == string(lossops.LDAM) && g.Weighting != "none" {
			seen["ldam weighted"] = true
		}
		if g.Loss == string(lossops.LogitAdjusted) && g.Tau != 1 {
			seen["logit_adjusted tau"] = true
		}
		if g.Loss == string(lossops.LDAM) && (g.MaxMargin != lossops.DefaultMaxMargin || g.Scale != lossops.DefaultScale) {
			seen["ldam margin/scale"] = true
		}
		seen[fmtKey("opset", int(g.Opset))] = true
		seen[fmtKey("C", g.Logits.Shape[1])] = true
	}
	var want []string
	for _, l := range lossops.Losses {
		for _, r := range []lossops.Reduction{lossops.Mean, lossops.Sum, lossops.None} {
			want = append(want, "loss/reduction "+string(l)+"/"+string(r))
		}
		if l.AcceptsMultiHot() {
			want = append(want, "targets multi-hot "+string(l))
		}
	}
	for _, w := range lossops.Weightings {
		switch w {
		case lossops.WeightMedianFrequency, lossops.WeightENet, lossops.WeightNegPos:
			// These only derive the weight vector, which the loss then
			// takes like any other; weightings_test.go checks them
			// against NumPy (and labelcounts' tests on PIL-made masks).
			continue
		}
		want = append(want, "weighting "+string(w))
	}
	for _, l := range lossops.Losses {
		if l.FromCounts() {
			want = append(want, "skip "+string(l))
		}
	}
	want = append(want, "ldam weighted", "logit_adjusted tau", "ldam margin/scale")
	want = append(want, "dtype float64", "dtype float32", "dtype float16", "labels int32", "labels int64",
		"ignore", "smoothing", "NCL", "NCHW")
	for _, o := range []int{11, 13, 17, 18, 21} {
		want = append(want, fmtKey("opset", o))
	}
	for _, c := range []int{2, 3, 5, 10, 100} {
		want = append(want, fmtKey("C", c))
	}
	for _, k := range want {
		if !seen[k] {
			t.Errorf("goldens lack %s", k)
		}
	}
}

func fmtKey(k string, v int) string {
	b, _ := json.Marshal(v)
	return k + " " + string(b)
}

// closeTo is |got − want| ≤ atol + rtol·|want|.
func closeTo(got, want, rtol, atol float64) bool {
	return math.Abs(got-want) <= atol+rtol*math.Abs(want)
}
