package lossops_test

import (
	"os"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/lossops"
)

// TestReadmeLossTable fails when README.md's table of losses is not the one
// the registry generates: the catalogue is the single source of the table.
func TestReadmeLossTable(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- losses table: generated", "<!-- end of losses table -->"
	s := string(readme)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q … %q section", begin, end)
	}
	got := s[i:j]
	got = got[strings.Index(got, "\n")+1:]
	if want := lossops.ReadmeTable(); got != want {
		t.Errorf("README.md's table of losses is stale: run go run ./scripts/readme-losses")
	}
}
