package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/internal/goldens"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/tensorfile"
	"github.com/onnxloss/onnxloss/verify/eval"
)

// axisRecord is one model of axis_expected.json (gen_axis_models.py).
type axisRecord struct {
	Inputs    map[string]goldens.ModelTensor `json:"inputs"`
	Outputs   map[string]goldens.ModelTensor `json:"outputs"`
	ClassAxis map[string]any                 `json:"class_axis"`
	AutoAxis  map[string]any                 `json:"auto_axis"`
	Losses    map[string]struct {
		Labels           goldens.ModelTensor `json:"labels"`
		CEMean           float64             `json:"ce_mean"`
		CESum            float64             `json:"ce_sum"`
		SigmoidFocalMean float64             `json:"sigmoid_focal_mean"`
		C                int                 `json:"C"`
	} `json:"losses"`
	AuxRecipe *struct {
		Target  goldens.ModelTensor `json:"target"`
		LossOut float64             `json:"loss_out"`
		LossAux float64             `json:"loss_aux"`
		Loss    float64             `json:"loss"`
	} `json:"aux_recipe"`
}

func loadAxisRecords(t *testing.T, path string) map[string]axisRecord {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	out := map[string]axisRecord{}
	for k, v := range all {
		if k == "_about" {
			continue
		}
		var r axisRecord
		if err := json.Unmarshal(v, &r); err != nil {
			t.Fatalf("%s: %s: %v", path, k, err)
		}
		out[k] = r
	}
	return out
}

func ortTensor(mt goldens.ModelTensor) refs.Tensor {
	if mt.DType == "int64" {
		ints := make([]int64, len(mt.Data))
		for i, v := range mt.Data {
			ints[i] = int64(v)
		}
		return refs.IntTensor("int64", mt.Shape, ints)
	}
	return refs.FloatTensor(mt.DType, mt.Shape, mt.Data)
}

func countsFile(t *testing.T, dir string, C int) string {
	t.Helper()
	parts := make([]string, C)
	for i := range parts {
		parts[i] = fmt.Sprint(100 + 37*i)
	}
	return writeFile(t, filepath.Join(dir, fmt.Sprintf("counts%d.json", C)), "["+strings.Join(parts, ",")+"]")
}

// logitsOfRank returns the model's float graph outputs of rank >= minRank.
func logitsOfRank(t *testing.T, path string, minRank int) []string {
	t.Helper()
	m, err := graphedit.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range m.Graph().GetOutput() {
		vt, ok := m.ValueType(o.GetName())
		if ok && graphedit.IsFloat(vt.Elem) && vt.Rank() >= minRank {
			out = append(out, o.GetName())
		}
	}
	return out
}

