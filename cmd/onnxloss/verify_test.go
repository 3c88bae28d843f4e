package main

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/tensorfile"
)

// runBinary runs the onnxloss binary and returns its exit code, stdout and
// stderr.
func runBinary(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(buildBinary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), stdout.String(), stderr.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, stdout.String(), stderr.String()
}

// TestVerifyExpectFromORT is the "check ONNX Runtime's outputs" recipe end
// to end: inject, run the model in ONNX Runtime 1.30, save its outputs as
// .npz, `onnxloss verify --inputs --expect` passes; with one expected value
// perturbed by 1e-3 relative it exits 1 naming the output and the index.
func TestVerifyExpectFromORT(t *testing.T) {
	refs.ORTHarness(t)
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	d := t.TempDir()
	model := filepath.Join(d, "cnn.train.onnx")
	if code, _, stderr := runBinary(t, "inject", "--loss", "cb_focal", "--counts", filepath.Join(root, "testdata", "counts10.json"), "--ignore-index", "-1", "-o", model, filepath.Join(root, "testdata", "models", "cnn_o17.onnx")); code != 0 {
		t.Fatalf("inject: %s", stderr)
	}
	// Seeded inputs: 6 random images, labels with one ignored position.
	img := make([]float32, 6*1*12*12)
	for i := range img {
		img[i] = float32(math.Sin(float64(i)*0.37) * 2)
	}
	labels := []int64{3, 0, 9, -1, 5, 7}
	imgT, _ := tensorfile.New("image", []int64{6, 1, 12, 12}, img)
	labT, _ := tensorfile.New("labels", []int64{6}, labels)
	inputs := filepath.Join(d, "inputs.npz")
	if err := tensorfile.WriteFile(inputs, []*onnxpb.TensorProto{imgT, labT}); err != nil {
		t.Fatal(err)
	}
	f64 := make([]float64, len(img))
	for i, v := range img {
		f64[i] = float64(v)
	}
	res := refs.RunORT(t, []refs.Job{{Model: model, Inputs: map[string]refs.Tensor{
		"image":  refs.FloatTensor("float32", []int{6, 1, 12, 12}, f64),
		"labels": refs.IntTensor("int64", []int{6}, labels),
	}}})[0]
	if res.Error != "" {
		t.Fatal(res.Error)
	}
	writeExpect := func(path string, perturb string, index int) {
		var ts []*onnxpb.TensorProto
		for _, name := range []string{"loss", "logits"} {
			out := res.Outputs[name]
			vals, err := out.Floats()
			if err != nil {
				t.Fatal(err)
			}
			f := make([]float32, len(vals))
			for i, v := range vals {
				f[i] = float32(v)
			}
			if name == perturb {
				f[index] *= 1 + 1e-3
			}
			dims := make([]int64, len(out.Dims))
			for i, v := range out.Dims {
				dims[i] = int64(v)
			}
			tp, err := tensorfile.New(name, dims, f)
			if err != nil {
				t.Fatal(err)
			}
			ts = append(ts, tp)
		}
		if err := tensorfile.WriteFile(path, ts); err != nil {
			t.Fatal(err)
		}
	}
	good := filepath.Join(d, "ort.npz")
	writeExpect(good, "", 0)
	code, stdout, stderr := runBinary(t, "verify", model, "--inputs", inputs, "--expect", good)
	if code != 0 {
		t.Fatalf("verify of ORT's own outputs: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, tc := range []struct {
		output string
		index  int
		want   string
	}{
		{"loss", 0, "FAIL loss[0]"},
		{"logits", 37, "FAIL logits[37]"},
	} {
		bad := filepath.Join(d, "bad-"+tc.output+".npz")
		writeExpect(bad, tc.output, tc.index)
		code, stdout, stderr := runBinary(t, "verify", model, "--inputs", inputs, "--expect", bad)
		if code != 1 {
			t.Fatalf("planted error in %s[%d]: exit %d, want 1\n%s%s", tc.output, tc.index, code, stdout, stderr)
		}
		if !strings.Contains(stdout, tc.want) {
			t.Errorf("report does not name %s:\n%s", tc.want, stdout)
		}
	}
	// --json carries the same verdict.
	code, stdout, _ = runBinary(t, "verify", "--json", model, "--inputs", inputs, "--expect", good)
	if code != 0 || !strings.Contains(stdout, `"pass": true`) {
		t.Errorf("--json: exit %d\n%s", code, stdout)
	}
}

// TestVerifySyntheticAndErrors: the metadata-driven check passes on an
// injected model (exit 0); a model without metadata, --expect without
// --inputs and a missing inputs file are usage errors (exit 2, one line).
func TestVerifySyntheticAndErrors(t *testing.T) {
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	d := t.TempDir()
	plain := filepath.Join(root, "testdata", "models", "segnet_o13.onnx")
	model := filepath.Join(d, "seg.train.onnx")
	if code, _, stderr := runBinary(t, "inject", "--loss", "focal", "--counts", filepath.Join(root, "testdata", "counts4.json"), "--ignore-index", "255", "-o", model, plain); code != 0 {
		t.Fatalf("inject: %s", stderr)
	}
	code, stdout, stderr := runBinary(t, "verify", model)
	if code != 0 || !strings.Contains(stdout, "all checks passed") {
		t.Fatalf("verify: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, _ := runBinary(t, "verify", "--json", model); code != 0 || !strings.Contains(stdout, `"mode": "synthetic"`) {
		t.Errorf("verify --json: exit %d\n%s", code, stdout)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"verify", plain}, "no onnxloss metadata"},
		{[]string{"verify", model, "--expect", "x.npz"}, "--expect needs --inputs"},
		{[]string{"verify", model, "--inputs", filepath.Join(d, "missing.npz")}, "missing.npz"},
		{[]string{"verify", model, "--rtol", "-1"}, "--rtol"},
	} {
		code, _, stderr := runBinary(t, tc.args...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q (want 2 and %q)", tc.args, code, stderr, tc.want)
		}
	}
	if _, err := os.Stat(model); err != nil {
		t.Fatal(err)
	}
}
