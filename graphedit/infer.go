package graphedit

import (
	"github.com/onnxloss/onnxloss/onnxpb"
)

// IsFloat reports whether elem is a floating-point element type that
// logits can have: float32, float64, float16 or bfloat16.
func IsFloat(elem onnxpb.TensorProto_DataType) bool {
	switch elem {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
		return true
	}
	return false
}

// AttrIntOr returns node n's integer attribute name, or def when absent.
func AttrIntOr(n *onnxpb.NodeProto, name string, def int64) int64 {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a.GetI()
		}
	}
	return def
}

// SoftmaxAxis returns the axis attribute of a Softmax/LogSoftmax node with
// the opset's default (1 before opset 13, -1 from 13), normalized against
// rank.
func (m *Model) SoftmaxAxis(n *onnxpb.NodeProto, rank int) int64 {
	def := int64(1)
	if m.DefaultDomainOpset() >= 13 {
		def = -1
	}
	axis := AttrIntOr(n, "axis", def)
	if axis < 0 {
		axis += int64(rank)
	}
	return axis
}

// SoftmaxOverClassAxis reports whether Softmax/LogSoftmax node n, whose
// output has the given rank, normalizes over the class axis 1 alone (before
// opset 13 the op flattens its input to 2-D at axis, so only rank 2 does).
func (m *Model) SoftmaxOverClassAxis(n *onnxpb.NodeProto, rank int) bool {
	return m.SoftmaxAxis(n, rank) == 1 && (m.DefaultDomainOpset() >= 13 || rank == 2)
}

// keepsShape lists ops whose first output has the type and shape of their
// first input: what exporters put between a classifier head and its output.
var keepsShape = map[string]bool{
	"Identity": true, "Relu": true, "LeakyRelu": true, "Sigmoid": true, "Softmax": true, "LogSoftmax": true,
	"Tanh": true, "Dropout": true, "BatchNormalization": true, "Add": true, "Sub": true, "Mul": true,
	"Div": true, "Neg": true, "Elu": true, "Selu": true, "Gelu": true, "Clip": true,
}

// InferType returns the declared type of value or, since exporters rarely
// declare intermediate values, infers element type, rank and what dims it
// can: through shape-keeping ops (either way: from a declared consumer's
// output or from the producer's input), and from Gemm, Flatten (rank 2),
// Conv and pooling (the input's rank; Gemm's and Conv's dim 1 from their
// weight initializers). ok is false when the rank cannot be found.
func (m *Model) InferType(value string) (ValueType, bool) {
	return m.inferType(value, 0)
}

func (m *Model) inferType(value string, depth int) (ValueType, bool) {
	if vt, ok := m.ValueType(value); ok && vt.Shape != nil {
		return vt, true
	}
	if depth > 64 {
		return ValueType{}, false
	}
	for _, c := range m.Consumers(value) {
		if keepsShape[c.GetOpType()] && len(c.GetInput()) > 0 && c.GetInput()[0] == value && len(c.GetOutput()) > 0 {
			if vt, ok := m.ValueType(c.GetOutput()[0]); ok && vt.Shape != nil {
				return vt, true
			}
		}
	}
	p := m.Producer(value)
	if p == nil || len(p.GetInput()) == 0 {
		return ValueType{}, false
	}
	unknown := Dim{Value: -1}
	switch op := p.GetOpType(); {
	case op == "Gemm" || op == "Flatten":
		elem, ok := m.inferElem(p.GetInput()[0], depth+1)
		if !ok {
			return ValueType{}, false
		}
		vt := ValueType{Elem: elem, Shape: []Dim{unknown, unknown}}
		if in, ok := m.inferType(p.GetInput()[0], depth+1); ok && in.Rank() == 2 && op == "Gemm" && AttrIntOr(p, "transA", 0) == 0 {
			vt.Shape[0] = in.Shape[0]
		}
		if op == "Gemm" && len(p.GetInput()) > 1 {
			if w := m.Initializer(p.GetInput()[1]); w != nil && len(w.GetDims()) == 2 {
				c := w.GetDims()[1]
				if AttrIntOr(p, "transB", 0) != 0 {
					c = w.GetDims()[0]
				}
				vt.Shape[1] = Dim{Value: c}
			}
		}
		return vt, true
	case keepsShape[op]:
		return m.inferType(p.GetInput()[0], depth+1)
	case op == "Conv" || op == "MaxPool" || op == "AveragePool":
		in, ok := m.inferType(p.GetInput()[0], depth+1)
		if !ok || in.Rank() < 2 {
			return ValueType{}, false
		}
		vt := ValueType{Elem: in.Elem, Shape: make([]Dim, in.Rank())}
		for i := range vt.Shape {
			vt.Shape[i] = unknown
		}
		vt.Shape[0] = in.Shape[0]
		if op != "Conv" {
			vt.Shape[1] = in.Shape[1]
		} else if len(p.GetInput()) > 1 {
			if w := m.Initializer(p.GetInput()[1]); w != nil && len(w.GetDims()) > 0 {
				vt.Shape[1] = Dim{Value: w.GetDims()[0]}
			}
		}
		return vt, true
	}
	return ValueType{}, false
}

// inferElem finds the element type of value, following first inputs back
// through ops that keep it to a declaration.
func (m *Model) inferElem(value string, depth int) (onnxpb.TensorProto_DataType, bool) {
	if vt, ok := m.ValueType(value); ok {
		return vt.Elem, true
	}
	p := m.Producer(value)
	if depth > 64 || p == nil || len(p.GetInput()) == 0 {
		return 0, false
	}
	switch op := p.GetOpType(); {
	case keepsShape[op], op == "Gemm", op == "Flatten", op == "Conv", op == "MaxPool", op == "AveragePool", op == "MatMul", op == "Reshape":
		return m.inferElem(p.GetInput()[0], depth+1)
	}
	return 0, false
}
