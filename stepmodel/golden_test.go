package stepmodel

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/internal/goldens"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/verify/eval"
)

// gradCase is one case of testdata/goldens/grads.json.gz (see
// scripts/gen-grad-goldens.py): a model, a loss, a batch and the gradients
// torch.autograd.grad computed for them.
type gradCase struct {
	goldens.Case
	Model       string                    `json:"model"`
	DType       string                    `json:"dtype"`
	Inputs      map[string]goldens.Tensor `json:"inputs"`
	LabelsInput string                    `json:"labels_input"`
	LossValue   float64                   `json:"loss_value"`
	Grads       map[string]goldens.Tensor `json:"grads"`
	LogitsPeak  float64                   `json:"logits_peak"`
	// IntInputs lists the inputs fed as int64 (token ids).
	IntInputs []string `json:"int_inputs"`
}

func loadGradCases(t *testing.T, root string) []gradCase {
	t.Helper()
	return loadGradFile(t, filepath.Join(root, "testdata", "goldens", "grads.json.gz"))
}

// loadAllGradCases is grads.json.gz followed by catalogue_grads.json.gz
// (scripts/gen-catalogue-grad-goldens.py: the catalogue's newer losses, with
// torch autograd through smp, MONAI and timm themselves).
func loadAllGradCases(t *testing.T, root string) []gradCase {
	t.Helper()
	return append(loadGradCases(t, root), loadGradFile(t, filepath.Join(root, "testdata", "goldens", "catalogue_grads.json.gz"))...)
}

// buildStep injects the case's loss into its model and builds the
// --optimizer none step model, written to dir.
func buildStep(t *testing.T, root, dir string, i int, c gradCase) (string, *Step) {
	t.Helper()
	m, err := graphedit.Load(filepath.Join(root, c.Model))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.Model, "dropout") {
		zeroDropout(t, m)
	}
	opt, err := c.Options()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inject.Inject(m, opt); err != nil {
		t.Fatalf("inject: %v", err)
	}
	st, err := Prepare(m, Selection{})
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if err := st.OutputGradients(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("case%03d.onnx", i))
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	return path, st
}

// zeroDropout sets the ratio of every Dropout to 0: torch's side of the
// golden runs with p = 0, since the two cannot draw the same random mask.
// The node stays in training mode, so its mask path is what is tested.
func zeroDropout(t *testing.T, m *graphedit.Model) {
	t.Helper()
	for _, n := range m.Graph().GetNode() {
		if n.GetOpType() != "Dropout" || len(n.GetInput()) < 2 {
			continue
		}
		for _, p := range m.Graph().GetNode() {
			if p.GetOpType() == "Constant" && len(p.GetOutput()) == 1 && p.GetOutput()[0] == n.GetInput()[1] {
				p.Attribute = []*onnxpb.AttributeProto{graphedit.AttrTensor("value", graphedit.Float32Tensor("", []int64{}, []float32{0}))}
			}
		}
	}
}

// TestGradientsMatchTorch runs every step model of grads.json.gz in ONNX
// Runtime and compares its <p>_grad outputs with torch.autograd.grad of the
// same loss on the same module and batch (torch in float64).
//
// Tolerances. float32 models: |got - want| <= 1e-6 + 1e-4 * max|want|, the
// maximum over every gradient entry of the case (an infinity-norm relative
// error of the whole gradient): float32 rounds each operation at 6e-8
// relative to the magnitudes involved, and entries that are sums cancelling
// to ~0 (the bias before a training-mode BatchNorm has an exact gradient of
// 0) carry the rounding of the large terms they sum, not of their own size. The logits-at-1e4 cases use 1e-3: their
// logits already differ from float64's by about 1e4 * 6e-8 * sqrt(32) ~ 3e-3
// absolute after the float32 forward pass, and the gradients move with them.
// float64 models: elementwise 1e-12 + 1e-9 * |want| (float64 rounding,
// ~1e-16 per operation); they run in the Go evaluator, and in ONNX Runtime
// too where it has float64 kernels for every op (it has no float64 Conv).
func TestGradientsMatchTorch(t *testing.T) {
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cases := loadAllGradCases(t, root)
	refs.ORTHarness(t)
	dir := t.TempDir()
	var jobs []refs.Job
	jobOf := make([]int, len(cases))
	steps := make([]*Step, len(cases))
	paths := make([]string, len(cases))
	for i, c := range cases {
		path, st := buildStep(t, root, dir, i, c)
		steps[i], paths[i] = st, path
		jobOf[i] = -1
		if c.DType == "float64" && hasOp(st.Model, "Conv") {
			continue // no float64 Conv kernel in ONNX Runtime's CPU provider
		}
		jobOf[i] = len(jobs)
		jobs = append(jobs, refs.Job{Model: path, Inputs: ortFeeds(c)})
	}
	results := refs.RunORT(t, jobs)
	for i, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			st := steps[i]
			if len(st.Params) != len(c.Grads) {
				t.Fatalf("trainable %v, torch's parameters %d", st.Params, len(c.Grads))
			}
			if j := jobOf[i]; j >= 0 {
				res := results[j]
				if res.Error != "" {
					t.Fatalf("ONNX Runtime: %s", res.Error)
				}
				compareOutputs(t, "ONNX Runtime", c, st, func(name string) []float64 {
					v, err := res.Outputs[name].Floats()
					if err != nil {
						t.Fatal(err)
					}
					return v
				})
			}
			if c.DType == "float64" {
				out := runEvaluator(t, paths[i], c)
				compareOutputs(t, "the evaluator", c, st, func(name string) []float64 { return out[name].AsFloat64() })
			}
		})
	}
}

