package refs

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// CheckModelFiles is CheckModels for models with external data: it passes
// each path itself to onnx.checker.check_model(path, full_check=True), so
// onnx's C++ checker resolves every external-data location against the
// model's directory, as written (CheckModels goes through onnx.load, whose
// loader in onnx 1.12 as Debian ships it strips "../" and leading "/" from
// locations and so cannot follow a location that leaves the model's
// directory). It returns an error message per failing path.
func CheckModelFiles(t testing.TB, paths []string) map[string]string {
	t.Helper()
	if err := exec.Command(Python, "-c", "import onnx").Run(); err != nil {
		Unavailable(t, "the onnx checker", "install Debian's python3-onnx (apt-get install -y python3-onnx)")
	}
	script := `
import json, sys, onnx
bad = {}
for p in json.load(sys.stdin):
    try:
        onnx.checker.check_model(p, full_check=True)
    except Exception as e:
        bad[p] = str(e).strip().splitlines()[0] if str(e).strip() else repr(e)
json.dump(bad, sys.stdout)
`
	in, _ := json.Marshal(paths)
	cmd := exec.Command(Python, "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("onnx checker: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	bad := map[string]string{}
	if err := json.Unmarshal(stdout.Bytes(), &bad); err != nil {
		t.Fatalf("onnx checker output: %v", err)
	}
	return bad
}