// checkModelAxes injects weighted_ce (no weights: torch's plain
// F.cross_entropy) and sigmoid_focal into every output of every model of
// records through the CLI, without --class-axis first: the automatic choice
// must be the true axis, or an exit-2 error naming --class-axis (then it is
// given). ONNX Runtime's loss on the recorded inputs and labels must equal
// torch's on the true layout (cross_entropy of the logits with the class
// axis moved to 1, torchvision's sigmoid_focal_loss of the one-hot targets):
// rtol 1e-5 (the forward pass in float32 in both). It returns the outputs
// checked.
func checkModelAxes(t *testing.T, dir string, records map[string]axisRecord) map[string]bool {
	t.Helper()
	checked := map[string]bool{}
	var jobs []refs.Job
	type want struct {
		name  string
		value float64
	}
	var wants []want
	names := make([]string, 0, len(records))
	for k := range records {
		names = append(names, k)
	}
	sort.Strings(names)
	work := t.TempDir()
	for _, file := range names {
		rec := records[file]
		model := filepath.Join(dir, file)
		for out, axisAny := range rec.ClassAxis {
			trueAxis := int(axisAny.(float64))
			L := rec.Losses[out]
			counts := countsFile(t, work, L.C)
			for _, loss := range []string{"weighted_ce", "sigmoid_focal"} {
				dst := filepath.Join(work, fmt.Sprintf("%s.%s.%s.onnx", file, strings.ReplaceAll(out, "/", "_"), loss))
				args := []string{"inject", "--loss", loss, "--weighting", "none", "--counts", counts, "--logits", out, "-o", dst, model}
				code, _, stderr := runBinary(t, args...)
				if auto, ok := rec.AutoAxis[out].(string); ok && auto == "ask" {
					if code != 2 || !strings.Contains(stderr, "--class-axis") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
						t.Fatalf("%s %s: exit %d, stderr %q; want one line asking for --class-axis", file, out, code, stderr)
					}
					if _, err := os.Stat(dst); err == nil {
						t.Fatalf("%s %s: an output was written despite the error", file, out)
					}
					args = append(args[:len(args)-1], "--class-axis", fmt.Sprint(trueAxis), model)
					code, _, stderr = runBinary(t, args...)
				}
				if code != 0 {
					t.Fatalf("%s %s: exit %d: %s", file, out, code, stderr)
				}
				if w := fmt.Sprintf("class axis %d of %s", trueAxis, out); !strings.Contains(stderr, w) {
					t.Fatalf("%s %s: stderr does not say %q:\n%s", file, out, w, stderr)
				}
				feeds := map[string]refs.Tensor{"labels": ortTensor(L.Labels)}
				for n, v := range rec.Inputs {
					feeds[n] = ortTensor(v)
				}
				jobs = append(jobs, refs.Job{Model: dst, Inputs: feeds, Outputs: []string{"loss"}})
				v := L.CEMean
				if loss == "sigmoid_focal" {
					v = L.SigmoidFocalMean
				}
				wants = append(wants, want{fmt.Sprintf("%s %s %s (class axis %d)", file, out, loss, trueAxis), v})
			}
			checked[file+" "+out] = true
		}
	}
	res := refs.RunORT(t, jobs)
	for i, r := range res {
		if r.Error != "" {
			t.Errorf("%s: ONNX Runtime: %s", wants[i].name, r.Error)
			continue
		}
		got, err := r.Outputs["loss"].Floats()
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got[0]-wants[i].value) > 1e-6+1e-5*math.Abs(wants[i].value) {
			t.Errorf("%s: ONNX Runtime loss %.9g, torch %.9g", wants[i].name, got[0], wants[i].value)
		}
	}
	return checked
}