func hasOp(m *graphedit.Model, op string) bool {
	for _, n := range m.Graph().GetNode() {
		if n.GetOpType() == op {
			return true
		}
	}
	return false
}

func ortFeeds(c gradCase) map[string]refs.Tensor {
	feeds := map[string]refs.Tensor{}
	for name, x := range c.Inputs {
		if slices.Contains(c.IntInputs, name) {
			feeds[name] = refs.IntTensor("int64", x.Shape, ints(x.Data))
			continue
		}
		feeds[name] = refs.FloatTensor(c.DType, x.Shape, x.Data)
	}
	if c.MultiHot() {
		feeds[c.LabelsInput] = refs.FloatTensor(c.LabelsDtype, c.Labels.Shape, c.Labels.Data)
		return feeds
	}
	feeds[c.LabelsInput] = refs.IntTensor("int64", c.Labels.Shape, labelInts(c))
	return feeds
}

func labelInts(c gradCase) []int64 { return ints(c.Labels.Data) }

func ints(v []float64) []int64 {
	out := make([]int64, len(v))
	for k, x := range v {
		out[k] = int64(x)
	}
	return out
}

func dims64(s []int) []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = int64(d)
	}
	return out
}

func runEvaluator(t *testing.T, path string, c gradCase) map[string]*eval.Tensor {
	t.Helper()
	m, err := graphedit.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	feeds := map[string]*eval.Tensor{}
	for name, x := range c.Inputs {
		if slices.Contains(c.IntInputs, name) {
			feeds[name] = eval.NewInt64(dims64(x.Shape), ints(x.Data))
			continue
		}
		feeds[name] = eval.NewFloat64(dims64(x.Shape), x.Data)
	}
	feeds[c.LabelsInput] = eval.NewInt64(dims64(c.Labels.Shape), labelInts(c))
	var outs []string
	for _, o := range m.Graph().GetOutput() {
		outs = append(outs, o.GetName())
	}
	res, err := eval.Run(m.Proto, filepath.Dir(path), feeds, outs)
	if err != nil {
		t.Fatalf("evaluator: %v", err)
	}
	return res
}

func compareOutputs(t *testing.T, who string, c gradCase, st *Step, get func(string) []float64) {
	t.Helper()
	rtol, atol, normwise := 1e-4, 1e-6, true
	if strings.HasSuffix(c.Name, "_extreme") {
		rtol = 1e-3
	}
	if c.DType == "float64" {
		rtol, atol, normwise = 1e-9, 1e-12, false
	}
	// scale is the largest torch gradient entry of the case.
	scale := 0.0
	for _, g := range c.Grads {
		for _, w := range g.Data {
			scale = math.Max(scale, math.Abs(w))
		}
	}
	lv := get(st.Loss)
	if d := math.Abs(lv[0] - c.LossValue); d > atol+rtol*math.Abs(c.LossValue) {
		t.Errorf("%s: loss %.12g, torch %.12g", who, lv[0], c.LossValue)
	}
	for _, p := range st.Params {
		want, ok := c.Grads[p]
		if !ok {
			t.Fatalf("%s is trainable here but not a torch parameter", p)
		}
		got := get(GradName(p))
		if len(got) != len(want.Data) {
			t.Fatalf("%s: %s has %d values, torch %d", who, p, len(got), len(want.Data))
		}
		worst, at := 0.0, -1
		for k := range got {
			if math.IsNaN(got[k]) || math.IsInf(got[k], 0) {
				t.Fatalf("%s: %s[%d] = %v is not finite", who, GradName(p), k, got[k])
			}
			ref := math.Abs(want.Data[k])
			if normwise {
				ref = scale
			}
			e := math.Abs(got[k]-want.Data[k]) / (atol + rtol*ref)
			if e > worst {
				worst, at = e, k
			}
		}
		if worst > 1 {
			t.Errorf("%s: %s[%d] = %.12g, torch %.12g (%.2g times the tolerance)", who, GradName(p), at, got[at], want.Data[at], worst)
		}
	}
}

