package autodiff

import (
	"github.com/onnxloss/onnxloss/onnxpb"
)

// Ops whose outputs carry no gradient: comparisons, logic, shapes, indices
// and constants. They take part only in shape inference.

func init() {
	for _, op := range []string{"Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "And", "Or", "Xor"} {
		Register(&Rule{Op: op, Infer: inferBool})
	}
	Register(
		&Rule{Op: "Not", Infer: inferSame},
		&Rule{Op: "IsNaN", Infer: func(c *InferCtx) []Shape { return []Shape{c.In(0).withElem(onnxpb.TensorProto_BOOL)} }},
		&Rule{Op: "IsInf", Infer: func(c *InferCtx) []Shape { return []Shape{c.In(0).withElem(onnxpb.TensorProto_BOOL)} }},
		&Rule{Op: "Sign", Infer: inferSame},
		&Rule{Op: "Floor", Infer: inferSame},
		&Rule{Op: "Ceil", Infer: inferSame},
		&Rule{Op: "Round", Infer: inferSame},
		&Rule{Op: "Mod", Infer: inferBroadcast},
		&Rule{Op: "Shape", Infer: func(c *InferCtx) []Shape {
			x := c.In(0)
			if !x.Known {
				return []Shape{rankShape(onnxpb.TensorProto_INT64, 1)}
			}
			r := int64(len(x.Dims))
			start, end := c.AttrInt("start", 0), c.AttrInt("end", r)
			if start < 0 {
				start += r
			}
			if end < 0 {
				end += r
			}
			start, end = clamp(start, 0, r), clamp(end, 0, r)
			return []Shape{dimsShape(onnxpb.TensorProto_INT64, max(end-start, 0))}
		}},
		&Rule{Op: "Size", Infer: func(c *InferCtx) []Shape { return []Shape{dimsShape(onnxpb.TensorProto_INT64)} }},
		&Rule{Op: "ArgMax", Infer: inferArg},
		&Rule{Op: "ArgMin", Infer: inferArg},
		&Rule{Op: "Range", Infer: func(c *InferCtx) []Shape { return []Shape{rankShape(c.In(0).Elem, 1)} }},
		&Rule{Op: "ConstantOfShape", Infer: func(c *InferCtx) []Shape {
			elem := onnxpb.TensorProto_FLOAT
			for _, a := range c.Node.GetAttribute() {
				if a.GetName() == "value" {
					elem = onnxpb.TensorProto_DataType(a.GetT().GetDataType())
				}
			}
			if v, ok := c.Ints(0); ok {
				return []Shape{dimsShape(elem, v...)}
			}
			if s := c.In(0); s.Known && len(s.Dims) == 1 && s.Dims[0] >= 0 {
				return []Shape{rankShape(elem, int(s.Dims[0]))}
			}
			return []Shape{unknownShape(elem)}
		}},
		&Rule{Op: "Constant", Infer: func(c *InferCtx) []Shape {
			for _, a := range c.Node.GetAttribute() {
				switch a.GetName() {
				case "value":
					return []Shape{dimsShape(onnxpb.TensorProto_DataType(a.GetT().GetDataType()), a.GetT().GetDims()...)}
				case "value_float":
					return []Shape{dimsShape(onnxpb.TensorProto_FLOAT)}
				case "value_floats":
					return []Shape{dimsShape(onnxpb.TensorProto_FLOAT, int64(len(a.GetFloats())))}
				case "value_int":
					return []Shape{dimsShape(onnxpb.TensorProto_INT64)}
				case "value_ints":
					return []Shape{dimsShape(onnxpb.TensorProto_INT64, int64(len(a.GetInts())))}
				}
			}
			return []Shape{{}}
		}},
		&Rule{Op: "OneHot", Infer: func(c *InferCtx) []Shape {
			idx, vals := c.In(0), c.In(2)
			if !idx.Known {
				return []Shape{unknownShape(vals.Elem)}
			}
			r := len(idx.Dims) + 1
			axis := c.AttrInt("axis", -1)
			if axis < 0 {
				axis += int64(r)
			}
			depth := int64(-1)
			if d, ok := c.Ints(1); ok && len(d) == 1 {
				depth = d[0]
			}
			if axis < 0 || axis >= int64(r) {
				return []Shape{unknownShape(vals.Elem)}
			}
			dims := append([]int64{}, idx.Dims[:axis]...)
			dims = append(dims, depth)
			dims = append(dims, idx.Dims[axis:]...)
			return []Shape{dimsShape(vals.Elem, dims...)}
		}},
	)
}

func inferArg(c *InferCtx) []Shape {
	x := c.In(0)
	if !x.Known {
		return []Shape{unknownShape(onnxpb.TensorProto_INT64)}
	}
	axis := c.AttrInt("axis", 0)
	if axis < 0 {
		axis += int64(len(x.Dims))
	}
	var dims []int64
	for i, d := range x.Dims {
		if int64(i) == axis {
			if c.AttrInt("keepdims", 1) != 0 {
				dims = append(dims, 1)
			}
			continue
		}
		dims = append(dims, d)
	}
	return []Shape{dimsShape(onnxpb.TensorProto_INT64, dims...)}
}

func clamp(v, lo, hi int64) int64 { return min(max(v, lo), hi) }
