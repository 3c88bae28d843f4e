package refs

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// DebianNodeTests is where Debian's libonnx-testdata installs ONNX's backend
// node tests (onnx 1.12, 932 tests).
const DebianNodeTests = "/usr/share/libonnx-testdata/data/node"

// FindNodeTestsDir looks for ONNX's backend node tests (test_*/model.onnx
// with test_data_set_*/) as NodeTestsDir does, without a test: it returns
// the directory and where it came from, or ok false. An ONNX_NODE_TESTS
// that is not a directory is returned as is (NodeTestsDir fails on it).
func FindNodeTestsDir() (dir, source string, ok bool) {
	if d := os.Getenv("ONNX_NODE_TESTS"); d != "" {
		return d, "$ONNX_NODE_TESTS", true
	}
	if root, err := RepoRoot(); err == nil {
		c := filepath.Join(root, "..", "shared", "onnx-node-tests")
		if fi, err := os.Stat(c); err == nil && fi.IsDir() {
			return filepath.Clean(c), "../shared beside the repository, onnx v1.22", true
		}
	}
	if fi, err := os.Stat(DebianNodeTests); err == nil && fi.IsDir() {
		return DebianNodeTests, "Debian's libonnx-testdata, onnx 1.12", true
	}
	return "", "", false
}

// NodeTestsDir returns the directory of ONNX's backend node tests
// (test_*/model.onnx with test_data_set_*/): $ONNX_NODE_TESTS if set (it must
// be a directory), else ../shared/onnx-node-tests beside the repository
// (onnx v1.22), else Debian's libonnx-testdata (onnx 1.12). It logs which
// one it uses. With none of them, t is skipped with one line, or fails when
// references are required (CI=true).
func NodeTestsDir(t testing.TB) string {
	t.Helper()
	dir, source, ok := FindNodeTestsDir()
	if !ok {
		Unavailable(t, "the ONNX node tests", "set ONNX_NODE_TESTS, put them in ../shared/onnx-node-tests, or apt-get install -y libonnx-testdata")
		return ""
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("ONNX node tests: %s (%s) is not a directory", dir, source)
	}
	t.Logf("ONNX node tests: %s (%s)", dir, source)
	return dir
}

// NodeTestModels returns the sorted paths of every test_*/model.onnx in dir
// (as found by NodeTestsDir).
func NodeTestModels(t testing.TB, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "test_*", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no test_*/model.onnx under %s", dir)
	}
	sort.Strings(paths)
	return paths
}
