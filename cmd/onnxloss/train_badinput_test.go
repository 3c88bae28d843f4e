package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/tensorfile"
)

// trainBadRow is one bad-input case of the training commands: exit code 2, one
// stderr line mentioning want, no output file, inputs unchanged.
type trainBadRow struct {
	name string
	args []string
	want string
}

func runTrainBadRows(t *testing.T, bin, out string, inputs []string, rows []trainBadRow) {
	t.Helper()
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(out)
			before := map[string][32]byte{}
			for _, p := range inputs {
				before[p] = fileHash(t, p)
			}
			cmd := exec.Command(bin, tc.args...)
			var stderr bytes.Buffer
			cmd.Stderr, cmd.Stdout = &stderr, new(bytes.Buffer)
			err := cmd.Run()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 2 {
				t.Fatalf("exit %v, want code 2; stderr: %s", err, stderr.String())
			}
			msg := stderr.String()
			if lines := strings.Count(strings.TrimRight(msg, "\n"), "\n") + 1; lines != 1 || msg == "" {
				t.Errorf("stderr has %d lines, want exactly one: %q", lines, msg)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("stderr %q does not mention %q", msg, tc.want)
			}
			for p, h := range before {
				if fileHash(t, p) != h {
					t.Errorf("input %s changed", filepath.Base(p))
				}
			}
			matches, _ := filepath.Glob(out + "*")
			if len(matches) > 0 {
				t.Errorf("output files written: %v", matches)
			}
			leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*.tmp-*"))
			if len(leftovers) > 0 {
				t.Errorf("temporary files left: %v", leftovers)
			}
		})
	}
}

