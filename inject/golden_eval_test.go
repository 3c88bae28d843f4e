package inject_test

import (
	"math"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/internal/goldens"
	"github.com/onnxloss/onnxloss/tensorfile"
	"github.com/onnxloss/onnxloss/verify/eval"
)

// evalFeeds returns the Go evaluator's inputs of a golden case.
func evalFeeds(c goldens.Case) map[string]*eval.Tensor {
	shape := func(s []int) []int64 {
		out := make([]int64, len(s))
		for i, d := range s {
			out[i] = int64(d)
		}
		return out
	}
	in := map[string]*eval.Tensor{}
	xs := shape(c.Logits.Shape)
	switch c.LogitsDtype {
	case "float64":
		in["scores"] = eval.NewFloat64(xs, c.Logits.Data)
	case "float16":
		bits := make([]uint16, len(c.Logits.Data))
		for i, v := range c.Logits.Data {
			bits[i] = uint16(tensorfile.Float16FromFloat32(float32(v)))
		}
		in["scores"] = eval.NewFloat16(xs, bits)
	default: // float32, and bfloat16 fed as float32 and Cast by the host model
		f := make([]float32, len(c.Logits.Data))
		for i, v := range c.Logits.Data {
			f[i] = float32(v)
		}
		in["scores"] = eval.NewFloat32(xs, f)
	}
	ys := shape(c.Labels.Shape)
	switch {
	case c.MultiHot():
		f := make([]float32, len(c.Labels.Data))
		for i, v := range c.Labels.Data {
			f[i] = float32(v)
		}
		in["labels"] = eval.NewFloat32(ys, f)
	case c.LabelsDtype == "int32":
		l := make([]int32, len(c.Labels.Data))
		for i, v := range c.Labels.Data {
			l[i] = int32(v)
		}
		in["labels"] = eval.NewInt32(ys, l)
	default:
		l := make([]int64, len(c.Labels.Data))
		for i, v := range c.Labels.Data {
			l[i] = int64(v)
		}
		in["labels"] = eval.NewInt64(ys, l)
	}
	return in
}

// TestInjectedLossMatchesPyTorchInGoEvaluator runs every golden case through
// inject and onnxloss's own evaluator (verify/eval) with the tolerance of
// the ONNX Runtime test: rtol 1e-5, atol 1e-6.
func TestInjectedLossMatchesPyTorchInGoEvaluator(t *testing.T) {
	for _, ic := range injectGoldens(t, t.TempDir()) {
		c := ic.Case
		t.Run(c.Name, func(t *testing.T) {
			m, err := graphedit.Load(ic.Path)
			if err != nil {
				t.Fatal(err)
			}
			out, err := eval.Run(m.Proto, "", evalFeeds(c), []string{"loss"})
			if err != nil {
				t.Fatalf("evaluator: %v", err)
			}
			got := out["loss"].AsFloat64()
			if len(got) != len(c.Expected.Data) {
				t.Fatalf("%d loss values, PyTorch %d", len(got), len(c.Expected.Data))
			}
			for j, want := range c.Expected.Data {
				if !closeTo(got[j], want, 1e-5, 1e-6) {
					t.Errorf("loss[%d] = %.9g, PyTorch %.9g (rel err %.2e)", j, got[j], want, math.Abs(got[j]-want)/math.Abs(want))
				}
			}
		})
	}
}
