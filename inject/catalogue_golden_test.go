package inject_test

import (
	"fmt"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/internal/goldens"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/verify/eval"
)

// catalogueGoldens loads testdata/goldens/catalogue.json: the losses added
// to the catalogue later, with values from their reference packages
// (scripts/gen-catalogue-goldens.py). Every such loss must have >= 15 cases.
func catalogueGoldens(t *testing.T) []goldens.Case {
	t.Helper()
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cases, err := goldens.LoadFile(root, goldens.CatalogueFile)
	if err != nil {
		t.Fatalf("reading goldens (regenerate with .venv/bin/python scripts/gen-catalogue-goldens.py): %v", err)
	}
	perLoss := map[string]int{}
	for _, c := range cases {
		perLoss[c.Loss]++
	}
	for l, n := range perLoss {
		if n < 15 {
			t.Errorf("%s has %d golden cases, want >= 15", l, n)
		}
	}
	return cases
}

// TestCatalogueGoldensInORT injects every case into a float32 host model at
// the case's opset, runs it in ONNX Runtime 1.30 and compares with the
// reference package's float64 value at rtol 1e-5, atol 1e-6: ORT computes
// in float32 (unit roundoff 6e-8), and these losses are sums of at most a
// few hundred terms, so float32 rounding stays near 1e-6 relative.
func TestCatalogueGoldensInORT(t *testing.T) {
	refs.ORTHarness(t)
	injected, err := goldens.InjectAll(catalogueGoldens(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	jobs := make([]refs.Job, len(injected))
	for i, ic := range injected {
		jobs[i] = refs.Job{Model: ic.Path, Inputs: ic.Case.ORTFeeds(), Outputs: []string{"loss"}}
	}
	results := refs.RunORT(t, jobs)
	for i, ic := range injected {
		c := ic.Case
		t.Run(c.Name, func(t *testing.T) {
			r := results[i]
			if r.Error != "" {
				t.Fatalf("ONNX Runtime: %s", r.Error)
			}
			loss := r.Outputs["loss"]
			if fmt.Sprint(loss.Dims) != fmt.Sprint(c.Expected.Shape) && !(len(loss.Dims) == 0 && len(c.Expected.Shape) == 0) {
				t.Fatalf("loss shape %v, reference %v", loss.Dims, c.Expected.Shape)
			}
			got, err := loss.Floats()
			if err != nil {
				t.Fatal(err)
			}
			for j, want := range c.Expected.Data {
				if !closeTo(got[j], want, 1e-5, 1e-6) {
					t.Errorf("loss[%d] = %.9g, reference %.9g", j, got[j], want)
				}
			}
		})
	}
}

// TestCatalogueGoldensInEvaluatorAndClosedForm injects every case into a
// float64 host model and runs onnxloss's evaluator on it, and computes
// lossops.Reference from the injected model's metadata; both must equal the
// reference package's float64 value to 1e-9 relative (plus 1e-12 absolute
// for values near 0): everything is float64, so only summation order
// differs. The weights inject computed from the counts must equal the
// script's.
func TestCatalogueGoldensInEvaluatorAndClosedForm(t *testing.T) {
	cases := catalogueGoldens(t)
	for i := range cases {
		cases[i].LogitsDtype = "float64"
	}
	injected, err := goldens.InjectAll(cases, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, ic := range injected {
		c := ic.Case
		t.Run(c.Name, func(t *testing.T) {
			if c.Weights != nil {
				for k, w := range c.Weights {
					if !closeTo(ic.Meta.Weights[k], w, 1e-12, 0) {
						t.Fatalf("weight %d = %v, reference %v", k, ic.Meta.Weights[k], w)
					}
				}
			}
			m, err := graphedit.Load(ic.Path)
			if err != nil {
				t.Fatal(err)
			}
			out, err := eval.Run(m.Proto, "", evalFeeds(c), []string{"loss"})
			if err != nil {
				t.Fatalf("evaluator: %v", err)
			}
			spec := ic.Meta.Spec()
			var labels []int64
			var targets []float64
			if c.MultiHot() {
				targets = c.Labels.Data
			} else {
				for _, v := range c.Labels.Data {
					labels = append(labels, int64(v))
				}
			}
			closed, shape, err := lossops.Reference(spec, c.Logits.Data, c.Logits.Shape, labels, targets)
			if err != nil {
				t.Fatalf("Reference: %v", err)
			}
			if fmt.Sprint(shape) != fmt.Sprint(c.Expected.Shape) && !(len(shape) == 0 && len(c.Expected.Shape) == 0) {
				t.Fatalf("closed form's shape %v, reference %v", shape, c.Expected.Shape)
			}
			got := out["loss"].AsFloat64()
			if len(got) != len(c.Expected.Data) || len(closed) != len(c.Expected.Data) {
				t.Fatalf("%d evaluator values, %d closed-form values, reference %d", len(got), len(closed), len(c.Expected.Data))
			}
			for j, want := range c.Expected.Data {
				if !closeTo(got[j], want, 1e-9, 1e-12) {
					t.Errorf("evaluator loss[%d] = %.17g, reference %.17g", j, got[j], want)
				}
				if !closeTo(closed[j], want, 1e-9, 1e-12) {
					t.Errorf("closed form loss[%d] = %.17g, reference %.17g", j, closed[j], want)
				}
			}
		})
	}
}

// TestCatalogueOpsHaveGradients walks every injected catalogue golden:
// each node on the logits→loss path has an ONNX Runtime training gradient,
// the others are label-side ops (see checkGradientOps).
func TestCatalogueOpsHaveGradients(t *testing.T) {
	injected, err := goldens.InjectAll(catalogueGoldens(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, ic := range injected {
		m, err := graphedit.Load(ic.Path)
		if err != nil {
			t.Fatal(err)
		}
		checkGradientOps(t, ic.Case.Name, m, ic.Meta.Logits, ic.Meta.LossOutput)
	}
}
