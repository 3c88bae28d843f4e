package inject_test

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/internal/goldens"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/verify"
	"github.com/onnxloss/onnxloss/verify/eval"
)

// injectGoldens injects every PyTorch golden case into a host model built
// with graphedit at the case's opset and saves it under dir.
func injectGoldens(t *testing.T, dir string) []goldens.Injected {
	t.Helper()
	cases := goldens.ForTest(t)
	if len(cases) < 60 {
		t.Fatalf("%d golden cases, want >= 60", len(cases))
	}
	out, err := goldens.InjectAll(cases, dir)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// closeTo applies the acceptance tolerance |got − want| ≤ atol + rtol·|want|.
func closeTo(got, want, rtol, atol float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	return math.Abs(got-want) <= atol+rtol*math.Abs(want)
}

// TestInjectedLossMatchesPyTorchInORT runs every golden case through
// inject and ONNX Runtime 1.30 and compares the loss output with PyTorch's
// float64 value: rtol 1e-5, atol 1e-6 — ORT computes in float32, whose
// rounding over these few-hundred-element sums stays well below 1e-5. It
// also runs the Go evaluator on each model and compares it with ONNX Runtime
// and with the closed form.
func TestInjectedLossMatchesPyTorchInORT(t *testing.T) {
	refs.ORTHarness(t)
	cases := injectGoldens(t, t.TempDir())
	jobs := make([]refs.Job, len(cases))
	for i, ic := range cases {
		jobs[i] = refs.Job{Model: ic.Path, Inputs: ic.Case.ORTFeeds(), Outputs: []string{"loss"}}
	}
	results := refs.RunORT(t, jobs)
	for i, ic := range cases {
		c := ic.Case
		t.Run(c.Name, func(t *testing.T) {
			r := results[i]
			if r.Error != "" {
				t.Fatalf("ONNX Runtime: %s", r.Error)
			}
			loss, ok := r.Outputs["loss"]
			if !ok {
				t.Fatalf("no loss output")
			}
			if fmt.Sprint(loss.Dims) != fmt.Sprint(c.Expected.Shape) && !(len(loss.Dims) == 0 && len(c.Expected.Shape) == 0) {
				t.Fatalf("loss shape %v, PyTorch %v", loss.Dims, c.Expected.Shape)
			}
			got, err := loss.Floats()
			if err != nil {
				t.Fatal(err)
			}
			for j, want := range c.Expected.Data {
				if !closeTo(got[j], want, 1e-5, 1e-6) {
					t.Errorf("loss[%d] = %.9g, PyTorch %.9g (rel err %.2e)", j, got[j], want, math.Abs(got[j]-want)/math.Abs(want))
				}
			}
			// The Go evaluator on the same model and inputs: equal to ONNX
			// Runtime within 1e-5 relative (both float32, different op
			// orders) and to the float64 closed form within 1e-6 relative,
			// plus the absolute rounding of the scores' magnitude.
			m, err := graphedit.Load(ic.Path)
			if err != nil {
				t.Fatal(err)
			}
			out, err := eval.Run(m.Proto, "", evalFeeds(c), []string{"loss"})
			if err != nil {
				t.Fatalf("evaluator: %v", err)
			}
			ev := out["loss"].AsFloat64()
			var labels []int64
			var targets []float64
			if c.MultiHot() {
				targets = c.Labels.Data
			} else {
				for _, v := range c.Labels.Data {
					labels = append(labels, int64(v))
				}
			}
			closed, _, err := lossops.Reference(ic.Meta.Spec(), c.Logits.Data, c.Logits.Shape, labels, targets)
			if err != nil {
				t.Fatalf("closed form: %v", err)
			}
			tol := verify.RoundingTolerance(verify.Tolerance{RTol: 1e-6, ATol: 1e-7}, ic.Meta.Spec(), c.LogitsDtype, c.Logits.Data)
			for j := range ev {
				if !closeTo(ev[j], got[j], 1e-5, 1e-6) {
					t.Errorf("evaluator loss[%d] = %.9g, ONNX Runtime %.9g", j, ev[j], got[j])
				}
				if !closeTo(ev[j], closed[j], tol.RTol, tol.ATol) {
					t.Errorf("evaluator loss[%d] = %.9g, closed form %.9g (rtol %g, atol %.3g)", j, ev[j], closed[j], tol.RTol, tol.ATol)
				}
			}
			for j, w := range c.Weights {
				if !closeTo(ic.Meta.Weights[j], w, 1e-12, 0) {
					t.Errorf("weight[%d] = %.17g, PyTorch %.17g", j, ic.Meta.Weights[j], w)
				}
			}
		})
	}
}

// TestInjectedModelsPassChecker runs onnx.checker.check_model(full_check=True)
// on every injected golden model whose opset the checker (onnx 1.12) knows.
func TestInjectedModelsPassChecker(t *testing.T) {
	cases := injectGoldens(t, t.TempDir())
	var paths []string
	for _, ic := range cases {
		if ic.Case.Opset <= 17 {
			paths = append(paths, ic.Path)
		}
	}
	if len(paths) < 40 {
		t.Fatalf("only %d models at opset <= 17", len(paths))
	}
	for p, msg := range refs.CheckModels(t, paths) {
		t.Errorf("%s: %s", filepath.Base(p), msg)
	}
}

// TestInjectIsDeterministic checks that the same input and options give
// byte-identical models.
func TestInjectIsDeterministic(t *testing.T) {
	a := injectGoldens(t, t.TempDir())
	b := injectGoldens(t, t.TempDir())
	for i := range a {
		ma, err := graphedit.Load(a[i].Path)
		if err != nil {
			t.Fatal(err)
		}
		mb, err := graphedit.Load(b[i].Path)
		if err != nil {
			t.Fatal(err)
		}
		ba, _ := ma.Marshal()
		bb, _ := mb.Marshal()
		if string(ba) != string(bb) {
			t.Errorf("%s: two injections differ", a[i].Case.Name)
		}
	}
}