func writeNPZ(t *testing.T, path string, tensors map[string]any, dims map[string][]int64) string {
	t.Helper()
	var ts []*onnxpb.TensorProto
	for name, data := range tensors {
		tp, err := tensorfile.New(name, dims[name], data)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tp)
	}
	if err := tensorfile.WriteFile(path, ts); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadParamsBadInput(t *testing.T) {
	bin := buildBinary(t)
	d := t.TempDir()
	mlp := filepath.Join("..", "..", "testdata", "models", "mlp_o13.onnx")
	out := filepath.Join(d, "out.onnx")
	npz := func(name string, tensors map[string]any, dims map[string][]int64) string {
		return writeNPZ(t, filepath.Join(d, name), tensors, dims)
	}
	unknown := npz("unknown.npz", map[string]any{"fc9.weight": make([]float32, 4)}, map[string][]int64{"fc9.weight": {4}})
	shape := npz("shape.npz", map[string]any{"fc2.bias_next": make([]float32, 4)}, map[string][]int64{"fc2.bias_next": {4}})
	dtype := npz("dtype.npz", map[string]any{"fc2.bias": make([]float64, 5)}, map[string][]int64{"fc2.bias": {5}})
	onlyState := npz("state.npz", map[string]any{"lr": []float32{0.1}}, map[string][]int64{"lr": {}})
	junk := filepath.Join(d, "junk.safetensors")
	if err := os.WriteFile(junk, []byte("not a safetensors file at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	rows := []trainBadRow{
		{"key matches no initializer", []string{"load-params", mlp, unknown, "-o", out}, `key "fc9.weight" names no initializer`},
		{"wrong shape", []string{"load-params", mlp, shape, "-o", out}, `key "fc2.bias_next" has shape [4] but initializer "fc2.bias" has shape [5]`},
		{"wrong dtype", []string{"load-params", mlp, dtype, "-o", out}, "is float64 but initializer"},
		{"only optimizer state", []string{"load-params", mlp, onlyState, "-o", out}, "no key names an initializer"},
		{"corrupt safetensors", []string{"load-params", mlp, junk, "-o", out}, "not a valid .safetensors file"},
		{"missing params file", []string{"load-params", mlp, filepath.Join(d, "nope.npz"), "-o", out}, "nope.npz"},
		{"other format", []string{"load-params", mlp, mlp, "-o", out}, ".npz or .safetensors"},
		{"one argument", []string{"load-params", mlp, "-o", out}, "expected MODEL and PARAMS"},
		{"output is the input", []string{"load-params", mlp, unknown, "-o", mlp}, "is the input"},
	}
	runTrainBadRows(t, bin, out, []string{mlp, unknown, shape}, rows)
}

func TestStepOptimizerBadInput(t *testing.T) {
	bin := buildBinary(t)
	d := t.TempDir()
	models := filepath.Join("..", "..", "testdata", "models")
	mlp := filepath.Join(models, "mlp_o13.onnx")
	train := filepath.Join(d, "mlp.train.onnx") // first output: a scalar loss
	runOK(t, bin, "inject", "--loss", "cb_focal", "--counts", filepath.Join("..", "..", "testdata", "counts5.json"), "-o", train, mlp)
	out := filepath.Join(d, "step.onnx")
	rows := []trainBadRow{
		{"no scalar first output", []string{"step", "--optimizer", "adamw", "-o", out, mlp}, "not a scalar float loss"},
		{"train glob matches nothing", []string{"step", "--optimizer", "adamw", "--train", "decoder.*", "-o", out, train}, `--train "decoder.*" matches no parameter`},
		{"everything frozen", []string{"step", "--optimizer", "sgd", "--lr", "0.1", "--freeze", "*", "-o", out, train}, "nothing to train"},
		{"unknown optimizer", []string{"step", "--optimizer", "rmsprop", "-o", out, train}, `--optimizer "rmsprop" is not an optimizer onnxloss has: use one of adamw, sgd, or none`},
		{"lr zero", []string{"step", "--optimizer", "adamw", "--lr", "0", "-o", out, train}, "--lr must be a finite number > 0"},
		{"lr negative", []string{"step", "--optimizer", "sgd", "--lr", "-0.1", "-o", out, train}, "--lr must be a finite number > 0"},
		{"lr NaN", []string{"step", "--optimizer", "adamw", "--lr", "NaN", "-o", out, train}, "--lr must be a finite number > 0"},
		{"lr infinite", []string{"step", "--optimizer", "adamw", "--lr", "Inf", "-o", out, train}, "--lr must be a finite number > 0"},
		{"sgd without lr", []string{"step", "--optimizer", "sgd", "-o", out, train}, "sgd needs --lr"},
		{"negative momentum", []string{"step", "--optimizer", "sgd", "--lr", "0.1", "--momentum", "-1", "-o", out, train}, "--momentum must be"},
		{"beta of 1", []string{"step", "--optimizer", "adamw", "--betas", "0.9,1", "-o", out, train}, "--betas must be two numbers in [0, 1)"},
		{"one beta", []string{"step", "--optimizer", "adamw", "--betas", "0.9", "-o", out, train}, "--betas must be two numbers"},
		{"negative eps", []string{"step", "--optimizer", "adamw", "--eps", "-1e-8", "-o", out, train}, "--eps must be"},
		{"negative weight decay", []string{"step", "--optimizer", "adamw", "--weight-decay", "-0.1", "-o", out, train}, "--weight-decay must be"},
		{"init is the output", []string{"step", "--optimizer", "adamw", "--init", out, "-o", out, train}, "is the step model's output"},
		{"init directory missing", []string{"step", "--optimizer", "adamw", "--init", filepath.Join(d, "no", "i.onnx"), "-o", out, train}, "does not exist"},
	}
	runTrainBadRows(t, bin, out, []string{mlp, train}, rows)

	// verify on an optimizer step model points to the gradient model.
	stepped := filepath.Join(d, "adamw.step.onnx")
	runOK(t, bin, "step", "--optimizer", "adamw", "-o", stepped, train)
	runTrainBadRows(t, bin, out, []string{stepped}, []trainBadRow{
		{"verify an adamw step model", []string{"verify", stepped}, "verify checks gradients of `onnxloss step --optimizer none` models"},
	})
}