// TestEveryModelGetsTheRightClassAxis: every model in testdata/models with
// logits of rank >= 3 gets its true class axis from inject's automatic
// choice, or an exit-2 error naming --class-axis — never a loss over another
// axis — and the loss equals torch's on its layout (class axis 1: the
// Conv1d labeller, the NCHW segmenter; class last: the token classifier, the
// detection head, the NHWC segmenter). The rank-2 ViT is checked too.
func TestEveryModelGetsTheRightClassAxis(t *testing.T) {
	refs.ORTHarness(t)
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "testdata", "models")
	records := loadAxisRecords(t, filepath.Join(dir, "axis_expected.json"))
	checked := checkModelAxes(t, dir, records)

	// segnet_o13.onnx predates axis_expected.json: (N, 4, H, W), class axis 1
	// (testdata/models/README.md), its torch logits in expected.json.
	legacy, err := goldens.LoadModelRecords(root)
	if err != nil {
		t.Fatal(err)
	}
	seg := legacy["segnet_o13.onnx"]
	logits := seg.Outputs["logits"]
	work := t.TempDir()
	dst := filepath.Join(work, "segnet.onnx")
	code, _, stderr := runBinary(t, "inject", "--loss", "weighted_ce", "--weighting", "none", "--counts", countsFile(t, work, 4), "-o", dst, filepath.Join(dir, "segnet_o13.onnx"))
	if code != 0 || !strings.Contains(stderr, "class axis 1 of logits") {
		t.Fatalf("segnet_o13: exit %d: %s", code, stderr)
	}
	lshape := []int{logits.Shape[0], logits.Shape[2], logits.Shape[3]}
	labels := make([]int64, lshape[0]*lshape[1]*lshape[2])
	for i := range labels {
		labels[i] = int64((i*7 + 3) % 4)
	}
	r := refs.RunORT(t, []refs.Job{{Model: dst, Inputs: map[string]refs.Tensor{"image": ortTensor(seg.Inputs["image"]), "labels": refs.IntTensor("int64", lshape, labels)}, Outputs: []string{"loss"}}})[0]
	if r.Error != "" {
		t.Fatal(r.Error)
	}
	got, _ := r.Outputs["loss"].Floats()
	want, _, err := lossops.Reference(lossops.Spec{Loss: lossops.WeightedCE, Reduction: lossops.Mean}, logits.Data, logits.Shape, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got[0]-want[0]) > 1e-5*math.Abs(want[0]) {
		t.Errorf("segnet_o13: ONNX Runtime %.9g, closed form on torch's logits %.9g", got[0], want[0])
	}
	checked["segnet_o13.onnx logits"] = true

	// Nothing in testdata/models with rank >= 3 logits is left out.
	files, _ := filepath.Glob(filepath.Join(dir, "*.onnx"))
	for _, f := range files {
		for _, out := range logitsOfRank(t, f, 3) {
			if !checked[filepath.Base(f)+" "+out] {
				t.Errorf("%s output %s has rank >= 3 logits but no class-axis check", filepath.Base(f), out)
			}
		}
	}
}

// largeModels exports the large torchvision models (gen_axis_models.py
// --large) into a temporary directory, or skips/fails when torch is absent.
func largeModels(t *testing.T) string {
	t.Helper()
	if err := exec.Command(refs.Python, "-c", "import torch, torchvision, onnx").Run(); err != nil {
		refs.Unavailable(t, "PyTorch", "install Debian's python3-torch python3-torchvision python3-onnx")
	}
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(refs.Python, filepath.Join(root, "testdata", "models", "gen_axis_models.py"), "--large", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("exporting the large models: %v\n%s", err, out)
	}
	return dir
}

