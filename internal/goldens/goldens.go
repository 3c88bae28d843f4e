// Package goldens loads the PyTorch golden loss cases (testdata/goldens) and
// builds the host models the tests inject them into.
package goldens

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/tensorfile"
)

// Tensor is a golden tensor: row-major data and its shape.
type Tensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

// Case is one golden: inputs, flags and the loss PyTorch computed.
type Case struct {
	Name           string    `json:"name"`
	Loss           string    `json:"loss"`
	Opset          int64     `json:"opset"`
	Counts         []float64 `json:"counts"`
	Classes        []string  `json:"classes"`
	ZeroCounts     string    `json:"zero_counts"`
	Weighting      string    `json:"weighting"`
	Normalize      bool      `json:"normalize"`
	Beta           float64   `json:"beta"`
	Gamma          float64   `json:"gamma"`
	Alpha          float64   `json:"alpha"`
	Reduction      string    `json:"reduction"`
	IgnoreIndex    *int64    `json:"ignore_index"`
	LabelSmoothing float64   `json:"label_smoothing"`
	Targets        string    `json:"targets"`
	LogitsDtype    string    `json:"logits_dtype"`
	LabelsDtype    string    `json:"labels_dtype"`
	// Tau (logit_adjusted), MaxMargin and Scale (ldam) are 0 for the
	// losses without them.
	Tau       float64 `json:"tau"`
	MaxMargin float64 `json:"max_margin"`
	Scale     float64 `json:"scale"`
	// Epsilon (poly1) and Smooth (dice) are 0 for the losses without them.
	Epsilon float64 `json:"epsilon"`
	Smooth  float64 `json:"smooth"`
	// TverskyBeta is β of tversky.
	TverskyBeta float64 `json:"tversky_beta"`
	// GammaPos, GammaNeg, Clip and DetachFocusing are asl's.
	GammaPos       float64 `json:"gamma_pos"`
	GammaNeg       float64 `json:"gamma_neg"`
	Clip           float64 `json:"clip"`
	DetachFocusing bool    `json:"detach_focusing"`
	// SeesawP and SeesawQ are seesaw's p and q.
	SeesawP float64 `json:"seesaw_p"`
	SeesawQ float64 `json:"seesaw_q"`
	// ClassAxis is the logits' class axis (nil: 1, the layout of the cases
	// written before the axis was recorded).
	ClassAxis *int `json:"class_axis"`
	// BackgroundLabel is --background-label (detection cases).
	BackgroundLabel *int64 `json:"background_label"`
	// Model is a file of testdata/models the case injects into ("" for the
	// host model), fed the inputs of InputSet (axis.json's input_sets).
	Model    string `json:"model"`
	InputSet string `json:"input_set"`
	Logits   Tensor `json:"logits"`
	// Labels holds index labels, or the float targets of multi-hot cases.
	Labels   Tensor    `json:"labels"`
	Weights  []float64 `json:"weights"`
	Expected Tensor    `json:"expected"`
	Note     string    `json:"note"`
}

// MultiHot reports whether the case uses multi-hot targets.
func (c *Case) MultiHot() bool { return c.Targets == "multi-hot" }

// Load reads testdata/goldens/losses.json from the repository root.
func Load(root string) ([]Case, error) { return LoadFile(root, "losses.json") }

// CatalogueFile holds the goldens of the losses added to the catalogue
// later (scripts/gen-catalogue-goldens.py, from their reference packages).
const CatalogueFile = "catalogue.json"

