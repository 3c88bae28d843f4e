package autodiff

import (
	"fmt"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// Ctx is what a rule's Grad sees: its node, the gradients of the node's
// outputs, and builders for the gradient nodes. Every name it creates is
// Prefix/<node name>/<what>, made unique.
type Ctx struct {
	// Node is the forward node; Opset the model's default-domain opset.
	Node  *onnxpb.NodeProto
	Opset int64

	g       *graph
	base    string
	gradOut []string
	need    []bool
	gradIn  []string
}

// In returns the name of input i ("" when absent).
func (c *Ctx) In(i int) string {
	if i < len(c.Node.GetInput()) {
		return c.Node.GetInput()[i]
	}
	return ""
}

// Out returns the name of output i.
func (c *Ctx) Out(i int) string {
	if i < len(c.Node.GetOutput()) {
		return c.Node.GetOutput()[i]
	}
	return ""
}

// GradOut returns the gradient flowing into output i, "" when none does
// (the output is unused or constant for the loss).
func (c *Ctx) GradOut(i int) string {
	if i < len(c.gradOut) {
		return c.gradOut[i]
	}
	return ""
}

// Need reports whether input i needs a gradient.
func (c *Ctx) Need(i int) bool { return i < len(c.need) && c.need[i] }

// SetGrad records v as input i's gradient contribution (same shape and
// type as the input). Calls for inputs that do not Need one are ignored.
func (c *Ctx) SetGrad(i int, v string) {
	if c.Need(i) {
		c.gradIn[i] = v
	}
}

// Shape returns what is statically known of forward value v.
func (c *Ctx) Shape(v string) Shape { return c.g.shape(v) }

// Elem returns v's element type (the loss's when not known).
func (c *Ctx) Elem(v string) onnxpb.TensorProto_DataType {
	if e := c.g.shape(v).Elem; e != onnxpb.TensorProto_UNDEFINED {
		return e
	}
	return c.g.defaultElem
}

// Rank returns v's static rank or an error naming v.
func (c *Ctx) Rank(v string) (int, error) {
	s := c.g.shape(v)
	if !s.Known {
		return 0, fmt.Errorf("the rank of %q is not known statically: %w", v, errNoShape)
	}
	return len(s.Dims), nil
}

// Ints returns the values of a constant integer input (initializer or
// Constant node).
func (c *Ctx) Ints(v string) ([]int64, bool) { return c.g.constInts(v) }

// AttrInt returns integer attribute name of the node, or def.
func (c *Ctx) AttrInt(name string, def int64) int64 { return graphedit.AttrIntOr(c.Node, name, def) }

// AttrInts returns ints attribute name of the node.
func (c *Ctx) AttrInts(name string) ([]int64, bool) { return attrInts(c.Node, name) }

// AttrFloat returns float attribute name of the node, or def.
func (c *Ctx) AttrFloat(name string, def float32) float32 { return attrFloat(c.Node, name, def) }

// AttrString returns string attribute name of the node, or def.
func (c *Ctx) AttrString(name, def string) string { return attrString(c.Node, name, def) }

// Op adds a gradient node of type op and returns its output.
func (c *Ctx) Op(op, what string, inputs []string, attrs ...*onnxpb.AttributeProto) string {
	return c.g.b.Op(op, c.base+"/"+what, inputs, attrs...)
}

// OpN adds a gradient node with n outputs.
func (c *Ctx) OpN(op, what string, n int, inputs []string, attrs ...*onnxpb.AttributeProto) []string {
	return c.g.b.OpN(op, c.base+"/"+what, n, inputs, attrs...)
}

// Scalar adds a 0-d initializer holding v in like's element type.
func (c *Ctx) Scalar(what string, v float64, like string) string {
	return c.g.b.Scalar(c.base+"/"+what, c.Elem(like), v)
}

// Int64s adds an int64 1-D initializer.
func (c *Ctx) Int64s(what string, v ...int64) string {
	return c.g.b.Int64(c.base+"/"+what, []int64{int64(len(v))}, v)
}

// Float adds a float tensor initializer in like's element type.
func (c *Ctx) Float(what string, dims []int64, v []float64, like string) string {
	if c.Elem(like) == onnxpb.TensorProto_DOUBLE {
		return c.g.b.Float64(c.base+"/"+what, dims, v)
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return c.g.b.Float32(c.base+"/"+what, dims, f)
}

// ShapeOf returns a value holding Shape(v).
func (c *Ctx) ShapeOf(v string) string { return c.g.shapeOf(v) }

// ZerosLike returns zeros of v's shape and type.
func (c *Ctx) ZerosLike(v string) string { return c.g.zerosLike(v, "zeros") }

// GradOrZeros returns output i's gradient, or zeros of its shape.
func (c *Ctx) GradOrZeros(i int) string {
	if g := c.GradOut(i); g != "" {
		return g
	}
	return c.ZerosLike(c.Out(i))
}

// ReduceSum sums x over axes (keepdims as given) in the opset's form.
func (c *Ctx) ReduceSum(what, x string, axes []int64, keepdims bool) string {
	return c.g.b.ReduceSum(c.base+"/"+what, x, axes, keepdims)
}

// ReduceMean averages x over axes in the opset's form.
func (c *Ctx) ReduceMean(what, x string, axes []int64, keepdims bool) string {
	return c.g.b.ReduceMean(c.base+"/"+what, x, axes, keepdims)
}

// Unsqueeze inserts axes into x in the opset's form.
func (c *Ctx) Unsqueeze(what, x string, axes []int64) string {
	return c.g.b.Unsqueeze(c.base+"/"+what, x, axes)
}

// Squeeze removes axes of x in the opset's form.
func (c *Ctx) Squeeze(what, x string, axes []int64) string {
	return c.g.b.Squeeze(c.base+"/"+what, x, axes)
}

// ReshapeLike reshapes x to the shape of v.
func (c *Ctx) ReshapeLike(what, x, v string) string {
	return c.Op("Reshape", what, []string{x, c.ShapeOf(v)})
}

// Mul, Add, Sub, Div and Neg are the arithmetic rules write most.
func (c *Ctx) Mul(what, a, b string) string { return c.Op("Mul", what, []string{a, b}) }

// Add adds a and b.
func (c *Ctx) Add(what, a, b string) string { return c.Op("Add", what, []string{a, b}) }

// Sub subtracts b from a.
func (c *Ctx) Sub(what, a, b string) string { return c.Op("Sub", what, []string{a, b}) }

// Div divides a by b.
func (c *Ctx) Div(what, a, b string) string { return c.Op("Div", what, []string{a, b}) }

// Neg negates a.
func (c *Ctx) Neg(what, a string) string { return c.Op("Neg", what, []string{a}) }

// CastLike casts x (bool or another float type) to v's element type.
func (c *Ctx) CastLike(what, x, v string) string {
	return c.g.b.Cast(c.base+"/"+what, x, c.Elem(v))
}

// Unbroadcast reduces grad, a gradient of the node's output out, to the
// shape of input x that was broadcast into it: ReduceSum over the leading
// axes x lacks and the axes where x has size 1, then Reshape to x's shape.
// Where x's dim is not static (and the output's is not 1), whether it was
// broadcast is decided at run time: the sum over that axis is taken where
// x's size is 1, and the axis is then cut to x's size.
func (c *Ctx) Unbroadcast(what, grad, x, out string) (string, error) {
	xs, os := c.Shape(x), c.Shape(out)
	if xs.Known && os.Known && equalStatic(xs.Dims, os.Dims) {
		return grad, nil
	}
	if !xs.Known || !os.Known {
		return "", fmt.Errorf("broadcasting %q into %q: %w", x, out, errNoShape)
	}
	lead := len(os.Dims) - len(xs.Dims)
	if lead < 0 {
		return "", fmt.Errorf("input %q has a higher rank than the output %q", x, out)
	}
	var axes, ambiguous []int64
	for i := 0; i < lead; i++ {
		axes = append(axes, int64(i))
	}
	for i, d := range xs.Dims {
		o := os.Dims[lead+i]
		switch {
		case d == 1 && o != 1:
			axes = append(axes, int64(lead+i))
		case d < 0 && o != 1:
			ambiguous = append(ambiguous, int64(i))
		}
	}
	g := grad
	for _, i := range ambiguous {
		k := int64(lead) + i
		size := c.Op("Gather", what+"_size", []string{c.ShapeOf(x), c.Int64s(what+"_axis", i)}, graphedit.AttrInt("axis", 0))
		isOne := c.Op("Equal", what+"_is_one", []string{size, c.Int64s(what+"_one", 1)})
		sum := c.Op("Expand", what+"_sum_b", []string{c.ReduceSum(what+"_sum_k", g, []int64{k}, true), c.ShapeOf(g)})
		g = c.Op("Where", what+"_maybe_sum", []string{isOne, sum, g})
		g = c.Op("Slice", what+"_cut", []string{g, c.Int64s(what+"_zero", 0), size, c.Int64s(what+"_k", k)})
	}
	if len(axes) == 0 && len(ambiguous) == 0 {
		return grad, nil
	}
	if len(axes) > 0 {
		g = c.ReduceSum(what+"_sum", g, axes, true)
	}
	return c.ReshapeLike(what, g, x), nil
}

// equalStatic reports whether two shapes are equal and fully static.
func equalStatic(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] < 0 || a[i] != b[i] {
			return false
		}
	}
	return true
}

// oneHot is OneHot(indices, depth) with 0/1 values in like's element type
// and the new axis at axis. ONNX Runtime has OneHot only with float32 (and
// integer) values, so other types are Cast from float32.
func (c *Ctx) oneHot(what, indices, depth, like string, axis *onnxpb.AttributeProto) string {
	oh := c.Op("OneHot", what, []string{indices, depth, c.g.b.Float32(c.base+"/off_on", []int64{2}, []float32{0, 1})}, axis)
	if c.Elem(like) != onnxpb.TensorProto_FLOAT {
		oh = c.CastLike(what+"_cast", oh, like)
	}
	return oh
}
