package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/stepmodel"
	"github.com/onnxloss/onnxloss/verify"
)

// injectedMLP writes mlp_o13 with a focal loss injected and returns its path.
func injectedMLP(t *testing.T, dir string) string {
	t.Helper()
	counts := filepath.Join(dir, "counts.json")
	if err := os.WriteFile(counts, []byte("[10, 20, 30, 40, 50]"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "mlp.train.onnx")
	if code, _, stderr := runCLI(t, "inject", "--loss", "focal", "--counts", counts, "-o", out, filepath.Join("..", "..", "testdata", "models", "mlp_o13.onnx")); code != 0 {
		t.Fatalf("inject: %d %s", code, stderr)
	}
	return out
}

func outputNames(t *testing.T, path string) []string {
	t.Helper()
	m, err := graphedit.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range m.Graph().GetOutput() {
		names = append(names, o.GetName())
	}
	return names
}

func TestStepOutputs(t *testing.T) {
	dir := t.TempDir()
	in := injectedMLP(t, dir)
	cases := []struct {
		name  string
		flags []string
		want  []string
	}{
		{"all", nil, []string{"loss", "fc1.weight_grad", "fc1.bias_grad", "fc2.weight_grad", "fc2.bias_grad"}},
		{"train", []string{"--train", "fc2.*"}, []string{"loss", "fc2.weight_grad", "fc2.bias_grad"}},
		{"freeze", []string{"--freeze", "fc1.*", "--freeze", "*.bias"}, []string{"loss", "fc2.weight_grad"}},
		{"train_and_freeze", []string{"--train", "*.weight", "--freeze", "fc1.*"}, []string{"loss", "fc2.weight_grad"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, c.name+".step.onnx")
			args := append([]string{"step", "--optimizer", "none", "-o", out}, c.flags...)
			code, _, stderr := runCLI(t, append(args, in)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if got := outputNames(t, out); strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Fatalf("outputs %v, want %v", got, c.want)
			}
		})
	}
}

// einsumModel has an op without a gradient rule (Einsum) between a
// parameter and a scalar loss.
func einsumModel(t *testing.T, path string) {
	t.Helper()
	s := func(v string) *string { return &v }
	f := graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT, Shape: []graphedit.Dim{{Value: 2}, {Value: 3}}}
	mp := &onnxpb.ModelProto{
		IrVersion:   ptrI64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: s(""), Version: ptrI64(17)}},
		Graph: &onnxpb.GraphProto{
			Name:        s("einsum"),
			Input:       []*onnxpb.ValueInfoProto{graphedit.TensorValueInfo("x", f)},
			Output:      []*onnxpb.ValueInfoProto{graphedit.TensorValueInfo("loss", graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT, Shape: []graphedit.Dim{}})},
			Initializer: []*onnxpb.TensorProto{graphedit.Float32Tensor("w", []int64{3, 3}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9})},
			Node: []*onnxpb.NodeProto{
				{Name: s("mm"), OpType: s("MatMul"), Input: []string{"x", "w"}, Output: []string{"h"}},
				{Name: s("ein"), OpType: s("Einsum"), Input: []string{"h"}, Output: []string{"e"}, Attribute: []*onnxpb.AttributeProto{{Name: s("equation"), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte("ij->ji")}}},
				{Name: s("sum"), OpType: s("ReduceSum"), Input: []string{"e"}, Output: []string{"loss"}, Attribute: []*onnxpb.AttributeProto{graphedit.AttrInt("keepdims", 0)}},
			},
		},
	}
	if err := (&graphedit.Model{Proto: mp}).Save(path); err != nil {
		t.Fatal(err)
	}
}

