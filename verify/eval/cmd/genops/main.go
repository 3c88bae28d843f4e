// Command genops regenerates docs/OPS.md, the list of operators the reference
// evaluator implements and the ONNX node tests each one passes.
//
// Usage (from the repository root): go run ./verify/eval/cmd/genops [-tests DIR] [-o docs/OPS.md]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/onnxloss/onnxloss/verify/eval"
)

func main() {
	tests := flag.String("tests", "", "ONNX node tests directory (default: $ONNX_NODE_TESTS, ../shared/onnx-node-tests, or Debian's libonnx-testdata)")
	out := flag.String("o", "docs/OPS.md", "output file")
	flag.Parse()
	dir := *tests
	if dir == "" {
		dir = findTests()
	}
	if dir == "" {
		fmt.Fprintln(os.Stderr, "genops: ONNX node tests not found; pass -tests DIR or set ONNX_NODE_TESTS")
		os.Exit(2)
	}
	b, err := eval.OpsMarkdown(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "genops:", err)
		os.Exit(1)
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "genops:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "genops:", err)
		os.Exit(1)
	}
}

func findTests() string {
	if d := os.Getenv("ONNX_NODE_TESTS"); d != "" {
		return d
	}
	wd, _ := os.Getwd()
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			c := filepath.Join(dir, "..", "shared", "onnx-node-tests")
			if _, err := os.Stat(c); err == nil {
				return c
			}
			break
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	if _, err := os.Stat("/usr/share/libonnx-testdata/data/node"); err == nil {
		return "/usr/share/libonnx-testdata/data/node"
	}
	return ""
}
