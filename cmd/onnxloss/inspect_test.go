package main

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// runCLI runs the CLI in-process (the same run the binary's main calls) and
// returns its exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"onnxloss"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// inspectModels is testdata/models/README.md's table: the logits each model
// has, its C, and where inspect finds them.
var inspectModels = []struct {
	file, logits string
	c            int64
	output       string // the graph output the logits were found from
	activation   string // "Softmax" when the output holds probabilities
	loss         string // the loss node's op in training graphs
}{
	{"mlp_o13.onnx", "logits", 5, "logits", "", ""},
	{"cnn_o17.onnx", "logits", 10, "logits", "", ""},
	{"segnet_o13.onnx", "logits", 4, "logits", "", ""},
	{"softmax_o13.onnx", "/mlp/fc2/Gemm_output_0", 3, "probs", "Softmax", ""},
	{"mlp_o11.onnx", "logits", 4, "logits", "", ""},
	{"multilabel_o13.onnx", "logits", 6, "logits", "", ""},
	{"train_mlp_ce_o13.onnx", "/mlp/fc2/Gemm_output_0", 5, "loss", "", "SoftmaxCrossEntropyLoss"},
	{"train_cnn_ce_o17.onnx", "/cnn/fc/Gemm_output_0", 10, "loss", "", "SoftmaxCrossEntropyLoss"},
	{"train_mlp_dropout_o13.onnx", "/fc2/Gemm_output_0", 5, "loss", "", "SoftmaxCrossEntropyLoss"},
	{"token_cls_o17.onnx", "logits", 0, "logits", "", ""},
	{"det_head_o13.onnx", "cls_logits", 0, "cls_logits", "", ""},
	{"seq_conv1d_o13.onnx", "logits", 6, "logits", "", ""},
	{"seq_conv1d_static_o13.onnx", "logits", 6, "logits", "", ""},
	{"segnet_nhwc_o13.onnx", "logits", 0, "logits", "", ""},
	{"vit_tiny_o17.onnx", "logits", 10, "logits", "", ""},
}

func modelPath(file string) string { return filepath.Join("..", "..", "testdata", "models", file) }

func TestInspectNamesLogits(t *testing.T) {
	files, _ := filepath.Glob(modelPath("*.onnx"))
	if len(files) != len(inspectModels) {
		t.Errorf("%d models in testdata/models, %d in this table", len(files), len(inspectModels))
	}
	for _, m := range inspectModels {
		t.Run(m.file, func(t *testing.T) {
			path := modelPath(m.file)
			code, out, errOut := runCLI(t, "inspect", path)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			var line string
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, "logits ") {
					line = l
				}
			}
			c := itoa(m.c)
			if m.c == 0 {
				c = "dynamic" // dim 1 is not static (class-last logits)
			}
			want := "logits    " + m.logits + ", C = " + c
			if !strings.HasPrefix(line, want) {
				t.Errorf("logits line %q, want it to start with %q", line, want)
			}
			switch {
			case m.activation != "":
				if !strings.Contains(line, m.activation+" node") || !strings.Contains(line, "output "+m.output+" holds probabilities") {
					t.Errorf("logits line %q does not say the output %s comes from %s", line, m.output, m.activation)
				}
			case m.loss != "":
				if !strings.Contains(line, "training graph") || !strings.Contains(line, m.loss) || !strings.Contains(line, "loss output "+m.output) {
					t.Errorf("logits line %q does not name the %s loss", line, m.loss)
				}
			default:
				if line != want {
					t.Errorf("logits line %q, want %q", line, want)
				}
			}
			if !strings.Contains(out, "model     "+path) || !strings.Contains(out, "input  ") || !strings.Contains(out, "output  "+m.output) {
				t.Errorf("summary lacks the model, inputs or outputs:\n%s", out)
			}

			// --json, before or after the model path.
			for _, args := range [][]string{{"inspect", "--json", path}, {"inspect", path, "--json"}} {
				code, out, errOut := runCLI(t, args...)
				if code != 0 || errOut != "" {
					t.Fatalf("%v: exit %d, stderr %q", args, code, errOut)
				}
				var s struct {
					IRVersion int64 `json:"ir_version"`
					Outputs   []struct {
						Name  string `json:"name"`
						DType string `json:"dtype"`
						Shape []any  `json:"shape"`
					} `json:"outputs"`
					Logits *struct {
						Name       string `json:"name"`
						C          int64  `json:"classes"`
						Output     string `json:"output"`
						Activation string `json:"activation"`
						Loss       string `json:"loss"`
					} `json:"logits"`
					Candidates []json.RawMessage `json:"logits_candidates"`
				}
				if err := json.Unmarshal([]byte(out), &s); err != nil {
					t.Fatalf("%v: not JSON: %v\n%s", args, err, out)
				}
				if s.Logits == nil {
					t.Fatalf("%v: no logits in %s", args, out)
				}
				// Static dims are JSON numbers, symbolic ones strings (as
				// onnx tools print shapes).
				for _, o := range s.Outputs {
					for _, d := range o.Shape {
						if str, ok := d.(string); ok {
							if _, err := strconv.Atoi(str); err == nil {
								t.Errorf("%v: static dim %q of %s is a string", args, str, o.Name)
							}
						}
					}
				}
				l := *s.Logits
				if l.Name != m.logits || l.C != m.c || l.Output != m.output || l.Activation != m.activation || l.Loss != m.loss {
					t.Errorf("%v: logits %+v", args, l)
				}
				if len(s.Candidates) != 1 || s.IRVersion == 0 || len(s.Outputs) == 0 || s.Outputs[0].Name != m.output {
					t.Errorf("%v: %d candidates, ir %d, outputs %+v", args, len(s.Candidates), s.IRVersion, s.Outputs)
				}
			}
		})
	}
}