func TestStepErrors(t *testing.T) {
	dir := t.TempDir()
	in := injectedMLP(t, dir)
	ein := filepath.Join(dir, "einsum.onnx")
	einsumModel(t, ein)
	plain := filepath.Join("..", "..", "testdata", "models", "mlp_o13.onnx")
	cases := []struct {
		name string
		args []string
		want []string // substrings of the one-line message
	}{
		{"no_rule", []string{ein}, []string{`Einsum node "ein"`, "--freeze"}},
		{"not_scalar", []string{plain}, []string{`first output "logits"`, "not a scalar float loss"}},
		{"train_matches_nothing", []string{"--train", "conv*", in}, []string{`--train "conv*" matches no parameter`, `"fc1.weight"`}},
		{"freeze_matches_nothing", []string{"--freeze", "fc3.*", in}, []string{`--freeze "fc3.*" matches no parameter`}},
		{"nothing_left", []string{"--freeze", "*", in}, []string{"nothing to train"}},
		{"bad_optimizer", []string{"--optimizer", "rmsprop", in}, []string{`--optimizer "rmsprop"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, c.name+".onnx")
			args := []string{"step", "-o", out}
			if c.args[0] != "--optimizer" {
				args = append(args, "--optimizer", "none")
			}
			code, _, stderr := runCLI(t, append(args, c.args...)...)
			if code != exitBadInput {
				t.Fatalf("exit %d, want 2: %s", code, stderr)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("not one line: %q", stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("message %q lacks %q", stderr, w)
				}
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
}

// TestStepVerify builds step models of real test models and checks them
// with verify's finite differences; a step model whose gradient output is
// made wrong must fail (exit 1).
func TestStepVerify(t *testing.T) {
	if verify.StepMetadataKey != stepmodel.MetadataKey {
		t.Fatalf("verify reads %q, step writes %q", verify.StepMetadataKey, stepmodel.MetadataKey)
	}
	dir := t.TempDir()
	models := filepath.Join("..", "..", "testdata", "models")
	for _, c := range []struct{ model, loss string }{
		{"cnn_o17.onnx", "cb_focal"},
		{"train_mlp_dropout_o13.onnx", "weighted_ce"},
		{"segnet_o13.onnx", "focal"},
	} {
		t.Run(c.model, func(t *testing.T) {
			n := map[string]string{"cnn_o17.onnx": "10", "train_mlp_dropout_o13.onnx": "5", "segnet_o13.onnx": "4"}[c.model]
			cf := filepath.Join(dir, c.model+".counts.json")
			var cs []string
			for i := 0; i < atoi(n); i++ {
				cs = append(cs, []string{"5", "9", "14", "20", "30", "44", "61", "80", "100", "130"}[i])
			}
			if err := os.WriteFile(cf, []byte("["+strings.Join(cs, ",")+"]"), 0o644); err != nil {
				t.Fatal(err)
			}
			train := filepath.Join(dir, c.model+".train.onnx")
			if code, _, stderr := runCLI(t, "inject", "--loss", c.loss, "--counts", cf, "-o", train, filepath.Join(models, c.model)); code != 0 {
				t.Fatalf("inject: %s", stderr)
			}
			step := filepath.Join(dir, c.model+".step.onnx")
			if code, _, stderr := runCLI(t, "step", "--optimizer", "none", "-o", step, train); code != 0 {
				t.Fatalf("step: %s", stderr)
			}
			if code, stdout, stderr := runCLI(t, "verify", step); code != 0 {
				t.Fatalf("verify: exit %d\n%s%s", code, stdout, stderr)
			}
		})
	}
	t.Run("wrong_gradient", func(t *testing.T) {
		in := injectedMLP(t, dir)
		step := filepath.Join(dir, "wrong.step.onnx")
		if code, _, stderr := runCLI(t, "step", "--optimizer", "none", "-o", step, in); code != 0 {
			t.Fatal(stderr)
		}
		m, err := graphedit.Load(step)
		if err != nil {
			t.Fatal(err)
		}
		// Scale fc2.bias's gradient by 1.01 where it reaches its output: the
		// output's Identity becomes a Mul by an initializer (graph order kept).
		if err := m.AddInitializer(graphedit.Float32Tensor("test/k", []int64{}, []float32{1.01})); err != nil {
			t.Fatal(err)
		}
		for _, n := range m.Graph().GetNode() {
			if len(n.GetOutput()) == 1 && n.GetOutput()[0] == "fc2.bias_grad" {
				n.OpType = ptrStr("Mul")
				n.Input = append(n.Input, "test/k")
			}
		}
		if err := m.Save(step); err != nil {
			t.Fatal(err)
		}
		if code, stdout, _ := runCLI(t, "verify", step); code != exitMismatch {
			t.Fatalf("verify of a wrong gradient: exit %d, want 1\n%s", code, stdout)
		}
	})
}

func atoi(s string) int {
	n := 0
	for _, ch := range s {
		n = 10*n + int(ch-'0')
	}
	return n
}

func ptrStr(s string) *string { return &s }
