package autodiff

import (
	"encoding/binary"
	"math"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// Shape is what the engine knows statically about a value: its element type
// and, when Known, its rank with each dim's size (-1 where not static).
type Shape struct {
	// Elem is the element type (UNDEFINED when not known).
	Elem onnxpb.TensorProto_DataType
	// Dims holds one size per axis, -1 for a size that is not static.
	Dims []int64
	// Known reports whether the rank (len(Dims)) is known.
	Known bool
}

// Rank returns the rank, or -1 when unknown.
func (s Shape) Rank() int {
	if !s.Known {
		return -1
	}
	return len(s.Dims)
}

// unknownShape has only an element type.
func unknownShape(elem onnxpb.TensorProto_DataType) Shape { return Shape{Elem: elem} }

// dimsShape builds a known shape.
func dimsShape(elem onnxpb.TensorProto_DataType, dims ...int64) Shape {
	return Shape{Elem: elem, Dims: append([]int64{}, dims...), Known: true}
}

// rankShape is a shape of known rank and no static dims.
func rankShape(elem onnxpb.TensorProto_DataType, rank int) Shape {
	d := make([]int64, rank)
	for i := range d {
		d[i] = -1
	}
	return Shape{Elem: elem, Dims: d, Known: true}
}

// withElem returns s with another element type.
func (s Shape) withElem(e onnxpb.TensorProto_DataType) Shape {
	s.Dims = append([]int64(nil), s.Dims...)
	s.Elem = e
	return s
}

// InferCtx is what an Infer function sees of its node.
type InferCtx struct {
	// Node is the node whose outputs are inferred; Opset the model's
	// default-domain opset.
	Node  *onnxpb.NodeProto
	Opset int64
	g     *graph
}

// In returns the shape of input i (unknown when absent).
func (c *InferCtx) In(i int) Shape {
	if i >= len(c.Node.GetInput()) || c.Node.GetInput()[i] == "" {
		return Shape{}
	}
	return c.g.shape(c.Node.GetInput()[i])
}

// NumIn returns the number of present-or-empty inputs.
func (c *InferCtx) NumIn() int { return len(c.Node.GetInput()) }

// Ints returns the values of integer input i when it is a constant
// (initializer or Constant node).
func (c *InferCtx) Ints(i int) ([]int64, bool) {
	if i >= len(c.Node.GetInput()) || c.Node.GetInput()[i] == "" {
		return nil, false
	}
	return c.g.constInts(c.Node.GetInput()[i])
}

// AttrInt returns integer attribute name or def.
func (c *InferCtx) AttrInt(name string, def int64) int64 {
	return graphedit.AttrIntOr(c.Node, name, def)
}

// AttrInts returns ints attribute name.
func (c *InferCtx) AttrInts(name string) ([]int64, bool) { return attrInts(c.Node, name) }

func attrInts(n *onnxpb.NodeProto, name string) ([]int64, bool) {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a.GetInts(), true
		}
	}
	return nil, false
}

func attrFloat(n *onnxpb.NodeProto, name string, def float32) float32 {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a.GetF()
		}
	}
	return def
}

func attrString(n *onnxpb.NodeProto, name, def string) string {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return string(a.GetS())
		}
	}
	return def
}

func hasAttr(n *onnxpb.NodeProto, name string) bool {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return true
		}
	}
	return false
}

// tensorInts decodes an integer tensor's values.
func tensorInts(t *onnxpb.TensorProto) ([]int64, bool) {
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		return nil, false
	}
	n := int64(1)
	for _, d := range t.GetDims() {
		n *= d
	}
	switch onnxpb.TensorProto_DataType(t.GetDataType()) {
	case onnxpb.TensorProto_INT64:
		if len(t.GetInt64Data()) > 0 {
			return append([]int64{}, t.GetInt64Data()...), true
		}
		raw := t.GetRawData()
		if int64(len(raw)) != 8*n {
			return nil, false
		}
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		return out, true
	case onnxpb.TensorProto_INT32:
		if len(t.GetInt32Data()) > 0 {
			out := make([]int64, len(t.GetInt32Data()))
			for i, v := range t.GetInt32Data() {
				out[i] = int64(v)
			}
			return out, true
		}
		raw := t.GetRawData()
		if int64(len(raw)) != 4*n {
			return nil, false
		}
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
		}
		return out, true
	}
	return nil, false
}

