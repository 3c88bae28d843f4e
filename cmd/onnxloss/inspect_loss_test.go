package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/internal/refs"
)

// TestInspectReportsExistingLoss: for a training graph, inspect names the
// loss node's kind, scores, labels and attributes, in text and JSON; for an
// injected model it shows the onnxloss metadata.
func TestInspectReportsExistingLoss(t *testing.T) {
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(root, "testdata", "models", "train_mlp_ce_o13.onnx")
	code, stdout, stderr := runBinary(t, "inspect", model)
	if code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"loss      SoftmaxCrossEntropyLoss", "scores /mlp/fc2/Gemm_output_0", "labels target", "reduction mean", "weight class_weight", "ignore_index -100"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, _ = runBinary(t, "inspect", "--json", model)
	var js struct {
		Losses []struct {
			Kind, Scores, Labels, Weight, Reduction string
			IgnoreIndex                             *int64 `json:"ignore_index"`
		} `json:"losses"`
	}
	if err := json.Unmarshal([]byte(stdout), &js); code != 0 || err != nil || len(js.Losses) != 1 {
		t.Fatalf("inspect --json: exit %d, %v:\n%s", code, err, stdout)
	}
	l := js.Losses[0]
	if l.Kind != "SoftmaxCrossEntropyLoss" || l.Labels != "target" || l.Weight != "class_weight" || l.Reduction != "mean" || l.IgnoreIndex == nil || *l.IgnoreIndex != -100 {
		t.Errorf("loss %+v", l)
	}
	out := filepath.Join(t.TempDir(), "swapped.onnx")
	if code, _, stderr := runBinary(t, "inject", "--loss", "focal", "--counts", filepath.Join(root, "testdata", "counts5.json"), "-o", out, model); code != 0 {
		t.Fatalf("inject: %s", stderr)
	}
	code, stdout, _ = runBinary(t, "inspect", out)
	if code != 0 || !strings.Contains(stdout, "onnxloss  focal (weighting inverse) on /mlp/fc2/Gemm_output_0, class axis 1, labels target, output loss") || strings.Contains(stdout, "SoftmaxCrossEntropyLoss") {
		t.Errorf("inspect of the swapped model:\n%s", stdout)
	}
}