// LoadFile reads the golden cases of testdata/goldens/name.
func LoadFile(root, name string) ([]Case, error) {
	data, err := os.ReadFile(filepath.Join(root, "testdata", "goldens", name))
	if err != nil {
		return nil, err
	}
	var file struct {
		Cases []json.RawMessage `json:"cases"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	cases := make([]Case, len(file.Cases))
	for i, raw := range file.Cases {
		if err := json.Unmarshal(raw, &cases[i]); err != nil {
			return nil, fmt.Errorf("case %d: %w", i, err)
		}
	}
	return cases, nil
}

// Options returns the inject options that reproduce the case.
func (c *Case) Options() (inject.Options, error) {
	loss, err := lossops.ParseLoss(c.Loss)
	if err != nil {
		return inject.Options{}, err
	}
	w, err := lossops.ParseWeighting(c.Weighting)
	if err != nil {
		return inject.Options{}, err
	}
	opt := inject.Options{
		Loss: loss, Counts: &lossops.Counts{Values: c.Counts, Classes: c.Classes}, Weighting: w,
		Beta: c.Beta, Normalize: c.Normalize, SkipZero: c.ZeroCounts == "skip",
		Gamma: c.Gamma, Alpha: c.Alpha, Reduction: lossops.Reduction(c.Reduction),
		IgnoreIndex: c.IgnoreIndex, LabelSmoothing: c.LabelSmoothing, MultiHot: c.MultiHot(),
		LabelsElem: onnxpb.TensorProto_INT64,
		Tau:        c.Tau, MaxMargin: c.MaxMargin, Scale: c.Scale,
		Epsilon: c.Epsilon, Smooth: c.Smooth, TverskyBeta: c.TverskyBeta,
		GammaPos: c.GammaPos, GammaNeg: c.GammaNeg, Clip: c.Clip, DetachFocusing: c.DetachFocusing,
		SeesawP: c.SeesawP, SeesawQ: c.SeesawQ,
	}
	if c.LabelsDtype == "int32" {
		opt.LabelsElem = onnxpb.TensorProto_INT32
	}
	opt.ClassAxis, opt.BackgroundLabel = c.ClassAxis, c.BackgroundLabel
	if c.ClassAxis == nil && c.Model == "" && len(c.Logits.Shape) == 3 {
		// Rank 3 needs the axis stated whenever it is ambiguous, e.g.
		// (N, 5, 5) with C = 5; these cases are (N, C, L).
		one := 1
		opt.ClassAxis = &one
	}
	return opt, nil
}

// IRVersion is the IR version that goes with a default-domain opset.
func IRVersion(opset int64) int64 {
	switch {
	case opset <= 11:
		return 6
	case opset <= 14:
		return 7
	case opset <= 18:
		return 8
	case opset <= 20:
		return 9
	case opset <= 22:
		return 10
	}
	return 11
}

// ElemType maps a golden dtype name to an ONNX element type.
func ElemType(dtype string) (onnxpb.TensorProto_DataType, error) {
	switch dtype {
	case "float32":
		return onnxpb.TensorProto_FLOAT, nil
	case "float64":
		return onnxpb.TensorProto_DOUBLE, nil
	case "float16":
		return onnxpb.TensorProto_FLOAT16, nil
	case "bfloat16":
		return onnxpb.TensorProto_BFLOAT16, nil
	}
	return 0, fmt.Errorf("unknown dtype %q", dtype)
}

// HostModel builds the smallest model that outputs logits: a graph input
// "scores" of the case's dtype and shape (batch axis symbolic "N"), passed
// through Identity to the output "logits", at the case's opset. bfloat16
// scores come in as float32 and are Cast (exactly, golden values are
// representable), since ONNX Runtime's Node.js binding cannot feed bfloat16.
func (c *Case) HostModel() (*graphedit.Model, error) {
	elem, err := ElemType(c.LogitsDtype)
	if err != nil {
		return nil, err
	}
	shape := make([]graphedit.Dim, len(c.Logits.Shape))
	for i, d := range c.Logits.Shape {
		shape[i] = graphedit.Dim{Value: int64(d)}
	}
	shape[0] = graphedit.Dim{Value: -1, Param: "N"}
	vt := graphedit.ValueType{Elem: elem, Shape: shape}
	in, head := vt, &onnxpb.NodeProto{Name: ptr("head"), OpType: ptr("Identity"), Input: []string{"scores"}, Output: []string{"logits"}}
	if elem == onnxpb.TensorProto_BFLOAT16 {
		in.Elem = onnxpb.TensorProto_FLOAT
		head.OpType = ptr("Cast")
		head.Attribute = []*onnxpb.AttributeProto{graphedit.AttrInt("to", int64(elem))}
	}
	str := func(s string) *string { return &s }
	mp := &onnxpb.ModelProto{
		IrVersion:    ptr(IRVersion(c.Opset)),
		ProducerName: str("onnxloss-tests"),
		OpsetImport:  []*onnxpb.OperatorSetIdProto{{Domain: str(""), Version: ptr(c.Opset)}},
		Graph: &onnxpb.GraphProto{
			Name:   str("host"),
			Input:  []*onnxpb.ValueInfoProto{graphedit.TensorValueInfo("scores", in)},
			Output: []*onnxpb.ValueInfoProto{graphedit.TensorValueInfo("logits", vt)},
			Node:   []*onnxpb.NodeProto{head},
		},
	}
	return &graphedit.Model{Proto: mp}, nil
}

func ptr[T any](v T) *T { return &v }

// Injected is a golden case injected into its host model and saved.
type Injected struct {
	Case Case
	Path string
	Meta *inject.Metadata
}

// InjectAll injects every case into its host model and saves the models
// under dir as case000.onnx, case001.onnx, …
func InjectAll(cases []Case, dir string) ([]Injected, error) {
	out := make([]Injected, 0, len(cases))
	for i, c := range cases {
		m, err := c.HostModel()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Name, err)
		}
		opt, err := c.Options()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Name, err)
		}
		res, err := inject.Inject(m, opt)
		if err != nil {
			return nil, fmt.Errorf("%s: inject: %w", c.Name, err)
		}
		if c.LogitsDtype == "bfloat16" {
			// ONNX Runtime's Node.js binding cannot create a session whose
			// graph outputs include bfloat16, so keep only the loss.
			m.Graph().Output = m.Graph().Output[:1]
		}
		path := filepath.Join(dir, fmt.Sprintf("case%03d.onnx", i))
		if err := m.Save(path); err != nil {
			return nil, err
		}
		out = append(out, Injected{Case: c, Path: path, Meta: res.Metadata})
	}
	return out, nil
}

// ORTFeeds returns the case's inputs for the ONNX Runtime harness.
func (c *Case) ORTFeeds() map[string]refs.Tensor {
	in := map[string]refs.Tensor{}
	switch c.LogitsDtype {
	case "float16":
		bits := make([]int64, len(c.Logits.Data))
		for i, v := range c.Logits.Data {
			bits[i] = int64(tensorfile.Float16FromFloat32(float32(v)))
		}
		in["scores"] = refs.IntTensor(c.LogitsDtype, c.Logits.Shape, bits)
	case "bfloat16": // the host model casts float32 scores to bfloat16
		in["scores"] = refs.FloatTensor("float32", c.Logits.Shape, c.Logits.Data)
	default:
		in["scores"] = refs.FloatTensor(c.LogitsDtype, c.Logits.Shape, c.Logits.Data)
	}
	if c.MultiHot() {
		in["labels"] = refs.FloatTensor("float32", c.Labels.Shape, c.Labels.Data)
	} else {
		ints := make([]int64, len(c.Labels.Data))
		for i, v := range c.Labels.Data {
			ints[i] = int64(v)
		}
		in["labels"] = refs.IntTensor(c.LabelsDtype, c.Labels.Shape, ints)
	}
	return in
}

// ModelRecord is one model's entry in testdata/models/expected.json: the
// inputs fed to the exported graph and what PyTorch computed for them.
type ModelRecord struct {
	Inputs  map[string]ModelTensor `json:"inputs"`
	Outputs map[string]ModelTensor `json:"outputs"`
	// Extra holds intermediate values, e.g. the logits feeding a loss.
	Extra map[string]ModelTensor `json:"extra"`
}

// ModelTensor is a tensor of expected.json (float32 values as float64).
type ModelTensor struct {
	DType string    `json:"dtype"`
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

// LoadModelRecords reads testdata/models/expected.json, keyed by model file.
func LoadModelRecords(root string) (map[string]ModelRecord, error) {
	raw, err := os.ReadFile(filepath.Join(root, "testdata", "models", "expected.json"))
	if err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, fmt.Errorf("expected.json: %w", err)
	}
	out := map[string]ModelRecord{}
	for name, r := range all {
		if name == "_about" {
			continue
		}
		var rec ModelRecord
		if err := json.Unmarshal(r, &rec); err != nil {
			return nil, fmt.Errorf("expected.json %s: %w", name, err)
		}
		out[name] = rec
	}
	return out, nil
}

// ForTest loads the golden cases of the repository a test runs in, failing
// t if they cannot be read.
func ForTest(t testing.TB) []Case {
	t.Helper()
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cases, err := Load(root)
	if err != nil {
		t.Fatalf("reading goldens (regenerate with /usr/bin/python3 scripts/gen-goldens.py): %v", err)
	}
	return cases
}

// InputSet is the input of a real model's golden cases: the model's graph
// inputs and the logits torch computed from them.
type InputSet struct {
	Model  string                 `json:"model"`
	Inputs map[string]ModelTensor `json:"inputs"`
	Logits Tensor                 `json:"logits"`
}

// AxisGoldens is testdata/goldens/axis.json (scripts/gen-axis-goldens.py):
// class-last and detection cases, on the host model or on real models.
type AxisGoldens struct {
	InputSets map[string]InputSet `json:"input_sets"`
	Cases     []Case              `json:"cases"`
}

// LoadAxis reads testdata/goldens/axis.json from the repository root; model
// cases get their input set's logits as Logits.
func LoadAxis(root string) (*AxisGoldens, error) {
	data, err := os.ReadFile(filepath.Join(root, "testdata", "goldens", "axis.json"))
	if err != nil {
		return nil, err
	}
	var a AxisGoldens
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("axis.json: %w", err)
	}
	for i := range a.Cases {
		c := &a.Cases[i]
		if c.Model == "" {
			continue
		}
		set, ok := a.InputSets[c.InputSet]
		if !ok || set.Model != c.Model {
			return nil, fmt.Errorf("axis.json case %s: input set %q of model %s is missing", c.Name, c.InputSet, c.Model)
		}
		c.Logits = set.Logits
	}
	return &a, nil
}

// InjectModelCase injects case c into its real model (root/testdata/models)
// and saves the result at path.
func InjectModelCase(root string, c Case, path string) (*inject.Metadata, error) {
	m, err := graphedit.Load(filepath.Join(root, "testdata", "models", c.Model))
	if err != nil {
		return nil, err
	}
	opt, err := c.Options()
	if err != nil {
		return nil, err
	}
	res, err := inject.Inject(m, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: inject: %w", c.Name, err)
	}
	if err := m.Save(path); err != nil {
		return nil, err
	}
	return res.Metadata, nil
}

// ORTFeeds returns the set's model inputs for the ONNX Runtime harness.
func (s InputSet) ORTFeeds() map[string]refs.Tensor {
	in := map[string]refs.Tensor{}
	for name, t := range s.Inputs {
		if t.DType == "int64" {
			ints := make([]int64, len(t.Data))
			for i, v := range t.Data {
				ints[i] = int64(v)
			}
			in[name] = refs.IntTensor("int64", t.Shape, ints)
		} else {
			in[name] = refs.FloatTensor(t.DType, t.Shape, t.Data)
		}
	}
	return in
}

// LabelFeed returns the case's labels (or multi-hot targets) for ONNX Runtime.
func (c *Case) LabelFeed() refs.Tensor {
	if c.MultiHot() {
		return refs.FloatTensor("float32", c.Labels.Shape, c.Labels.Data)
	}
	ints := make([]int64, len(c.Labels.Data))
	for i, v := range c.Labels.Data {
		ints[i] = int64(v)
	}
	return refs.IntTensor(c.LabelsDtype, c.Labels.Shape, ints)
}
