package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/lossops"
)

// TestCountsFeedsInject counts a label file and injects with the result.
func TestCountsFeedsInject(t *testing.T) {
	d := t.TempDir()
	labels := filepath.Join(d, "train.csv")
	if err := os.WriteFile(labels, []byte("path,label\na,0\nb,1\nc,1\nd,-100\ne,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	counts := filepath.Join(d, "counts.json")
	var stdout, stderr bytes.Buffer
	args := []string{"onnxloss", "counts", labels, "--column", "label", "--ignore-index", "-100", "--classes", "cat,dog,eel,fox,yak", "-o", counts}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("counts exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "counted 5 labels (1 ignored) in 5 classes") {
		t.Errorf("summary %q", stderr.String())
	}
	c, err := lossops.LoadCounts(counts)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Values; len(got) != 5 || got[0] != 1 || got[1] != 2 || got[2] != 0 || got[3] != 1 || got[4] != 0 || c.Classes[4] != "yak" {
		t.Fatalf("counts %v %v", c.Values, c.Classes)
	}
	// Zero-count classes need --zero-counts skip; the mlp test model has 5 classes.
	model := filepath.Join("..", "..", "testdata", "models", "mlp_o13.onnx")
	out := filepath.Join(d, "m.onnx")
	stderr.Reset()
	args = []string{"onnxloss", "inject", "--loss", "balanced_softmax", "--counts", counts, "--zero-counts", "skip", "-o", out, model}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("inject exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "logit offsets (log n): [0 0.6931 -Inf 0 -Inf]") {
		t.Errorf("inject summary %q", stderr.String())
	}
}
