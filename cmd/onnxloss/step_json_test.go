package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/optim"
)

// readBack is what testdata/step_readback.py reports about a step model,
// read with the onnx package (and torch.optim for the hyperparameters).
type readBack struct {
	Inputs, Outputs []struct {
		Name  string  `json:"name"`
		Shape []int64 `json:"shape"`
	}
	Initializers  []string       `json:"initializers"`
	Nodes         int            `json:"nodes"`
	InitOutputs   []string       `json:"init_outputs"`
	TorchGroup    map[string]any `json:"torch_group"`
	TorchDefaults map[string]any `json:"torch_defaults"`
}

func readStepModel(t *testing.T, args ...string) readBack {
	t.Helper()
	if err := exec.Command(refs.Python, "-c", "import torch, onnx").Run(); err != nil {
		refs.Unavailable(t, "PyTorch and onnx", "install Debian's python3-torch and python3-onnx")
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(refs.Python, append([]string{filepath.Join("testdata", "step_readback.py")}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("step_readback.py: %v: %s", err, stderr.String())
	}
	var rb readBack
	if err := json.Unmarshal(stdout.Bytes(), &rb); err != nil {
		t.Fatalf("step_readback.py output: %v", err)
	}
	return rb
}

// decodeStepJSON parses stdout as exactly one JSON document.
func decodeStepJSON(t *testing.T, stdout []byte) (stepReport, map[string]any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(stdout))
	dec.DisallowUnknownFields()
	var rep stepReport
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("step --json: %v: %s", err, stdout)
	}
	if dec.More() {
		t.Fatalf("step --json printed more than one JSON document: %s", stdout)
	}
	// The hyperparameters again, as plain JSON values, to compare with
	// torch's param group.
	var raw struct {
		Hyperparameters map[string]any `json:"hyperparameters"`
	}
	if err := json.Unmarshal(stdout, &raw); err != nil {
		t.Fatal(err)
	}
	return rep, raw.Hyperparameters
}

func product(dims []int64) int64 {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	return n
}