// TestLargeTorchvisionModels exports torchvision's
// deeplabv3_mobilenet_v3_large (aux_loss=True: outputs out and aux) and
// mobilenet_v3_small at test time (45 MB and 6 MB, so never committed),
// checks their class axes like TestEveryModelGetsTheRightClassAxis, and
// runs torchvision's segmentation-reference recipe as one command:
// `--loss weighted_ce --weighting none --ignore-index 255 --logits out,aux
// --head-weights 1,0.5` must give loss = losses["out"] + 0.5·losses["aux"]
// with cross_entropy(ignore_index=255) (references/segmentation/train.py's
// criterion), each head's loss as loss/out and loss/aux, sharing one labels
// input; rtol 1e-5 in ONNX Runtime.
func TestLargeTorchvisionModels(t *testing.T) {
	refs.ORTHarness(t)
	dir := largeModels(t)
	records := loadAxisRecords(t, filepath.Join(dir, "axis_expected.json"))
	checked := checkModelAxes(t, dir, records)
	for _, want := range []string{"deeplabv3_mbv3_o13.onnx out", "deeplabv3_mbv3_o13.onnx aux", "mobilenet_v3_small_o13.onnx logits"} {
		if !checked[want] {
			t.Errorf("%s not checked", want)
		}
	}

	rec := records["deeplabv3_mbv3_o13.onnx"]
	work := t.TempDir()
	dst := filepath.Join(work, "deeplab.train.onnx")
	code, _, stderr := runBinary(t, "inject", "--loss", "weighted_ce", "--weighting", "none", "--ignore-index", "255",
		"--counts", countsFile(t, work, 5), "--logits", "out,aux", "--head-weights", "1,0.5", "-o", dst, filepath.Join(dir, "deeplabv3_mbv3_o13.onnx"))
	if code != 0 {
		t.Fatalf("inject: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "labels labels (shared)") || !strings.Contains(stderr, "loss = 1·loss/out + 0.5·loss/aux") {
		t.Errorf("stderr does not describe the shared labels and the weighted sum:\n%s", stderr)
	}
	if code, stdout, stderr := runBinary(t, "verify", dst); code != 0 || !strings.Contains(stdout, "loss/aux") {
		t.Errorf("verify (every head against the closed form): exit %d\n%s%s", code, stdout, stderr)
	}
	m, err := graphedit.Load(dst)
	if err != nil {
		t.Fatal(err)
	}
	var outs []string
	for _, o := range m.Graph().GetOutput() {
		outs = append(outs, o.GetName())
	}
	if got := strings.Join(outs, " "); got != "loss loss/out loss/aux out aux" {
		t.Errorf("outputs %q, want loss loss/out loss/aux out aux", got)
	}
	feeds := map[string]refs.Tensor{"labels": ortTensor(rec.AuxRecipe.Target)}
	for n, v := range rec.Inputs {
		feeds[n] = ortTensor(v)
	}
	r := refs.RunORT(t, []refs.Job{{Model: dst, Inputs: feeds, Outputs: []string{"loss", "loss/out", "loss/aux"}}})[0]
	if r.Error != "" {
		t.Fatal(r.Error)
	}
	for name, want := range map[string]float64{"loss": rec.AuxRecipe.Loss, "loss/out": rec.AuxRecipe.LossOut, "loss/aux": rec.AuxRecipe.LossAux} {
		got, err := r.Outputs[name].Floats()
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got[0]-want) > 1e-5*math.Abs(want) {
			t.Errorf("%s: ONNX Runtime %.9g, torchvision recipe %.9g", name, got[0], want)
		}
	}
}

