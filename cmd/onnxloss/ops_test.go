package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/internal/refs"
)

// TestOpsCommand lists the evaluator's ops, and with --node-tests how many
// official node tests each runs; a directory without node tests exits 2.
func TestOpsCommand(t *testing.T) {
	code, stdout, _ := runBinary(t, "ops")
	if code != 0 || !strings.Contains(stdout, "SoftmaxCrossEntropyLoss") || !strings.Contains(stdout, "GatherElements") {
		t.Fatalf("ops: exit %d\n%s", code, stdout)
	}
	dir := refs.NodeTestsDir(t)
	code, stdout, stderr := runBinary(t, "ops", "--node-tests", dir)
	if code != 0 {
		t.Fatalf("ops --node-tests: exit %d: %s", code, stderr)
	}
	row := regexp.MustCompile(`(?m)^SoftmaxCrossEntropyLoss\s+loss\s+([1-9][0-9]*)\s+([0-9]+)$`).FindStringSubmatch(stdout)
	if row == nil || row[1] != row[2] {
		t.Errorf("SoftmaxCrossEntropyLoss row missing or not all tests run:\n%s", stdout)
	}
	if code, _, stderr := runBinary(t, "ops", "--node-tests", t.TempDir()); code != 2 || !strings.Contains(stderr, "no test_*/model.onnx") {
		t.Errorf("empty dir: exit %d, %q", code, stderr)
	}
}