// TestGradGoldensReproduceFromPyTorch regenerates grads.json.gz with the
// committed script and checks the committed file holds what PyTorch
// computes: same cases, inputs, and gradients to 1e-11 relative (float64
// autograd, stored to 12 significant digits; bit-level differences between
// CPUs stay far below that).
func TestGradGoldensReproduceFromPyTorch(t *testing.T) {
	if err := exec.Command(refs.Python, "-c", "import torch, torchvision, onnx").Run(); err != nil {
		refs.Unavailable(t, "PyTorch", "apt-get install -y python3-torch python3-torchvision python3-onnx (run with /usr/bin/python3)")
	}
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(t.TempDir(), "grads.json.gz")
	if out, err := exec.Command(refs.Python, filepath.Join(root, "scripts", "gen-grad-goldens.py"), fresh).CombinedOutput(); err != nil {
		t.Fatalf("gen-grad-goldens.py: %v\n%s", err, out)
	}
	want := loadGradFile(t, fresh)
	got := loadGradCases(t, root)
	if len(got) != len(want) {
		t.Fatalf("committed grads.json.gz has %d cases, PyTorch gives %d: regenerate it", len(got), len(want))
	}
	close := func(what string, a, b []float64) {
		if len(a) != len(b) {
			t.Fatalf("%s: %d values, PyTorch %d", what, len(a), len(b))
		}
		for i := range a {
			if d := math.Abs(a[i] - b[i]); d > 1e-11*math.Abs(b[i]) && d > 1e-300 {
				t.Fatalf("%s[%d] = %.17g, PyTorch %.17g", what, i, a[i], b[i])
			}
		}
	}
	for i := range want {
		if got[i].Name != want[i].Name {
			t.Fatalf("case %d is %q, PyTorch's is %q", i, got[i].Name, want[i].Name)
		}
		for name, x := range want[i].Inputs {
			close(got[i].Name+" input "+name, got[i].Inputs[name].Data, x.Data)
		}
		for p, g := range want[i].Grads {
			close(got[i].Name+" grad "+p, got[i].Grads[p].Data, g.Data)
		}
	}
}

func loadGradFile(t *testing.T, path string) []gradCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var file struct {
		Cases []gradCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return file.Cases
}

// TestCatalogueGradGoldensReproduce reruns
// scripts/gen-catalogue-grad-goldens.py with the .venv Python (smp, MONAI,
// timm) and checks the committed catalogue_grads.json.gz holds what PyTorch
// computes through them: same cases and inputs, gradients to 1e-11 relative
// (float64 autograd stored to 12 significant digits).
func TestCatalogueGradGoldensReproduce(t *testing.T) {
	py := refs.VenvPython(t, "segmentation_models_pytorch", "monai", "timm")
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(t.TempDir(), "catalogue_grads.json.gz")
	if out, err := exec.Command(py, filepath.Join(root, "scripts", "gen-catalogue-grad-goldens.py"), fresh).CombinedOutput(); err != nil {
		t.Fatalf("gen-catalogue-grad-goldens.py: %v\n%s", err, out)
	}
	want := loadGradFile(t, fresh)
	got := loadGradFile(t, filepath.Join(root, "testdata", "goldens", "catalogue_grads.json.gz"))
	if len(got) != len(want) {
		t.Fatalf("committed catalogue_grads.json.gz has %d cases, PyTorch gives %d: regenerate it", len(got), len(want))
	}
	for i := range want {
		if got[i].Name != want[i].Name {
			t.Fatalf("case %d is %q, PyTorch's is %q", i, got[i].Name, want[i].Name)
		}
		for p, g := range want[i].Grads {
			a := got[i].Grads[p].Data
			if len(a) != len(g.Data) {
				t.Fatalf("%s grad %s: %d values, PyTorch %d", want[i].Name, p, len(a), len(g.Data))
			}
			for k := range a {
				if d := math.Abs(a[k] - g.Data[k]); d > 1e-11*math.Abs(g.Data[k]) && d > 1e-300 {
					t.Fatalf("%s grad %s[%d] = %.17g, PyTorch %.17g", want[i].Name, p, k, a[k], g.Data[k])
				}
			}
		}
	}
}
