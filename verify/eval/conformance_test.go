package eval

import (
	"fmt"
	"os"
	"path/filepath"
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
		run++
		ok := t.Run(nt.Name, func(t *testing.T) {
			sets, err := nt.DataSets()
			if err != nil {
				t.Fatal(err)
			}
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
