package refs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// RepoRoot returns the directory holding go.mod, found upwards from the
// working directory (tests run in their package directory).
func RepoRoot() (string, error) {
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
			return "", fmt.Errorf("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Required reports whether missing references fail tests instead of
// skipping them: under CI=true (and ONNXLOSS_REQUIRE_REFS=1).
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("ONNXLOSS_REQUIRE_REFS") == "1"
}

// Unavailable skips t with one line saying how to enable the reference, or
// fails it when references are required.
func Unavailable(t testing.TB, what, enable string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s is required (CI=true) but unavailable: %s", what, enable)
	}
	t.Skipf("%s unavailable: %s", what, enable)
}

// Tensor is a tensor in the harness's JSON form. Data holds numbers, or the
// strings "NaN", "Infinity", "-Infinity"; float16/bfloat16 as uint16 bits.
type Tensor struct {
	DType string `json:"dtype"`
	Dims  []int  `json:"dims"`
	Data  []any  `json:"data"`
}

// Floats returns the tensor's values as float64.
func (t Tensor) Floats() ([]float64, error) {
	out := make([]float64, len(t.Data))
	for i, v := range t.Data {
		switch x := v.(type) {
		case float64:
			out[i] = x
		case int64:
			out[i] = float64(x)
		case string:
			switch x {
			case "NaN":
				out[i] = math.NaN()
			case "Infinity":
				out[i] = math.Inf(1)
			case "-Infinity":
				out[i] = math.Inf(-1)
			default:
				return nil, fmt.Errorf("bad value %q", x)
			}
		default:
			return nil, fmt.Errorf("bad value %v", v)
		}
	}
	return out, nil
}

// FloatTensor encodes float values (NaN/Inf as strings) with the given dtype.
func FloatTensor(dtype string, dims []int, data []float64) Tensor {
	t := Tensor{DType: dtype, Dims: dims, Data: make([]any, len(data))}
	for i, v := range data {
		switch {
		case math.IsNaN(v):
			t.Data[i] = "NaN"
		case math.IsInf(v, 1):
			t.Data[i] = "Infinity"
		case math.IsInf(v, -1):
			t.Data[i] = "-Infinity"
		default:
			t.Data[i] = v
		}
	}
	return t
}

// IntTensor encodes integer values with the given dtype (int64, int32, or
// float16/bfloat16 bit patterns).
func IntTensor(dtype string, dims []int, data []int64) Tensor {
	t := Tensor{DType: dtype, Dims: dims, Data: make([]any, len(data))}
	for i, v := range data {
		t.Data[i] = v
	}
	return t
}

// Job is one model run in ONNX Runtime.
type Job struct {
	Model  string            `json:"model"`
	Inputs map[string]Tensor `json:"inputs"`
	// Outputs lists the outputs to fetch; empty fetches all.
	Outputs []string `json:"outputs,omitempty"`
	// Threads is intra-op threads (0 = 1).
	Threads int `json:"threads,omitempty"`
}

// Result is the outcome of one Job: its outputs or an error.
type Result struct {
	Outputs map[string]Tensor `json:"outputs"`
	Error   string            `json:"error"`
}

var ortOnce struct {
	sync.Once
	dir string
	err error
}

// ORTHarness returns the directory of the ONNX Runtime harness
// (ortharness/ with onnxruntime-node installed), or skips/fails t.
func ORTHarness(t testing.TB) string {
	t.Helper()
	ortOnce.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			ortOnce.err = err
			return
		}
		dir := filepath.Join(root, "ortharness")
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node", "package.json")); err != nil {
			ortOnce.err = fmt.Errorf("onnxruntime-node is not installed in %s", dir)
			return
		}
		if _, err := exec.LookPath("node"); err != nil {
			ortOnce.err = fmt.Errorf("node is not on PATH")
			return
		}
		ortOnce.dir = dir
	})
	if ortOnce.err != nil {
		Unavailable(t, "ONNX Runtime", ortOnce.err.Error()+"; run `cd ortharness && npm ci` (or scripts/test.sh)")
	}
	return ortOnce.dir
}

// RunORT runs the jobs in one ONNX Runtime process and returns one result
// per job.
func RunORT(t testing.TB, jobs []Job) []Result {
	t.Helper()
	dir := ORTHarness(t)
	req, err := json.Marshal(map[string]any{"jobs": jobs})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(dir, "run.js"))
	cmd.Stdin = bytes.NewReader(req)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ONNX Runtime harness failed: %v: %s", err, stderr.String())
	}
	var resp struct {
		Version string   `json:"ort_version"`
		Results []Result `json:"results"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
		t.Fatalf("ONNX Runtime harness output: %v", err)
	}
	if resp.Version != "1.30.0" {
		t.Fatalf("ONNX Runtime %s, want 1.30.0", resp.Version)
	}
	if len(resp.Results) != len(jobs) {
		t.Fatalf("ONNX Runtime harness returned %d results for %d jobs", len(resp.Results), len(jobs))
	}
	return resp.Results
}

// Python is Debian's interpreter, which has torch, torchvision and onnx
// (the python3 first on PATH may be another one).
const Python = "/usr/bin/python3"

// CheckModels runs onnx.checker.check_model(path, full_check=True) on each
// path in one Python process and returns an error message per failing path.
// It passes the path itself, so onnx's C++ checker resolves external-data
// locations against the model's directory as written (onnx.load in Debian's
// onnx 1.12 strips "../" and a leading "/" from locations and so could not
// follow a location that leaves the model's directory).
func CheckModels(t testing.TB, paths []string) map[string]string {
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