// TestStepJSON: step --json is one JSON document on stdout whose
// parameters, gradients, state inputs, shapes and counts are those of the
// written step and init models read back with the onnx package, and whose
// hyperparameters are torch.optim's own param-group entries (keys torch
// accepts; with no flags, torch's defaults).
func TestStepJSON(t *testing.T) {
	dir := t.TempDir()
	in := injectedMLP(t, dir)
	cases := []struct {
		name, optimizer string
		flags           []string
		params, frozen  []string
	}{
		{"none", "none", []string{"--freeze", "fc1.bias"}, []string{"fc1.weight", "fc2.weight", "fc2.bias"}, []string{"fc1.bias"}},
		{"adamw_defaults", "adamw", []string{"--train", "fc2.*"}, []string{"fc2.weight", "fc2.bias"}, []string{"fc1.weight", "fc1.bias"}},
		{"adamw_flags", "adamw", []string{"--lr", "0.02", "--betas", "0.8,0.95", "--eps", "1e-6", "--weight-decay", "0.1"}, []string{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}, nil},
		{"sgd_momentum", "sgd", []string{"--lr", "0.1", "--momentum", "0.9", "--freeze", "*.weight"}, []string{"fc1.bias", "fc2.bias"}, []string{"fc1.weight", "fc2.weight"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, c.name+".step.onnx")
			args := append([]string{"step", "--optimizer", c.optimizer, "--json", "-o", out}, c.flags...)
			code, stdout, stderr := runBin(t, nil, append(args, in)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stderr, "wrote "+out) || bytes.Contains(stdout, []byte("wrote ")) {
				t.Errorf("the human summary belongs on stderr only: stdout %q, stderr %q", stdout, stderr)
			}
			rep, hp := decodeStepJSON(t, stdout)
			var names []string
			for _, p := range rep.Params {
				names = append(names, p.Name)
			}
			if !reflect.DeepEqual(names, c.params) || !reflect.DeepEqual(rep.Frozen, append([]string{}, c.frozen...)) {
				t.Fatalf("params %v frozen %v, want %v and %v", names, rep.Frozen, c.params, c.frozen)
			}
			initArg := "-"
			if c.optimizer != "none" {
				initArg = rep.Init
			}
			readArgs := []string{out, initArg}
			if c.optimizer != "none" {
				b, _ := json.Marshal(hp)
				readArgs = append(readArgs, c.optimizer, string(b))
			}
			rb := readStepModel(t, readArgs...)
			if rep.Optimizer != c.optimizer || rep.Output != out || rep.Nodes != rb.Nodes || rep.Inputs != len(rb.Inputs) || rep.Outputs != len(rb.Outputs) {
				t.Errorf("report %+v, model read back %d nodes, %d inputs, %d outputs", rep, rb.Nodes, len(rb.Inputs), len(rb.Outputs))
			}
			if fi, err := os.Stat(out); err != nil || fi.Size() != rep.OutputBytes {
				t.Errorf("output_bytes %d, file: %v %v", rep.OutputBytes, fi, err)
			}
			// Frozen parameters stay initializers of the step model.
			inits := map[string]bool{}
			for _, n := range rb.Initializers {
				inits[n] = true
			}
			for _, f := range rep.Frozen {
				if !inits[f] {
					t.Errorf("frozen %s is not an initializer of the step model", f)
				}
			}
			var elements int64
			for _, p := range rep.Params {
				if p.Elements != product(p.Shape) {
					t.Errorf("%s: %d elements for shape %v", p.Name, p.Elements, p.Shape)
				}
				elements += p.Elements
			}
			if elements != rep.Elements {
				t.Errorf("elements %d, parameters sum to %d", rep.Elements, elements)
			}
			if c.optimizer == "none" {
				// Outputs: loss, then <p>_grad of p's shape, in order.
				if len(rb.Outputs) != len(rep.Params)+1 {
					t.Fatalf("%d outputs for %d parameters", len(rb.Outputs), len(rep.Params))
				}
				for i, p := range rep.Params {
					o := rb.Outputs[i+1]
					if p.Grad != p.Name+"_grad" || o.Name != p.Grad || !reflect.DeepEqual(o.Shape, p.Shape) || inits[p.Name] != true {
						t.Errorf("param %+v, model output %+v", p, o)
					}
				}
				if rep.Init != "" || rep.StateInputs != nil || rep.Hyperparameters != nil {
					t.Errorf("--optimizer none reports an optimizer: %+v", rep)
				}
				return
			}
			// The state inputs are the step model's last inputs, the init
			// model's outputs, and each parameter with its states.
			n := len(rep.StateInputs)
			if n > len(rb.Inputs) {
				t.Fatalf("%d state inputs, model has %d inputs", n, len(rb.Inputs))
			}
			var modelStates []string
			shapes := map[string][]int64{}
			for _, i := range rb.Inputs[len(rb.Inputs)-n:] {
				modelStates = append(modelStates, i.Name)
				shapes[i.Name] = i.Shape
			}
			if !reflect.DeepEqual(rep.StateInputs, modelStates) || !reflect.DeepEqual(rep.StateInputs, rb.InitOutputs) {
				t.Fatalf("state_inputs %v; model's last inputs %v; init outputs %v", rep.StateInputs, modelStates, rb.InitOutputs)
			}
			var fromParams []string
			for _, p := range rep.Params {
				if inits[p.Name] {
					t.Errorf("trained %s is still an initializer", p.Name)
				}
				fromParams = append(fromParams, p.Name)
				fromParams = append(fromParams, p.States...)
				for _, s := range append([]string{p.Name}, p.States...) {
					if !reflect.DeepEqual(shapes[s], p.Shape) {
						t.Errorf("%s: model input shape %v, report %v", s, shapes[s], p.Shape)
					}
				}
			}
			fromParams = append(fromParams, optim.LRInput, optim.StepInput)
			if !reflect.DeepEqual(fromParams, rep.StateInputs) {
				t.Errorf("parameters with states %v, state_inputs %v", fromParams, rep.StateInputs)
			}
			if fi, err := os.Stat(rep.Init); err != nil || fi.Size() != rep.InitBytes {
				t.Errorf("init_bytes %d, file: %v %v", rep.InitBytes, fi, err)
			}
			if !reflect.DeepEqual(hp, rb.TorchGroup) {
				t.Errorf("hyperparameters %v, torch param group %v", hp, rb.TorchGroup)
			}
			if strings.HasSuffix(c.name, "_defaults") && !reflect.DeepEqual(hp, rb.TorchDefaults) {
				t.Errorf("default hyperparameters %v, torch's defaults %v", hp, rb.TorchDefaults)
			}
		})
	}
	// --json and the model on standard output both want stdout.
	code, stdout, stderr := runBin(t, nil, "step", "--optimizer", "none", "--json", "-o", "-", in)
	if code != 2 || len(stdout) != 0 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "--json") {
		t.Errorf("step --json -o -: exit %d, stdout %d bytes, stderr %q", code, len(stdout), stderr)
	}
}
