package graphedit

import (
	"strconv"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// Dim is one dimension of a value's shape: a known size, a symbolic name, or
// neither (unknown).
type Dim struct {
	// Value is the static size, or -1 when the size is not static.
	Value int64
	// Param is the symbolic name of a non-static dimension ("" if none).
	Param string
}

// Static reports whether the dimension has a known size.
func (d Dim) Static() bool { return d.Value >= 0 }

// String renders the dimension as its size, its symbol, or "?".
func (d Dim) String() string {
	switch {
	case d.Value >= 0:
		return strconv.FormatInt(d.Value, 10)
	case d.Param != "":
		return d.Param
	}
	return "?"
}

// ValueType is the element type and shape of a tensor value.
type ValueType struct {
	// Elem is the element type (UNDEFINED when not declared).
	Elem onnxpb.TensorProto_DataType
	// Shape is nil when the rank is unknown; an empty non-nil slice is a scalar.
	Shape []Dim
}

// Rank returns the number of dimensions, or -1 when unknown.
func (t ValueType) Rank() int {
	if t.Shape == nil {
		return -1
	}
	return len(t.Shape)
}

// DefaultDomainOpset returns the model's opset version for the default ONNX
// domain ("" or "ai.onnx"), or 0 when it imports none.
func (m *Model) DefaultDomainOpset() int64 {
	for _, o := range m.Proto.GetOpsetImport() {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			return o.GetVersion()
		}
	}
	return 0
}

// Graph returns the model's main graph.
func (m *Model) Graph() *onnxpb.GraphProto { return m.Proto.GetGraph() }

// Producer returns the node of the main graph that outputs value, or nil for
// graph inputs, initializers and unknown names.
func (m *Model) Producer(value string) *onnxpb.NodeProto {
	for _, n := range m.Graph().GetNode() {
		for _, o := range n.GetOutput() {
			if o == value {
				return n
			}
		}
	}
	return nil
}

// Consumers returns the nodes of the main graph that take value as an input,
// in graph order.
func (m *Model) Consumers(value string) []*onnxpb.NodeProto {
	var out []*onnxpb.NodeProto
	for _, n := range m.Graph().GetNode() {
		for _, in := range n.GetInput() {
			if in == value {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// IsGraphOutput reports whether value is one of the graph's outputs.
func (m *Model) IsGraphOutput(value string) bool {
	for _, o := range m.Graph().GetOutput() {
		if o.GetName() == value {
			return true
		}
	}
	return false
}

// Initializer returns the initializer named name, or nil.
func (m *Model) Initializer(name string) *onnxpb.TensorProto {
	for _, t := range m.Graph().GetInitializer() {
		if t.GetName() == name {
			return t
		}
	}
	return nil
}

// ValueType returns what the model declares about value: from graph inputs,
// outputs, value_info or initializers. ok is false if nothing is declared.
func (m *Model) ValueType(value string) (vt ValueType, ok bool) {
	g := m.Graph()
	for _, list := range [][]*onnxpb.ValueInfoProto{g.GetInput(), g.GetOutput(), g.GetValueInfo()} {
		for _, vi := range list {
			if vi.GetName() == value {
				if vt, ok := valueInfoType(vi); ok {
					return vt, true
				}
			}
		}
	}
	if t := m.Initializer(value); t != nil {
		shape := make([]Dim, len(t.GetDims()))
		for i, d := range t.GetDims() {
			shape[i] = Dim{Value: d}
		}
		return ValueType{Elem: onnxpb.TensorProto_DataType(t.GetDataType()), Shape: shape}, true
	}
	return ValueType{}, false
}

// valueInfoType reads a tensor type out of a ValueInfoProto.
func valueInfoType(vi *onnxpb.ValueInfoProto) (ValueType, bool) {
	tt := vi.GetType().GetTensorType()
	if tt == nil {
		return ValueType{}, false
	}
	vt := ValueType{Elem: onnxpb.TensorProto_DataType(tt.GetElemType())}
	if tt.Shape != nil {
		vt.Shape = make([]Dim, 0, len(tt.Shape.GetDim()))
		for _, d := range tt.Shape.GetDim() {
			dim := Dim{Value: -1, Param: d.GetDimParam()}
			if x, ok := d.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); ok {
				dim = Dim{Value: x.DimValue}
			}
			vt.Shape = append(vt.Shape, dim)
		}
	}
	return vt, true
}

// TensorValueInfo builds a ValueInfoProto for a tensor of the given type.
func TensorValueInfo(name string, vt ValueType) *onnxpb.ValueInfoProto {
	tt := &onnxpb.TypeProto_Tensor{ElemType: ptr(int32(vt.Elem))}
	if vt.Shape != nil {
		sp := &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{}}
		for _, d := range vt.Shape {
			dim := &onnxpb.TensorShapeProto_Dimension{}
			switch {
			case d.Value >= 0:
				dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d.Value}
			case d.Param != "":
				dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: d.Param}
			}
			sp.Dim = append(sp.Dim, dim)
		}
		tt.Shape = sp
	}
	return &onnxpb.ValueInfoProto{
		Name: ptr(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: tt}},
	}
}
