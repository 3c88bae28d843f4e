package verify_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/internal/goldens"
	"github.com/onnxloss/onnxloss/verify"
)

// TestSyntheticPassesOnEveryGoldenModel runs the metadata-driven check on
// every golden case's injected model (all losses, reductions, dtypes,
// opsets, ignore_index, multi-hot): the evaluator's loss must equal the
// float64 closed form on the same random logits within the default
// tolerance.
func TestSyntheticPassesOnEveryGoldenModel(t *testing.T) {
	cases := goldens.ForTest(t)
	injected, err := goldens.InjectAll(cases, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, ic := range injected {
		t.Run(ic.Case.Name, func(t *testing.T) {
			m, err := graphedit.Load(ic.Path)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := verify.Synthetic(m, ic.Path, verify.SyntheticOptions{Tolerance: verify.DefaultTolerance, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Pass || len(rep.Checks) < 3 {
				var buf bytes.Buffer
				rep.WriteText(&buf)
				t.Fatalf("synthetic check failed:\n%s", buf.String())
			}
		})
	}
}

// TestSyntheticCatchesAWrongLoss changes one class weight inside an injected
// model: the synthetic check must fail.
func TestSyntheticCatchesAWrongLoss(t *testing.T) {
	cases := goldens.ForTest(t)
	var pick []goldens.Case
	for _, c := range cases {
		if c.Loss == "cb_focal" && c.Reduction == "mean" && c.LogitsDtype == "float32" && !c.MultiHot() {
			pick = append(pick, c)
			break
		}
	}
	injected, err := goldens.InjectAll(pick, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m, err := graphedit.Load(injected[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	w := m.Initializer("onnxloss/class_weights")
	if w == nil {
		t.Fatal("no class weights initializer")
	}
	w.RawData[3] ^= 0x01 // perturb the first weight's exponent: ×2 or ÷2
	rep, err := verify.Synthetic(m, "perturbed", verify.SyntheticOptions{Tolerance: verify.DefaultTolerance, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pass {
		t.Fatal("a model with a wrong class weight passed")
	}
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "FAIL loss[0]") || !strings.Contains(buf.String(), "MISMATCH") {
		t.Errorf("report does not name the failing output:\n%s", buf.String())
	}
}