// broadcastShapes is the multidirectional (numpy) broadcast of shapes.
func broadcastShapes(elem onnxpb.TensorProto_DataType, ss ...Shape) Shape {
	r := 0
	for _, s := range ss {
		if !s.Known {
			return unknownShape(elem)
		}
		r = max(r, len(s.Dims))
	}
	out := make([]int64, r)
	for i := range out {
		out[i] = 1
	}
	for _, s := range ss {
		off := r - len(s.Dims)
		for i, d := range s.Dims {
			o := &out[off+i]
			switch {
			case d == 1:
			case d < 0:
				if *o == 1 {
					*o = -1
				}
			default:
				*o = d
			}
		}
	}
	return Shape{Elem: elem, Dims: out, Known: true}
}

// Infer helpers shared by rule files.

// inferSame gives every output input 0's shape and type.
func inferSame(c *InferCtx) []Shape {
	out := make([]Shape, len(c.Node.GetOutput()))
	for i := range out {
		out[i] = c.In(0)
	}
	return out
}

// inferBroadcast broadcasts all inputs, element type of input 0.
func inferBroadcast(c *InferCtx) []Shape {
	var ss []Shape
	for i := 0; i < c.NumIn(); i++ {
		ss = append(ss, c.In(i))
	}
	return []Shape{broadcastShapes(c.In(0).Elem, ss...)}
}

// inferBool is a broadcast whose result is boolean (comparisons).
func inferBool(c *InferCtx) []Shape {
	return []Shape{inferBroadcast(c)[0].withElem(onnxpb.TensorProto_BOOL)}
}

// constBool reads a one-element bool constant.
func (g *graph) constBool(v string) (bool, bool) {
	var t *onnxpb.TensorProto
	if init := g.inits[v]; init != nil {
		t = init
	} else if n := g.producer[v]; n != nil && n.GetOpType() == "Constant" {
		for _, a := range n.GetAttribute() {
			if a.GetName() == "value" {
				t = a.GetT()
			}
		}
	}
	if t == nil || onnxpb.TensorProto_DataType(t.GetDataType()) != onnxpb.TensorProto_BOOL {
		return false, false
	}
	if len(t.GetInt32Data()) == 1 {
		return t.GetInt32Data()[0] != 0, true
	}
	if len(t.GetRawData()) == 1 {
		return t.GetRawData()[0] != 0, true
	}
	return false, false
}

// constFloats reads a float constant's values (initializer or Constant).
func (g *graph) constFloats(v string) ([]float64, bool) {
	var t *onnxpb.TensorProto
	if init := g.inits[v]; init != nil {
		t = init
	} else if n := g.producer[v]; n != nil && n.GetOpType() == "Constant" {
		for _, a := range n.GetAttribute() {
			if a.GetName() == "value" {
				t = a.GetT()
			}
		}
	}
	if t == nil {
		return nil, false
	}
	switch onnxpb.TensorProto_DataType(t.GetDataType()) {
	case onnxpb.TensorProto_FLOAT:
		if len(t.GetFloatData()) > 0 {
			out := make([]float64, len(t.GetFloatData()))
			for i, f := range t.GetFloatData() {
				out[i] = float64(f)
			}
			return out, true
		}
		raw := t.GetRawData()
		out := make([]float64, len(raw)/4)
		for i := range out {
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
		}
		return out, true
	case onnxpb.TensorProto_DOUBLE:
		if len(t.GetDoubleData()) > 0 {
			return append([]float64{}, t.GetDoubleData()...), true
		}
		raw := t.GetRawData()
		out := make([]float64, len(raw)/8)
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		return out, true
	}
	return nil, false
}
