package eval

import (
	"os"
	"testing"

	"github.com/onnxloss/onnxloss/internal/refs"
)

func TestListSkips(t *testing.T) {
	if os.Getenv("LIST_SKIPS") == "" {
		t.Skip("set LIST_SKIPS=1")
	}
	tests, _ := LoadNodeTests(refs.NodeTestsDir(t))
	for _, nt := range tests {
		if nt.Skip != "" {
			t.Logf("%s\t%s", nt.Name, nt.Skip)
		}
	}
}
