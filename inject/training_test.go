package inject_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/internal/goldens"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/verify"
)

// trainingCase is one entry of testdata/goldens/training.json: a training
// graph, the loss swapped in, and PyTorch's value of that loss.
type trainingCase struct {
	goldens.Case
	Model             string `json:"model"`
	OverrideReduction bool   `json:"override_reduction"`
}

func loadTrainingCases(t *testing.T, root string) []trainingCase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "testdata", "goldens", "training.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []trainingCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	return file.Cases
}

// TestSwapTrainingGraphLoss swaps every loss of the catalogue into the
// PyTorch training graphs and checks in ONNX Runtime 1.30 that the output
// under the old loss's name is PyTorch's value of the new loss (rtol 1e-5),
// with the old loss's reduction and ignore_index carried over unless
// overridden; that the old loss nodes and weight initializer are gone; and
// that the graph passes the onnx checker.
func TestSwapTrainingGraphLoss(t *testing.T) {
	refs.ORTHarness(t)
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	records := loadTorchRecords(t, root)
	cases := loadTrainingCases(t, root)
	if len(cases) < 18 {
		t.Fatalf("%d training cases", len(cases))
	}
	dir := t.TempDir()
	var jobs []refs.Job
	var paths []string
	for i, c := range cases {
		opt, err := c.Options()
		if err != nil {
			t.Fatal(err)
		}
		// Leave reduction and ignore_index to be carried over from the
		// exported loss, unless the case overrides the reduction.
		opt.IgnoreIndex = nil
		if !c.OverrideReduction {
			opt.Reduction = ""
		}
		m, err := graphedit.Load(filepath.Join(root, "testdata", "models", c.Model))
		if err != nil {
			t.Fatal(err)
		}
		oldOutputs := outputNames(m)
		res, err := inject.Inject(m, opt)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if got := outputNames(m); strings.Join(got, ",") != strings.Join(oldOutputs, ",") {
			t.Errorf("%s: outputs %v, want the old %v", c.Name, got, oldOutputs)
		}
		if res.Metadata.Replaced == nil || res.Metadata.LossOutput != "loss" || res.Metadata.Labels != "target" {
			t.Errorf("%s: metadata %+v", c.Name, res.Metadata)
		}
		for _, n := range m.Graph().GetNode() {
			if n.GetOpType() == "SoftmaxCrossEntropyLoss" {
				t.Errorf("%s: old loss node %s still there", c.Name, n.GetName())
			}
		}
		if m.Initializer("class_weight") != nil {
			t.Errorf("%s: the old weight initializer is still there", c.Name)
		}
		path := filepath.Join(dir, filepath.Base(c.Model)+"."+string(rune('a'+i%26))+string(rune('a'+i/26))+".onnx")
		if err := m.Save(path); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
		// verify handles a replaced loss like an injected one.
		if rep, err := verify.Synthetic(m, path, verify.SyntheticOptions{Tolerance: verify.DefaultTolerance, Seed: 5}); err != nil || !rep.Pass {
			t.Errorf("%s: verify: %v %+v", c.Name, err, rep)
		}
		feeds := map[string]refs.Tensor{}
		for name, in := range records[c.Model].Inputs {
			if in.DType == "int64" {
				ints := make([]int64, len(in.Data))
				for j, v := range in.Data {
					ints[j] = int64(v)
				}
				feeds[name] = refs.IntTensor("int64", in.Shape, ints)
				continue
			}
			feeds[name] = refs.FloatTensor(in.DType, in.Shape, in.Data)
		}
		jobs = append(jobs, refs.Job{Model: path, Inputs: feeds, Outputs: []string{"loss"}})
	}
	results := refs.RunORT(t, jobs)
	for i, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if results[i].Error != "" {
				t.Fatalf("ONNX Runtime: %s", results[i].Error)
			}
			got, err := results[i].Outputs["loss"].Floats()
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.Expected.Data) {
				t.Fatalf("loss has %d values, PyTorch %d", len(got), len(c.Expected.Data))
			}
			for j, want := range c.Expected.Data {
				if !closeTo(got[j], want, 1e-5, 1e-6) {
					t.Errorf("loss[%d] = %.9g, PyTorch %.9g", j, got[j], want)
				}
			}
			// The Go evaluator (Dropout in inference mode) agrees with ORT.
			ev := evalLoss(t, jobs[i])
			for j := range got {
				if !closeTo(ev[j], got[j], 1e-5, 1e-6) {
					t.Errorf("evaluator loss[%d] = %.9g, ONNX Runtime %.9g", j, ev[j], got[j])
				}
			}
		})
	}
	for p, msg := range refs.CheckModels(t, paths) {
		t.Errorf("%s: %s", filepath.Base(p), msg)
	}
}

