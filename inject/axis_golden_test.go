package inject_test

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/internal/goldens"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/verify"
	"github.com/onnxloss/onnxloss/verify/eval"
)

// axisInjected is one case of testdata/goldens/axis.json injected and saved.
type axisInjected struct {
	c    goldens.Case
	path string
	meta *inject.Metadata
	// feeds are the ONNX Runtime inputs: the host model's scores and labels,
	// or a real model's inputs and the labels.
	feeds map[string]refs.Tensor
}

// injectAxisGoldens injects every case of axis.json: host cases into the
// Identity host model (at the case's opset, 11–23), model cases into their
// real model from testdata/models.
func injectAxisGoldens(t *testing.T, dir string) []axisInjected {
	t.Helper()
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	a, err := goldens.LoadAxis(root)
	if err != nil {
		t.Fatalf("reading axis goldens (regenerate with /usr/bin/python3 scripts/gen-axis-goldens.py): %v", err)
	}
	var host []goldens.Case
	var out []axisInjected
	for i, c := range a.Cases {
		if c.Model == "" {
			host = append(host, c)
			continue
		}
		path := filepath.Join(dir, fmt.Sprintf("model%03d.onnx", i))
		md, err := goldens.InjectModelCase(root, c, path)
		if err != nil {
			t.Fatal(err)
		}
		feeds := a.InputSets[c.InputSet].ORTFeeds()
		feeds[md.Labels] = c.LabelFeed()
		out = append(out, axisInjected{c: c, path: path, meta: md, feeds: feeds})
	}
	hosted, err := goldens.InjectAll(host, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hosted {
		out = append(out, axisInjected{c: h.Case, path: h.Path, meta: h.Meta, feeds: h.Case.ORTFeeds()})
	}
	if len(out) < 300 {
		t.Fatalf("%d axis golden cases, want >= 300", len(out))
	}
	return out
}

// TestClassAxisGoldensInORT checks every loss × reduction × ignore_index
// (none, -100), multi-hot targets, the float dtypes, int32 labels and the
// opsets 11–23 on class-last logits, and the dense-detection cases, against
// PyTorch/torchvision (scripts/gen-axis-goldens.py): the injected model in
// ONNX Runtime 1.30 at rtol 1e-5, atol 1e-6 (float32 through the real
// model's forward pass and the loss: the forward's rounding moves the loss
// by ~1e-7 relative), and lossops' float64 closed form on torch's logits at
// 1e-9 relative (both float64; only summation order differs). The real
// models are run at two sequence lengths / feature-map sizes from one file,
// so their dynamic dims are really dynamic. Host cases also run in the Go
// evaluator against ONNX Runtime.
func TestClassAxisGoldensInORT(t *testing.T) {
	refs.ORTHarness(t)
	cases := injectAxisGoldens(t, t.TempDir())
	jobs := make([]refs.Job, len(cases))
	for i, ic := range cases {
		jobs[i] = refs.Job{Model: ic.path, Inputs: ic.feeds, Outputs: []string{"loss"}}
	}
	results := refs.RunORT(t, jobs)
	kinds := map[string]int{}
	for i, ic := range cases {
		c := ic.c
		kinds[strings.SplitN(c.Name, "/", 2)[0]]++
		t.Run(c.Name, func(t *testing.T) {
			r := results[i]
			if r.Error != "" {
				t.Fatalf("ONNX Runtime: %s", r.Error)
			}
			loss := r.Outputs["loss"]
			if fmt.Sprint(loss.Dims) != fmt.Sprint(c.Expected.Shape) && !(len(loss.Dims) == 0 && len(c.Expected.Shape) == 0) {
				t.Fatalf("loss shape %v, PyTorch %v", loss.Dims, c.Expected.Shape)
			}
			got, err := loss.Floats()
			if err != nil {
				t.Fatal(err)
			}
			for j, want := range c.Expected.Data {
				if !closeTo(got[j], want, 1e-5, 1e-6) {
					t.Errorf("ORT loss[%d] = %.9g, PyTorch %.9g (rel err %.2e)", j, got[j], want, math.Abs(got[j]-want)/math.Abs(want))
				}
			}
			labels, targets := caseLabels(c)
			closed, _, err := lossops.Reference(ic.meta.Spec(), c.Logits.Data, c.Logits.Shape, labels, targets)
			if err != nil {
				t.Fatalf("closed form: %v", err)
			}
			for j, want := range c.Expected.Data {
				if !closeTo(closed[j], want, 1e-9, 1e-12) {
					t.Errorf("closed form loss[%d] = %.15g, PyTorch %.15g", j, closed[j], want)
				}
			}
			if c.ClassAxis == nil && ic.meta.Axis() != 2 {
				t.Errorf("inject chose class axis %d, want 2 (the only static axis of size C)", ic.meta.Axis())
			}
			if c.Model == "" {
				m, err := graphedit.Load(ic.path)
				if err != nil {
					t.Fatal(err)
				}
				out, err := eval.Run(m.Proto, "", evalFeeds(c), []string{"loss"})
				if err != nil {
					t.Fatalf("evaluator: %v", err)
				}
				tol := verify.RoundingTolerance(verify.Tolerance{RTol: 1e-5, ATol: 1e-6}, ic.meta.Spec(), c.LogitsDtype, c.Logits.Data)
				for j, v := range out["loss"].AsFloat64() {
					if !closeTo(v, got[j], tol.RTol, tol.ATol) {
						t.Errorf("evaluator loss[%d] = %.9g, ONNX Runtime %.9g", j, v, got[j])
					}
				}
			}
		})
	}
	t.Logf("cases by kind: %v", kinds)
}

// caseLabels splits a golden's labels into index labels or multi-hot targets.
func caseLabels(c goldens.Case) ([]int64, []float64) {
	if c.MultiHot() {
		return nil, c.Labels.Data
	}
	labels := make([]int64, len(c.Labels.Data))
	for i, v := range c.Labels.Data {
		labels[i] = int64(v)
	}
	return labels, nil
}

// TestClassAxisLabelsKeepSymbolicDims checks that the labels input of the
// real class-last models is the logits' shape without the class axis, with
// the exporter's symbolic dims copied: (N, T) for the token classifier's
// (N, T, 7), (N, A) for the detection head's (N, A, ?).
func TestClassAxisLabelsKeepSymbolicDims(t *testing.T) {
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		model string
		axis  *int
		want  string
	}{
		{"token_cls_o17.onnx", nil, "[N T]"},
		{"det_head_o13.onnx", ptrInt(-1), "[N A]"},
		{"segnet_nhwc_o13.onnx", nil, "[N H W]"},
		{"seq_conv1d_o13.onnx", nil, "[N L]"},
	} {
		m, err := graphedit.Load(filepath.Join(root, "testdata", "models", tc.model))
		if err != nil {
			t.Fatal(err)
		}
		C := 7
		switch tc.model {
		case "det_head_o13.onnx":
			C = 5
		case "segnet_nhwc_o13.onnx":
			C = 4
		case "seq_conv1d_o13.onnx":
			C = 6
		}
		counts := make([]float64, C)
		for i := range counts {
			counts[i] = float64(10 + i)
		}
		if _, err := inject.Inject(m, inject.Options{Loss: lossops.CBFocal, Counts: &lossops.Counts{Values: counts}, Beta: 0.99, Gamma: 2, Normalize: true, ClassAxis: tc.axis}); err != nil {
			t.Fatalf("%s: %v", tc.model, err)
		}
		vt, ok := m.ValueType("labels")
		if !ok {
			t.Fatalf("%s: no labels input", tc.model)
		}
		var dims []string
		for _, d := range vt.Shape {
			dims = append(dims, d.String())
		}
		if got := fmt.Sprint(dims); got != tc.want {
			t.Errorf("%s: labels shape %s, want %s", tc.model, got, tc.want)
		}
	}
}

func ptrInt(v int) *int { return &v }

// TestClassAxisGoldensGradientOps walks every injected axis golden (class
// last, detection, foreground, background, every opset) like
// TestEmittedOpsHaveGradients.
func TestClassAxisGoldensGradientOps(t *testing.T) {
	for _, ic := range injectAxisGoldens(t, t.TempDir()) {
		m, err := graphedit.Load(ic.path)
		if err != nil {
			t.Fatal(err)
		}
		checkGradientOps(t, ic.c.Name, m, ic.meta.Logits, ic.meta.LossOutput)
	}
}
