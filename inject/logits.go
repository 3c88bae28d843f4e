package inject

import (
	"fmt"
	"strings"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// isFloat reports whether elem is a floating-point element type logits can have.
func isFloat(elem onnxpb.TensorProto_DataType) bool {
	switch elem {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
		return true
	}
	return false
}

// LogitsCandidates returns the graph outputs that can be logits: float
// tensors of rank ≥ 2 (or unknown rank).
func LogitsCandidates(m *graphedit.Model) []string {
	var out []string
	for _, o := range m.Graph().GetOutput() {
		vt, ok := m.ValueType(o.GetName())
		if !ok || !isFloat(vt.Elem) || (vt.Rank() >= 0 && vt.Rank() < 2) {
			continue
		}
		out = append(out, o.GetName())
	}
	return out
}

// valueType returns the declared type of value, or infers element type and
// shape from its producer for the shape-preserving ops exporters put between
// a classifier head and its output, since exporters often declare no
// value_info for intermediate values.
func valueType(m *graphedit.Model, value string, depth int) (graphedit.ValueType, bool) {
	if vt, ok := m.ValueType(value); ok && vt.Shape != nil {
		return vt, true
	}
	if depth > 64 {
		return graphedit.ValueType{}, false
	}
	// A consumer that keeps shape and type and is itself declared.
	for _, c := range m.Consumers(value) {
		if shapePreserving(c.GetOpType()) && len(c.GetInput()) > 0 && c.GetInput()[0] == value && len(c.GetOutput()) > 0 {
			if vt, ok := m.ValueType(c.GetOutput()[0]); ok && vt.Shape != nil {
				return vt, true
			}
		}
	}
	p := m.Producer(value)
	if p == nil || len(p.GetInput()) == 0 {
		return graphedit.ValueType{}, false
	}
	unknown := graphedit.Dim{Value: -1}
	switch op := p.GetOpType(); {
	case op == "Gemm" || op == "Flatten":
		// Rank 2 whatever the input; Gemm's dim 1 from its weight.
		elem, ok := elemType(m, p.GetInput()[0], depth+1)
		if !ok {
			return graphedit.ValueType{}, false
		}
		vt := graphedit.ValueType{Elem: elem, Shape: []graphedit.Dim{unknown, unknown}}
		if in, ok := valueType(m, p.GetInput()[0], depth+1); ok && in.Rank() == 2 && op == "Gemm" && attrInt(p, "transA", 0) == 0 {
			vt.Shape[0] = in.Shape[0]
		}
		if op == "Gemm" && len(p.GetInput()) > 1 {
			if w := m.Initializer(p.GetInput()[1]); w != nil && len(w.GetDims()) == 2 {
				vt.Shape[1] = graphedit.Dim{Value: w.GetDims()[1-attrInt(p, "transB", 0)]}
			}
		}
		return vt, true
	case shapePreserving(op):
		return valueType(m, p.GetInput()[0], depth+1)
	case op == "Conv" || op == "MaxPool" || op == "AveragePool":
		in, ok := valueType(m, p.GetInput()[0], depth+1)
		if !ok || in.Rank() < 0 {
			return graphedit.ValueType{}, false
		}
		vt := graphedit.ValueType{Elem: in.Elem, Shape: make([]graphedit.Dim, in.Rank())}
		for i := range vt.Shape {
			vt.Shape[i] = unknown
		}
		vt.Shape[0] = in.Shape[0]
		if op != "Conv" {
			vt.Shape[1] = in.Shape[1]
		} else if len(p.GetInput()) > 1 {
			if w := m.Initializer(p.GetInput()[1]); w != nil && len(w.GetDims()) > 0 {
				vt.Shape[1] = graphedit.Dim{Value: w.GetDims()[0]}
			}
		}
		return vt, true
	}
	return graphedit.ValueType{}, false
}

// elemType finds the element type of value, following first inputs back
// through ops that keep it (all the ops valueType knows) to a declaration.
func elemType(m *graphedit.Model, value string, depth int) (onnxpb.TensorProto_DataType, bool) {
	if vt, ok := m.ValueType(value); ok {
		return vt.Elem, true
	}
	p := m.Producer(value)
	if depth > 64 || p == nil || len(p.GetInput()) == 0 {
		return 0, false
	}
	switch op := p.GetOpType(); {
	case shapePreserving(op), op == "Gemm", op == "Flatten", op == "Conv", op == "MaxPool", op == "AveragePool", op == "MatMul", op == "Reshape":
		return elemType(m, p.GetInput()[0], depth+1)
	}
	return 0, false
}

func shapePreserving(op string) bool {
	switch op {
	case "Identity", "Relu", "LeakyRelu", "Sigmoid", "Softmax", "LogSoftmax", "Tanh", "Dropout",
		"BatchNormalization", "Add", "Sub", "Mul", "Div", "Neg", "Elu", "Selu", "Gelu", "Clip":
		return true
	}
	return false
}

func attrInt(n *onnxpb.NodeProto, name string, def int64) int64 {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a.GetI()
		}
	}
	return def
}

// findLogits picks the logits value: the explicit name, or the single
// candidate graph output.
func findLogits(m *graphedit.Model, explicit string) (string, error) {
	if explicit != "" {
		if !m.HasName(explicit) {
			return "", fmt.Errorf("--logits %q is not a value of the graph: run `onnxloss inspect` to list the outputs", explicit)
		}
		return explicit, nil
	}
	cands := LogitsCandidates(m)
	switch len(cands) {
	case 1:
		return cands[0], nil
	case 0:
		return "", fmt.Errorf("no graph output is a float tensor of rank >= 2 (N, C, ...): pass --logits NAME")
	}
	return "", fmt.Errorf("several outputs could be the logits (%s): pass --logits NAME", strings.Join(cands, ", "))
}
