package graphedit

import (
	"strconv"
	"strings"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// ValueSummary describes one graph input or output.
type ValueSummary struct {
	Name  string `json:"name"`
	DType string `json:"dtype"`
	// Shape holds each dimension as its size, its symbol or "?"; nil when
	// the rank is unknown.
	Shape []string `json:"shape"`
}

// OpsetSummary is one opset import.
type OpsetSummary struct {
	Domain  string `json:"domain"`
	Version int64  `json:"version"`
}

// LogitsSummary names the candidate logits output: a float output of rank
// ≥ 2 whose dim 1 is the class count C (0 when not static).
type LogitsSummary struct {
	Name string `json:"name"`
	C    int64  `json:"classes"`
}

// Summary is what `onnxloss inspect` prints about a model.
type Summary struct {
	IRVersion        int64          `json:"ir_version"`
	Opsets           []OpsetSummary `json:"opsets"`
	Producer         string         `json:"producer"`
	ProducerVersion  string         `json:"producer_version"`
	Inputs           []ValueSummary `json:"inputs"`
	Outputs          []ValueSummary `json:"outputs"`
	Nodes            int            `json:"nodes"`
	Initializers     int            `json:"initializers"`
	InitializerBytes int64          `json:"initializer_bytes"`
	ExternalTensors  int            `json:"external_tensors"`
	// LogitsCandidates lists every output that could be logits.
	LogitsCandidates []LogitsSummary `json:"logits_candidates"`
	// Logits is the single candidate, or nil when there are none or several.
	Logits *LogitsSummary `json:"logits"`
}

// Summarize describes the model: versions, opsets, inputs and outputs with
// types and shapes, initializer count and payload bytes (external payloads
// counted from their declared length or shape, never read), and the logits.
func (m *Model) Summarize() Summary {
	mp := m.Proto
	s := Summary{
		IRVersion: mp.GetIrVersion(), Producer: mp.GetProducerName(), ProducerVersion: mp.GetProducerVersion(),
		Nodes: len(m.Graph().GetNode()), Initializers: len(m.Graph().GetInitializer()),
		Inputs: []ValueSummary{}, Outputs: []ValueSummary{}, Opsets: []OpsetSummary{}, LogitsCandidates: []LogitsSummary{},
	}
	for _, o := range mp.GetOpsetImport() {
		s.Opsets = append(s.Opsets, OpsetSummary{Domain: o.GetDomain(), Version: o.GetVersion()})
	}
	for _, t := range m.Graph().GetInitializer() {
		s.InitializerBytes += TensorBytes(t)
	}
	s.ExternalTensors = len(m.ExternalTensors())
	inits := map[string]bool{}
	for _, t := range m.Graph().GetInitializer() {
		inits[t.GetName()] = true
	}
	for _, vi := range m.Graph().GetInput() {
		if inits[vi.GetName()] {
			continue // IR < 4 lists initializers as inputs too
		}
		s.Inputs = append(s.Inputs, summarizeValue(m, vi.GetName()))
	}
	for _, vi := range m.Graph().GetOutput() {
		v := summarizeValue(m, vi.GetName())
		s.Outputs = append(s.Outputs, v)
		vt, ok := m.ValueType(vi.GetName())
		if !ok || vt.Rank() < 2 {
			continue
		}
		switch vt.Elem {
		case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
			c := vt.Shape[1].Value
			if c < 0 {
				c = 0
			}
			s.LogitsCandidates = append(s.LogitsCandidates, LogitsSummary{Name: vi.GetName(), C: c})
		}
	}
	if len(s.LogitsCandidates) == 1 {
		s.Logits = &s.LogitsCandidates[0]
	}
	return s
}

func summarizeValue(m *Model, name string) ValueSummary {
	v := ValueSummary{Name: name, DType: "?"}
	vt, ok := m.ValueType(name)
	if !ok {
		return v
	}
	v.DType = ElemName(vt.Elem)
	if vt.Shape != nil {
		v.Shape = make([]string, len(vt.Shape))
		for i, d := range vt.Shape {
			v.Shape[i] = d.String()
		}
	}
	return v
}

// ElemName returns a short lower-case name for an element type: float32,
// float64, float16, bfloat16, int64, bool, …
func ElemName(e onnxpb.TensorProto_DataType) string {
	switch e {
	case onnxpb.TensorProto_FLOAT:
		return "float32"
	case onnxpb.TensorProto_DOUBLE:
		return "float64"
	case onnxpb.TensorProto_FLOAT16:
		return "float16"
	case onnxpb.TensorProto_BFLOAT16:
		return "bfloat16"
	case onnxpb.TensorProto_UNDEFINED:
		return "?"
	}
	name, ok := onnxpb.TensorProto_DataType_name[int32(e)]
	if !ok {
		return "type" + strconv.Itoa(int(e))
	}
	return strings.ToLower(name)
}

// elemSize is the byte size of one element, 0 for strings/unknown.
func elemSize(e onnxpb.TensorProto_DataType) int64 {
	switch e {
	case onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_INT64, onnxpb.TensorProto_UINT64, onnxpb.TensorProto_COMPLEX64:
		return 8
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_INT32, onnxpb.TensorProto_UINT32:
		return 4
	case onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16, onnxpb.TensorProto_INT16, onnxpb.TensorProto_UINT16:
		return 2
	case onnxpb.TensorProto_INT8, onnxpb.TensorProto_UINT8, onnxpb.TensorProto_BOOL:
		return 1
	case onnxpb.TensorProto_COMPLEX128:
		return 16
	}
	return 0
}

// TensorBytes is the payload size of t: its raw or typed data, or for
// external tensors the declared length (else shape × element size).
func TensorBytes(t *onnxpb.TensorProto) int64 {
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		for _, kv := range t.GetExternalData() {
			if kv.GetKey() == "length" {
				if n, err := strconv.ParseInt(kv.GetValue(), 10, 64); err == nil && n >= 0 {
					return n
				}
			}
		}
	}
	if len(t.GetRawData()) > 0 {
		return int64(len(t.GetRawData()))
	}
	n := int64(1)
	for _, d := range t.GetDims() {
		n *= d
	}
	return n * elemSize(onnxpb.TensorProto_DataType(t.GetDataType()))
}