func itoa(v int64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// graphEnd returns the offset just after the top-level graph field of an
// encoded model: a file cut there still decodes as protobuf.
func graphEnd(t *testing.T, b []byte) int {
	t.Helper()
	off := 0
	for off < len(b) {
		num, typ, n := protowire.ConsumeTag(b[off:])
		if n < 0 {
			t.Fatal("bad model")
		}
		m := protowire.ConsumeFieldValue(num, typ, b[off+n:])
		if m < 0 {
			t.Fatal("bad model")
		}
		off += n + m
		if num == 7 {
			return off
		}
	}
	t.Fatal("no graph field")
	return 0
}

// Bad input of every kind exits 2 with exactly one line on stderr, nothing on
// stdout, and no panic (run turns a panic into exit 3).
func TestInspectBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	model, err := os.ReadFile(modelPath("cnn_o17.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	random := func(n int) []byte {
		b := make([]byte, n)
		rng.Read(b)
		return b
	}
	type badCase struct {
		name string
		args []string
		want string // in the stderr line
	}
	cases := []badCase{
		{"missing file", []string{"inspect", filepath.Join(dir, "nope.onnx")}, "no such file"},
		{"directory", []string{"inspect", dir}, "is a directory"},
		{"empty file", []string{"inspect", write("empty.onnx", nil)}, "empty"},
		{"JSON file", []string{"inspect", write("counts.json", []byte(`{"counts": [500, 120, 7]}`))}, "not an ONNX model"},
		{"JSON array", []string{"inspect", "--json", write("arr.onnx", []byte("[1, 2, 3]\n"))}, "not an ONNX model"},
		{"text", []string{"inspect", write("readme.onnx", []byte("# hello\nworld\n"))}, "not an ONNX model"},
		{"cut after the graph", []string{"inspect", write("cut_graph.onnx", model[:graphEnd(t, model)])}, "opset_import"},
		{"one byte", []string{"inspect", write("one.onnx", []byte{0x08})}, "not an ONNX model"},
		{"zeros", []string{"inspect", write("zeros.onnx", make([]byte, 100))}, "not an ONNX model"},
		{"device", []string{"inspect", "/dev/null"}, "not a regular file"},
		{"no argument", []string{"inspect"}, "expected one MODEL"},
		{"two arguments", []string{"inspect", modelPath("mlp_o13.onnx"), modelPath("cnn_o17.onnx")}, "expected one MODEL"},
		{"unknown flag", []string{"inspect", "--bogus", modelPath("mlp_o13.onnx")}, "bogus"},
	}
	for _, frac := range []int{1, 5, 10, 25, 50, 75, 90, 99} {
		n := len(model) * frac / 100
		cases = append(cases, badCase{"truncated " + itoa(int64(frac)) + "%", []string{"inspect", write("trunc"+itoa(int64(frac))+".onnx", model[:n])}, "not an ONNX model"})
	}
	for i, n := range []int{1, 2, 7, 64, 1000, 100000} {
		cases = append(cases, badCase{"random " + itoa(int64(n)), []string{"inspect", write("rand"+itoa(int64(i))+".onnx", random(n))}, "not an ONNX model"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, c.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2 (stderr %q)", code, errOut)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if strings.Count(errOut, "\n") != 1 || !strings.HasSuffix(errOut, "\n") || !strings.HasPrefix(errOut, "onnxloss: ") {
				t.Errorf("stderr %q is not exactly one line", errOut)
			}
			if !strings.Contains(errOut, c.want) {
				t.Errorf("stderr %q does not say %q", errOut, c.want)
			}
		})
	}
}

// Every prefix of a model and many random files: exit 0 or 2, one line on
// stderr when 2, never a panic.
func TestInspectNeverPanics(t *testing.T) {
	dir := t.TempDir()
	model, err := os.ReadFile(modelPath("train_mlp_ce_o13.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(2))
	var inputs [][]byte
	for n := 0; n < len(model); n += 1 + len(model)/300 {
		inputs = append(inputs, model[:n])
	}
	for i := 0; i < 100; i++ {
		b := append([]byte(nil), model...)
		for k := 0; k < 1+rng.Intn(8); k++ {
			b[rng.Intn(len(b))] = byte(rng.Intn(256))
		}
		inputs = append(inputs, b)
	}
	path := filepath.Join(dir, "m.onnx")
	for i, b := range inputs {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"inspect", path}, {"inspect", "--json", path}} {
			code, _, errOut := runCLI(t, args...)
			switch code {
			case 0:
			case 2:
				if strings.Count(errOut, "\n") != 1 {
					t.Errorf("input %d: stderr %q is not one line", i, errOut)
				}
			default:
				t.Fatalf("input %d: exit %d: %s", i, code, errOut)
			}
		}
	}
}
