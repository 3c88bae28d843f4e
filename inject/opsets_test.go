package inject_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/internal/goldens"
	"github.com/onnxloss/onnxloss/internal/refs"
)

// TestEveryOpset re-hosts a spread of golden cases (every loss, N-D logits,
// ignore_index, label smoothing, multi-hot, each reduction) at every default
// opset from 11 to 23 and checks the loss in ONNX Runtime 1.30 against
// PyTorch (rtol 1e-5, atol 1e-6): inject must emit each op in the form that
// opset wants without touching opset_import.
func TestEveryOpset(t *testing.T) {
	refs.ORTHarness(t)
	cases := goldens.ForTest(t)
	// One case per loss × reduction, preferring N-D logits and ignore_index.
	picked := map[string]goldens.Case{}
	for _, c := range cases {
		if c.LogitsDtype == "bfloat16" {
			continue // bfloat16 Cast needs opset 13
		}
		key := c.Loss + "/" + c.Reduction
		old, seen := picked[key]
		score := func(c goldens.Case) int {
			s := 0
			if len(c.Logits.Shape) > 2 {
				s += 2
			}
			if c.IgnoreIndex != nil || c.MultiHot() || c.LabelSmoothing > 0 {
				s++
			}
			return s
		}
		if !seen || score(c) > score(old) {
			picked[key] = c
		}
	}
	var chosen []goldens.Case
	for opset := int64(11); opset <= 23; opset++ {
		for _, c := range picked {
			c.Opset = opset
			c.Name = fmt.Sprintf("opset%d/%s", opset, c.Name)
			chosen = append(chosen, c)
		}
	}
	injected, err := goldens.InjectAll(chosen, t.TempDir())
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
			m, err := graphedit.Load(ic.Path)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.DefaultDomainOpset(); got != c.Opset || len(m.Proto.GetOpsetImport()) != 1 || m.Proto.GetIrVersion() != goldens.IRVersion(c.Opset) {
				t.Fatalf("opset_import/ir_version changed: opset %d, %d imports, IR %d", got, len(m.Proto.GetOpsetImport()), m.Proto.GetIrVersion())
			}
			if results[i].Error != "" {
				t.Fatalf("ONNX Runtime (%s): %s", filepath.Base(ic.Path), results[i].Error)
			}
			got, err := results[i].Outputs["loss"].Floats()
			if err != nil {
				t.Fatal(err)
			}
			for j, want := range c.Expected.Data {
				if !closeTo(got[j], want, 1e-5, 1e-6) {
					t.Errorf("loss[%d] = %.9g, PyTorch %.9g", j, got[j], want)
				}
			}
		})
	}
	t.Logf("%d models over opsets 11-23", len(injected))
}
