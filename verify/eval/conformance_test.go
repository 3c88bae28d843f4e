package eval

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found")
		}
		dir = parent
	}
}

// nodeTestsDir finds the ONNX node tests: $ONNX_NODE_TESTS, ../shared/onnx-node-tests
// beside the repository, or Debian's libonnx-testdata.
func nodeTestsDir(t testing.TB) string {
	if d := os.Getenv("ONNX_NODE_TESTS"); d != "" {
		if _, err := os.Stat(d); err != nil {
			t.Fatalf("ONNX_NODE_TESTS=%s: %v", d, err)
		}
		return d
	}
	var cands []string
	if root, err := repoRoot(); err == nil {
		cands = append(cands, filepath.Join(root, "..", "shared", "onnx-node-tests"))
	}
	cands = append(cands, "/usr/share/libonnx-testdata/data/node")
	for _, c := range cands {
		if fi, err := os.Stat(c); err == nil && fi.IsDir() {
			return c
		}
	}
	msg := "ONNX node tests not found: set ONNX_NODE_TESTS, put them in ../shared/onnx-node-tests, or apt-get install libonnx-testdata"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

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
	dir := nodeTestsDir(t)
	t.Logf("ONNX node tests from %s", dir)
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
