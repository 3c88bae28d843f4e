package eval

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/internal/refs"
)

// TestOpsDocFresh fails when docs/OPS.md differs from what genops would write.
func TestOpsDocFresh(t *testing.T) {
	dir := refs.NodeTestsDir(t)
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join(root, "docs", "OPS.md"))
	if err != nil {
		t.Fatalf("docs/OPS.md: %v (run: go run ./verify/eval/cmd/genops)", err)
	}
	if !bytes.Contains(committed, []byte("Node tests: "+NodeTestsLabel(dir)+",")) {
		t.Skipf("docs/OPS.md was generated from other node tests than %s (%s)", dir, NodeTestsLabel(dir))
	}
	want, err := OpsMarkdown(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, want) {
		gl, wl := strings.Split(string(committed), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("docs/OPS.md is stale (line %d: %q, want %q); run: go run ./verify/eval/cmd/genops", i+1, g, w)
			}
		}
	}
}