func outputNames(m *graphedit.Model) []string {
	var out []string
	for _, o := range m.Graph().GetOutput() {
		out = append(out, o.GetName())
	}
	return out
}

// TestKeepLoss keeps the exported loss beside the new one: the new loss is
// the first output under --loss-name, the old one still equals PyTorch's
// F.cross_entropy value.
func TestKeepLoss(t *testing.T) {
	refs.ORTHarness(t)
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	rec := loadTorchRecords(t, root)["train_mlp_ce_o13.onnx"]
	m, err := graphedit.Load(filepath.Join(root, "testdata", "models", "train_mlp_ce_o13.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	opt := inject.Options{Loss: lossops.CBSoftmax, Counts: &lossops.Counts{Values: []float64{900, 426, 201, 95, 45}}, Beta: 0.999, Normalize: true, KeepLoss: true, LossName: "cb_loss"}
	res, err := inject.Inject(m, opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := outputNames(m); strings.Join(got, ",") != "cb_loss,loss" {
		t.Fatalf("outputs %v", got)
	}
	path := filepath.Join(t.TempDir(), "keep.onnx")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	feeds := map[string]refs.Tensor{
		"x":      refs.FloatTensor("float32", rec.Inputs["x"].Shape, rec.Inputs["x"].Data),
		"target": refs.IntTensor("int64", rec.Inputs["target"].Shape, toInts(rec.Inputs["target"].Data)),
	}
	r := refs.RunORT(t, []refs.Job{{Model: path, Inputs: feeds}})[0]
	if r.Error != "" {
		t.Fatal(r.Error)
	}
	old, _ := r.Outputs["loss"].Floats()
	if want := rec.Outputs["loss"].Data[0]; !closeTo(old[0], want, 1e-5, 1e-6) {
		t.Errorf("kept loss = %g, PyTorch F.cross_entropy %g", old[0], want)
	}
	logits := rec.Extra["logits"]
	want, _, err := lossops.Reference(res.Metadata.Spec(), logits.Data, logits.Shape, toInts(rec.Inputs["target"].Data), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := r.Outputs["cb_loss"].Floats()
	if !closeTo(got[0], want[0], 1e-5, 1e-6) {
		t.Errorf("new loss = %g, closed form %g", got[0], want[0])
	}
}

func toInts(v []float64) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

// TestAmbiguousTrainingLoss: two loss nodes, or scores that are not
// class-axis-1 logits, are errors naming the nodes and suggesting --logits.
func TestAmbiguousTrainingLoss(t *testing.T) {
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	counts := &lossops.Counts{Values: []float64{9, 8, 7, 6, 5}}
	twoLosses := func() *graphedit.Model {
		m, err := graphedit.Load(filepath.Join(root, "testdata", "models", "train_mlp_ce_o13.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range m.Graph().GetNode() {
			if n.GetOpType() == "SoftmaxCrossEntropyLoss" {
				s := func(v string) *string { return &v }
				m.Graph().Node = append(m.Graph().Node, &onnxpb.NodeProto{Name: s("second_loss"), OpType: s("SoftmaxCrossEntropyLoss"), Input: n.GetInput()[:2], Output: []string{"loss2"}})
				break
			}
		}
		m.ResetNames()
		return m
	}
	wrongAxis := func() *graphedit.Model {
		b := graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT, Shape: []graphedit.Dim{{Value: 4}, {Value: 5}}}
		s := func(v string) *string { return &v }
		mp := &onnxpb.ModelProto{
			IrVersion:   ptr(int64(7)),
			OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: s(""), Version: ptr(int64(13))}},
			Graph: &onnxpb.GraphProto{
				Name: s("g"),
				Input: []*onnxpb.ValueInfoProto{graphedit.TensorValueInfo("scores", b),
					graphedit.TensorValueInfo("target", graphedit.ValueType{Elem: onnxpb.TensorProto_INT64, Shape: []graphedit.Dim{{Value: 4}}})},
				Output: []*onnxpb.ValueInfoProto{graphedit.TensorValueInfo("loss", graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT, Shape: []graphedit.Dim{}})},
				Node: []*onnxpb.NodeProto{
					{Name: s("lsm"), OpType: s("LogSoftmax"), Input: []string{"scores"}, Output: []string{"logp"}, Attribute: []*onnxpb.AttributeProto{graphedit.AttrInt("axis", 0)}},
					{Name: s("nll"), OpType: s("NegativeLogLikelihoodLoss"), Input: []string{"logp", "target"}, Output: []string{"loss"}},
				},
			},
		}
		return &graphedit.Model{Proto: mp}
	}
	tests := []struct {
		name  string
		model func() *graphedit.Model
		want  []string
	}{
		{"two loss nodes", twoLosses, []string{"2 loss nodes", "second_loss", "/SoftmaxCrossEntropyLoss", "--logits"}},
		{"log-softmax over axis 0", wrongAxis, []string{"not class-axis-1 logits", "lsm", "nll", "--logits"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := inject.Inject(tc.model(), inject.Options{Loss: lossops.Focal, Counts: counts, Gamma: 2, Normalize: true})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestReplaceSwappedTrainingLoss re-injects (--replace) into a training
// graph whose loss onnxloss already swapped: the graph keeps its inputs and
// its loss output, and the new loss is PyTorch's value for it.
func TestReplaceSwappedTrainingLoss(t *testing.T) {
	refs.ORTHarness(t)
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	var want *trainingCase
	for _, c := range loadTrainingCases(t, root) {
		if c.Model == "train_mlp_ce_o13.onnx" && c.Loss == "cb_softmax" && !c.OverrideReduction {
			want = &c
			break
		}
	}
	if want == nil {
		t.Fatal("no cb_softmax training golden")
	}
	m, err := graphedit.Load(filepath.Join(root, "testdata", "models", want.Model))
	if err != nil {
		t.Fatal(err)
	}
	first := inject.Options{Loss: lossops.Focal, Counts: &lossops.Counts{Values: want.Counts}, Gamma: 2, Normalize: true}
	if _, err := inject.Inject(m, first); err != nil {
		t.Fatal(err)
	}
	if _, err := inject.Inject(m, first); err == nil || !strings.Contains(err.Error(), "--replace") {
		t.Fatalf("second injection without Replace: %v", err)
	}
	opt, err := want.Options()
	if err != nil {
		t.Fatal(err)
	}
	opt.IgnoreIndex, opt.Reduction, opt.Replace = nil, "", true
	res, err := inject.Inject(m, opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Metadata.Replaced == nil || res.Metadata.LossOutput != "loss" || res.Metadata.Labels != "target" || res.Metadata.IgnoreIndex == nil {
		t.Errorf("metadata %+v", res.Metadata)
	}
	if got := outputNames(m); strings.Join(got, ",") != "loss" {
		t.Errorf("outputs %v, want [loss]", got)
	}
	var inputs []string
	for _, in := range m.Graph().GetInput() {
		inputs = append(inputs, in.GetName())
	}
	if strings.Join(inputs, ",") != "x,target" {
		t.Errorf("inputs %v, want [x target]", inputs)
	}
	path := filepath.Join(t.TempDir(), "replaced.onnx")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	rec := loadTorchRecords(t, root)[want.Model]
	feeds := map[string]refs.Tensor{
		"x":      refs.FloatTensor("float32", rec.Inputs["x"].Shape, rec.Inputs["x"].Data),
		"target": refs.IntTensor("int64", rec.Inputs["target"].Shape, toInts(rec.Inputs["target"].Data)),
	}
	r := refs.RunORT(t, []refs.Job{{Model: path, Inputs: feeds}})[0]
	if r.Error != "" {
		t.Fatal(r.Error)
	}
	got, _ := r.Outputs["loss"].Floats()
	if !closeTo(got[0], want.Expected.Data[0], 1e-5, 1e-6) {
		t.Errorf("loss = %.9g, PyTorch %.9g", got[0], want.Expected.Data[0])
	}
}
