package main

import (
	"path/filepath"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/verify"
)

// TestLargeModelGradients builds step models of torchvision's
// mobilenet_v3_small and of deeplabv3_mobilenet_v3_large with its aux head
// (torchvision's segmentation recipe: out + 0.5 aux, ignore_index 255),
// exported at test time, and checks them with verify's float64 finite
// differences on a few parameters at the start, middle and end of each
// network (each difference is two forward passes of the whole model).
func TestLargeModelGradients(t *testing.T) {
	dir := largeModels(t)
	work := t.TempDir()
	cases := []struct {
		model string
		args  []string
	}{
		{"mobilenet_v3_small_o13.onnx", []string{"--loss", "focal", "--counts", countsFile(t, work, 10)}},
		{"deeplabv3_mbv3_o13.onnx", []string{"--loss", "weighted_ce", "--weighting", "none", "--ignore-index", "255",
			"--counts", countsFile(t, work, 5), "--logits", "out,aux", "--head-weights", "1,0.5"}},
	}
	for _, c := range cases {
		t.Run(c.model, func(t *testing.T) {
			train := filepath.Join(work, c.model+".train.onnx")
			args := append([]string{"inject"}, c.args...)
			if code, _, stderr := runBinary(t, append(args, "-o", train, filepath.Join(dir, c.model))...); code != 0 {
				t.Fatalf("inject: %s", stderr)
			}
			step := filepath.Join(work, c.model+".step.onnx")
			if code, _, stderr := runBinary(t, "step", "--optimizer", "none", "-o", step, train); code != 0 {
				t.Fatalf("step: %s", stderr)
			}
			m, err := graphedit.Load(step)
			if err != nil {
				t.Fatal(err)
			}
			var params []string
			for _, o := range m.Graph().GetOutput()[1:] {
				params = append(params, o.GetName()[:len(o.GetName())-len("_grad")])
			}
			pick := []string{params[0], params[len(params)/2], params[len(params)-1]}
			rep, err := verify.StepGradients(m, step, verify.StepOptions{Tolerance: verify.Tolerance{RTol: 1e-4, ATol: 1e-6}, Seed: 1, Samples: 3, Params: pick})
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range rep.Checks {
				if !ch.Pass {
					t.Errorf("%s: %s: max abs err %.3g (got %.9g, want %.9g)", ch.Output, ch.Name, ch.MaxAbsErr, ch.WorstGot, ch.WorstWant)
				}
			}
			if len(rep.Checks) != 2*len(pick) {
				t.Fatalf("%d checks for %d parameters", len(rep.Checks), len(pick))
			}
		})
	}
}