// TestOutOfRangeLabelsGiveNaN: a label outside [0, C) that is neither the
// ignore_index nor the background label makes the loss NaN in ONNX Runtime
// and in the Go evaluator — negative labels are not wrapped around to class
// C−1 (what Gather/GatherElements would do), labels >= C do not fail — with
// reduction none NaN exactly at that position; and `verify --inputs` exits
// 1 naming the label and its position. Checked on a class-axis-1 MLP and on
// the class-last (N, H, W, C) segmenter.
func TestOutOfRangeLabelsGiveNaN(t *testing.T) {
	refs.ORTHarness(t)
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	type model struct {
		file   string
		C      int
		inName string
		input  *onnxpb.TensorProto
		ort    refs.Tensor
		lshape []int64
	}
	x := make([]float32, 3*16)
	x64 := make([]float64, len(x))
	for i := range x {
		x[i] = float32(math.Cos(float64(i) * 0.71))
		x64[i] = float64(x[i])
	}
	xT, _ := tensorfile.New("x", []int64{3, 16}, x)
	img := make([]float32, 2*3*2*4)
	img64 := make([]float64, len(img))
	for i := range img {
		img[i] = float32(math.Sin(float64(i) * 1.3))
		img64[i] = float64(img[i])
	}
	imgT, _ := tensorfile.New("image", []int64{2, 3, 2, 4}, img)
	models := []model{
		{"mlp_o13.onnx", 5, "x", xT, refs.FloatTensor("float32", []int{3, 16}, x64), []int64{3}},
		// (N, H, W, 4) logits: class axis 3
		{"segnet_nhwc_o13.onnx", 4, "image", imgT, refs.FloatTensor("float32", []int{2, 3, 2, 4}, img64), []int64{2, 2, 4}},
	}
	var jobs []refs.Job
	type check struct {
		name string
		none bool
		bad  int // flat index of the bad label
		path string
		feed map[string]*eval.Tensor
	}
	var checks []check
	for _, md := range models {
		for _, loss := range []string{"weighted_ce", "focal", "sigmoid_focal", "cb_focal", "ldam"} {
			for _, red := range []string{"mean", "none"} {
				for _, badLabel := range []int64{-1, int64(md.C), 1 << 40} {
					dst := filepath.Join(work, fmt.Sprintf("%s.%s.%s.%d.onnx", md.file, loss, red, badLabel))
					code, _, stderr := runBinary(t, "inject", "--loss", loss, "--counts", countsFile(t, work, md.C), "--ignore-index", "-100", "--reduction", red, "-o", dst, filepath.Join(root, "testdata", "models", md.file))
					if code != 0 {
						t.Fatalf("inject: %s", stderr)
					}
					n := 1
					for _, d := range md.lshape {
						n *= int(d)
					}
					labels := make([]int64, n)
					for i := range labels {
						labels[i] = int64(i % md.C)
					}
					bad := n - 2
					labels[0] = -100 // ignored: fine
					labels[bad] = badLabel
					ishape := make([]int, len(md.lshape))
					for i, d := range md.lshape {
						ishape[i] = int(d)
					}
					jobs = append(jobs, refs.Job{Model: dst, Inputs: map[string]refs.Tensor{md.inName: md.ort, "labels": refs.IntTensor("int64", ishape, labels)}, Outputs: []string{"loss"}})
					in, err := eval.FromProto(md.input, "")
					if err != nil {
						t.Fatal(err)
					}
					checks = append(checks, check{fmt.Sprintf("%s %s %s label %d", md.file, loss, red, badLabel), red == "none", bad, dst,
						map[string]*eval.Tensor{md.inName: in, "labels": eval.NewInt64(md.lshape, labels)}})
					if loss == "cb_focal" && red == "mean" {
						// verify --inputs names the label and its position.
						lt, _ := tensorfile.New("labels", md.lshape, labels)
						inputs := filepath.Join(work, fmt.Sprintf("in.%s.%d.npz", md.file, badLabel))
						if err := tensorfile.WriteFile(inputs, []*onnxpb.TensorProto{md.input, lt}); err != nil {
							t.Fatal(err)
						}
						code, stdout, stderr := runBinary(t, "verify", dst, "--inputs", inputs)
						pos := fmt.Sprint(bad)
						if len(md.lshape) == 3 {
							hw := int(md.lshape[1] * md.lshape[2])
							pos = fmt.Sprintf("%d,%d,%d", bad/hw, bad%hw/int(md.lshape[2]), bad%int(md.lshape[2]))
						}
						if w := fmt.Sprintf("label %d at position %s is out of range", badLabel, pos); code != 1 || !strings.Contains(stdout, w) {
							t.Errorf("verify --inputs with label %d: exit %d, stdout %q, stderr %q; want exit 1 and %q", badLabel, code, stdout, stderr, w)
						}
					}
				}
			}
		}
	}
	res := refs.RunORT(t, jobs)
	for i, c := range checks {
		if res[i].Error != "" {
			t.Errorf("%s: ONNX Runtime: %s", c.name, res[i].Error)
			continue
		}
		got, _ := res[i].Outputs["loss"].Floats()
		m, err := graphedit.Load(c.path)
		if err != nil {
			t.Fatal(err)
		}
		out, err := eval.Run(m.Proto, "", c.feed, []string{"loss"})
		if err != nil {
			t.Fatalf("%s: evaluator: %v", c.name, err)
		}
		ev := out["loss"].AsFloat64()
		for _, vals := range [][]float64{got, ev} {
			if !c.none {
				if !math.IsNaN(vals[0]) {
					t.Errorf("%s: loss %v, want NaN", c.name, vals[0])
				}
				continue
			}
			// per position (or per element for sigmoid_focal): NaN exactly
			// at the bad label's position(s), finite elsewhere
			per := len(vals) / len(c.feed["labels"].AsFloat64())
			for j, v := range vals {
				if (j/per == c.bad) != math.IsNaN(v) {
					t.Errorf("%s: loss[%d] = %v", c.name, j, v)
				}
			}
		}
	}
}
