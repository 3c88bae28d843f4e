package graphedit

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// ValueSummary describes one graph input or output.
type ValueSummary struct {
	// Name is the value's name.
	Name string `json:"name"`
	// DType is the element type as ElemName gives it ("?" if undeclared).
	DType string `json:"dtype"`
	// Shape holds each dimension as its size, its symbol or "?"; nil when
	// the rank is unknown.
	Shape []string `json:"shape"`
}

// OpsetSummary is one opset import.
type OpsetSummary struct {
	// Domain is the operator set's domain ("" is the default ONNX domain).
	Domain string `json:"domain"`
	// Version is the imported version of that domain.
	Version int64 `json:"version"`
}

// LogitsSummary is a candidate for the logits: the raw class scores a loss
// attaches to, of shape (N, C, d1…dk).
type LogitsSummary struct {
	// Name is the value holding the logits. For a model that outputs
	// probabilities it is the input of the final Softmax/Sigmoid; for a
	// training graph, the scores input of its loss node.
	Name string `json:"name"`
	// C is the class count, dim 1 of the logits; 0 when it is not static
	// (or, for values without declared shapes, cannot be read off the
	// weights that produce them).
	C int64 `json:"classes"`
	// Output is the graph output the candidate was found from: Name itself
	// for a model that outputs logits, the probabilities, or the loss.
	Output string `json:"output"`
	// Activation is "Softmax" or "Sigmoid" when Output holds probabilities
	// that this op computes from Name over the class axis; "" otherwise.
	Activation string `json:"activation,omitempty"`
	// ActivationNode is the name of that Softmax/Sigmoid node.
	ActivationNode string `json:"activation_node,omitempty"`
	// Loss is the loss already in a training graph that takes Name as its
	// scores: "SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss" or
	// "LogSoftmax+NegativeLogLikelihoodLoss"; "" otherwise.
	Loss string `json:"loss,omitempty"`
	// LossNode is the name of that loss node.
	LossNode string `json:"loss_node,omitempty"`
	// Labels is that loss node's labels input.
	Labels string `json:"labels,omitempty"`
}

// Summary is what `onnxloss inspect` prints about a model.
type Summary struct {
	// IRVersion is the model's ir_version.
	IRVersion int64 `json:"ir_version"`
	// Opsets are the model's opset imports, in file order.
	Opsets []OpsetSummary `json:"opsets"`
	// Producer and ProducerVersion say what wrote the model.
	Producer        string `json:"producer"`
	ProducerVersion string `json:"producer_version"`
	// Inputs are the graph inputs that are not initializers; Outputs are
	// the graph outputs, each with type and shape (symbolic dims kept).
	Inputs  []ValueSummary `json:"inputs"`
	Outputs []ValueSummary `json:"outputs"`
	// Nodes counts the main graph's nodes.
	Nodes int `json:"nodes"`
	// Initializers counts the main graph's initializers; InitializerBytes
	// is their payload size (see TensorBytes).
	Initializers     int   `json:"initializers"`
	InitializerBytes int64 `json:"initializer_bytes"`
	// ExternalTensors counts the tensors whose data lives in side files.
	ExternalTensors int `json:"external_tensors"`
	// LogitsCandidates lists every value that could be the logits: the
	// scores of each loss node (training graphs), then each float graph
	// output of rank ≥ 2 (traced back through a final class-axis
	// Softmax/Sigmoid).
	LogitsCandidates []LogitsSummary `json:"logits_candidates"`
	// Losses are the losses a training graph was exported with.
	Losses []Loss `json:"losses"`
	// Logits is the candidate used when none is named: the scores of the
	// graph's single loss node, else the single output candidate; nil when
	// there is none or the choice is ambiguous.
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
		if b := TensorBytes(t); s.InitializerBytes > math.MaxInt64-b {
			s.InitializerBytes = math.MaxInt64 // saturate: sizes come from the file
		} else {
			s.InitializerBytes += b
		}
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
	s.Losses = append([]Loss{}, m.Losses()...)
	losses := m.lossCandidates(s.Losses)
	for i := range s.Losses {
		// A summary describes; it holds no pointers into the model.
		s.Losses[i].NodeProtos, s.Losses[i].LogSoftmax = nil, nil
	}
	s.LogitsCandidates = append(s.LogitsCandidates, losses...)
	var outs []LogitsSummary
	for _, vi := range m.Graph().GetOutput() {
		s.Outputs = append(s.Outputs, summarizeValue(m, vi.GetName()))
		vt, ok := m.ValueType(vi.GetName())
		if !ok || vt.Rank() < 2 || !IsFloat(vt.Elem) {
			continue
		}
		l := LogitsSummary{Name: vi.GetName(), Output: vi.GetName(), C: vt.Shape[1].Value}
		if p := m.Producer(l.Name); p != nil && len(p.GetInput()) > 0 && p.GetInput()[0] != "" {
			switch op := p.GetOpType(); {
			case op == "Sigmoid" || (op == "Softmax" && m.SoftmaxOverClassAxis(p, vt.Rank())):
				l.Name, l.Activation, l.ActivationNode = p.GetInput()[0], op, p.GetName()
			}
		}
		if l.C < 0 {
			l.C = 0
		}
		outs = append(outs, l)
	}
	s.LogitsCandidates = append(s.LogitsCandidates, outs...)
	switch {
	case len(losses) == 1:
		s.Logits = &s.LogitsCandidates[0]
	case len(losses) == 0 && len(outs) == 1:
		s.Logits = &s.LogitsCandidates[0]
	}
	return s
}

// lossCandidates returns, for each loss node of the main graph, its scores
// as a logits candidate.
func (m *Model) lossCandidates(losses []Loss) []LogitsSummary {
	var out []LogitsSummary
	for _, l := range losses {
		node := l.Nodes[len(l.Nodes)-1]
		c := LogitsSummary{Name: l.Scores, Output: l.Output, Loss: l.Kind, LossNode: node, Labels: l.Labels}
		if vt, ok := m.InferType(l.Scores); ok && vt.Rank() >= 2 && vt.Shape[1].Static() {
			c.C = vt.Shape[1].Value
		} else if w := m.Initializer(l.Weight); l.Weight != "" && w != nil && len(w.GetDims()) == 1 {
			// The class weights have one entry per class.
			c.C = w.GetDims()[0]
		}
		out = append(out, c)
	}
	return out
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
	// Dims come from the file: a product beyond int64 (or a negative dim)
	// must not wrap around to a plausible size.
	n := elemSize(onnxpb.TensorProto_DataType(t.GetDataType()))
	for _, d := range t.GetDims() {
		if d < 0 {
			return 0
		}
		if d != 0 && n > math.MaxInt64/d {
			return math.MaxInt64
		}
		n *= d
	}
	return n
}

// MarshalJSON writes static dimensions as JSON numbers and symbolic or
// unknown ones as strings, as onnx tools show shapes ([1, 3, "N", "?"]).
func (v ValueSummary) MarshalJSON() ([]byte, error) {
	var shape []any
	if v.Shape != nil {
		shape = make([]any, len(v.Shape))
		for i, d := range v.Shape {
			if n, err := strconv.ParseInt(d, 10, 64); err == nil {
				shape[i] = n
			} else {
				shape[i] = d
			}
		}
	}
	return json.Marshal(struct {
		Name  string `json:"name"`
		DType string `json:"dtype"`
		Shape []any  `json:"shape"`
	}{v.Name, v.DType, shape})
}
