// Package goldens loads the PyTorch golden loss cases (testdata/goldens) and
// builds the host models the tests inject them into.
package goldens

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/onnxpb"
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
	Logits         Tensor    `json:"logits"`
	// Labels holds index labels, or the float targets of multi-hot cases.
	Labels   Tensor    `json:"labels"`
	Weights  []float64 `json:"weights"`
	Expected Tensor    `json:"expected"`
	Note     string    `json:"note"`
}

// MultiHot reports whether the case uses multi-hot targets.
func (c *Case) MultiHot() bool { return c.Targets == "multi-hot" }

// Load reads testdata/goldens/losses.json from the repository root.
func Load(root string) ([]Case, error) {
	data, err := os.ReadFile(filepath.Join(root, "testdata", "goldens", "losses.json"))
	if err != nil {
		return nil, err
	}
	var file struct {
		Cases []json.RawMessage `json:"cases"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("losses.json: %w", err)
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
	}
	if c.LabelsDtype == "int32" {
		opt.LabelsElem = onnxpb.TensorProto_INT32
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

// Float16Bits returns the IEEE half-precision bits of v, which must be
// exactly representable (golden float16 logits are).
func Float16Bits(v float64) uint16 {
	f := float32(v)
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int((b>>23)&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case f == 0:
		return sign
	case exp >= 31:
		return sign | 0x7c00
	case exp <= 0: // subnormal half
		mant |= 0x800000
		return sign | uint16(mant>>uint(14-exp))
	}
	return sign | uint16(exp)<<10 | uint16(mant>>13)
}
