package eval

import (
	"fmt"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/internal/refs"
)

// legacyBFloat16Rounding reports a float→bfloat16 cast test whose expected
// output comes from ONNX <= 1.12 (stored as UINT16 bits).
func legacyBFloat16Rounding(name string, sets []*DataSet) bool {
	if !strings.Contains(name, "_to_BFLOAT16") {
		return false
	}
	for _, ds := range sets {
		if ds.LegacyBFloat16 {
			return true
		}
	}
	return false
}

func TestConformance(t *testing.T) {
	dir := refs.NodeTestsDir(t)
	tests, err := LoadNodeTests(dir)
	if err != nil {
		t.Fatal(err)
	}
	run, failed, compared := 0, 0, 0
	for _, nt := range tests {
		if nt.Skip != "" {
			continue
		}
		sets, err := nt.DataSets()
		if err != nil {
			t.Fatalf("%s: %v", nt.Name, err)
		}
		if legacyBFloat16Rounding(nt.Name, sets) {
			// ONNX <= 1.12 (Debian's libonnx-testdata) computed float →
			// bfloat16 by truncation; the Cast spec since 1.13, ONNX
			// Runtime and this evaluator round to nearest even.
			t.Logf("%s: skipped: its data truncates float to bfloat16 (ONNX <= 1.12), the spec rounds to nearest even", nt.Name)
			continue
		}
		run++
		ok := t.Run(nt.Name, func(t *testing.T) {
			sess, err := NewSession(nt.Model, nt.Dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, ds := range sets {
				got, err := sess.Run(ds.Inputs, ds.Outputs)
				if err != nil {
					t.Fatalf("%s: %v", ds.Name, err)
				}
				for i, name := range ds.Outputs {
					compared++
					if msg := Compare(got[name], ds.Want[i], 1e-3, 1e-7); msg != "" {
						t.Errorf("%s: output %d (%q): %s", ds.Name, i, name, msg)
					}
				}
			}
		})
		if !ok {
			failed++
		}
	}
	if failed == 0 {
		t.Logf("%d outputs compared", compared)
		t.Logf("%d of %d node tests run, all passed", run, len(tests))
		fmt.Printf("%d of %d node tests run, all passed\n", run, len(tests))
	} else {
		t.Errorf("%d of %d node tests run, %d failed", run, len(tests), failed)
	}
}
