package graphedit

import (
	"fmt"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// Builder appends nodes to a model's main graph in the form the model's
// default-domain opset expects. Every node and value it creates is named
// Prefix + "/" + a description, made unique in the graph.
type Builder struct {
	// M is the model the nodes go into.
	M *Model
	// Opset is the model's default-domain opset; it selects node forms.
	Opset int64
	// Prefix starts every generated name (e.g. "onnxloss").
	Prefix string
}

// NewBuilder returns a Builder for m with the given name prefix.
func NewBuilder(m *Model, prefix string) *Builder {
	return &Builder{M: m, Opset: m.DefaultDomainOpset(), Prefix: prefix}
}

// Name returns a fresh unique name Prefix/what.
func (b *Builder) Name(what string) string {
	return b.M.UniqueName(b.Prefix + "/" + what)
}

// Op adds a node of type op with the given inputs and attributes and one
// output, and returns the output's name. what describes the value.
func (b *Builder) Op(op, what string, inputs []string, attrs ...*onnxpb.AttributeProto) string {
	return b.OpN(op, what, 1, inputs, attrs...)[0]
}

// OpN adds a node with nOut outputs and returns their names.
func (b *Builder) OpN(op, what string, nOut int, inputs []string, attrs ...*onnxpb.AttributeProto) []string {
	outs := make([]string, nOut)
	for i := range outs {
		outs[i] = b.Name(what)
	}
	b.M.AddNode(&onnxpb.NodeProto{
		Name:      ptr(b.M.UniqueName(b.Prefix + "/" + op)),
		OpType:    ptr(op),
		Input:     inputs,
		Output:    outs,
		Attribute: attrs,
	})
	return outs
}

// Float32 adds a float32 initializer named Prefix/what and returns its name.
func (b *Builder) Float32(what string, dims []int64, data []float32) string {
	name := b.Name(what)
	b.mustAdd(Float32Tensor(name, dims, data))
	return name
}

// Float64 adds a float64 initializer named Prefix/what and returns its name.
func (b *Builder) Float64(what string, dims []int64, data []float64) string {
	name := b.Name(what)
	b.mustAdd(Float64Tensor(name, dims, data))
	return name
}

// Int64 adds an int64 initializer named Prefix/what and returns its name.
func (b *Builder) Int64(what string, dims []int64, data []int64) string {
	name := b.Name(what)
	b.mustAdd(Int64Tensor(name, dims, data))
	return name
}

// Scalar adds a 0-d initializer of element type elem (FLOAT or DOUBLE)
// holding v.
func (b *Builder) Scalar(what string, elem onnxpb.TensorProto_DataType, v float64) string {
	if elem == onnxpb.TensorProto_DOUBLE {
		return b.Float64(what, []int64{}, []float64{v})
	}
	return b.Float32(what, []int64{}, []float32{float32(v)})
}

func (b *Builder) mustAdd(t *onnxpb.TensorProto) {
	// The name comes from UniqueName, so AddInitializer cannot fail.
	if err := b.M.AddInitializer(t); err != nil {
		panic(fmt.Sprintf("graphedit: %v", err))
	}
}

// axesInput reports whether op takes its axes as an input (true) or an
// attribute (false) at the builder's opset.
func (b *Builder) axesInput(op string) bool {
	switch op {
	case "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceLogSumExp":
		return b.Opset >= 18
	}
	return b.Opset >= 13 // ReduceSum, Squeeze, Unsqueeze
}

// axesOp adds op (ReduceSum, ReduceMean, Squeeze, Unsqueeze) over axes in the
// form the opset wants. keepdims < 0 leaves the attribute out (Squeeze,
// Unsqueeze). nil axes means "all axes" for reductions.
func (b *Builder) axesOp(op, what, x string, axes []int64, keepdims int64) string {
	var attrs []*onnxpb.AttributeProto
	if keepdims >= 0 {
		attrs = append(attrs, AttrInt("keepdims", keepdims))
	}
	inputs := []string{x}
	if axes != nil {
		if b.axesInput(op) {
			inputs = append(inputs, b.Int64(what+"_axes", []int64{int64(len(axes))}, axes))
		} else {
			attrs = append(attrs, AttrInts("axes", axes))
		}
	}
	return b.Op(op, what, inputs, attrs...)
}

// ReduceSum sums x over axes (all axes when axes is nil).
func (b *Builder) ReduceSum(what, x string, axes []int64, keepdims bool) string {
	return b.axesOp("ReduceSum", what, x, axes, boolInt(keepdims))
}

// ReduceMean averages x over axes (all axes when axes is nil).
func (b *Builder) ReduceMean(what, x string, axes []int64, keepdims bool) string {
	return b.axesOp("ReduceMean", what, x, axes, boolInt(keepdims))
}

// Squeeze removes the size-1 axes of x.
func (b *Builder) Squeeze(what, x string, axes []int64) string {
	return b.axesOp("Squeeze", what, x, axes, -1)
}

// Unsqueeze inserts size-1 axes into x.
func (b *Builder) Unsqueeze(what, x string, axes []int64) string {
	return b.axesOp("Unsqueeze", what, x, axes, -1)
}

// LogSoftmax computes log-softmax of x (of the given rank) along axis. Before
// opset 13 the op flattens its input to 2-D around axis, so for an inner axis
// of a rank > 2 tensor the axis is first transposed to the end and back.
func (b *Builder) LogSoftmax(what, x string, axis int64, rank int) string {
	return b.softmaxLike("LogSoftmax", what, x, axis, rank)
}

// Softmax computes softmax of x along axis, with the same pre-13 handling as
// LogSoftmax.
func (b *Builder) Softmax(what, x string, axis int64, rank int) string {
	return b.softmaxLike("Softmax", what, x, axis, rank)
}

func (b *Builder) softmaxLike(op, what, x string, axis int64, rank int) string {
	if axis < 0 {
		axis += int64(rank)
	}
	if b.Opset >= 13 || axis == int64(rank)-1 {
		return b.Op(op, what, []string{x}, AttrInt("axis", axis))
	}
	// Move axis last, apply over the last axis (the 2-D coercion then groups
	// exactly that axis), move it back.
	perm := make([]int64, 0, rank)
	for i := int64(0); i < int64(rank); i++ {
		if i != axis {
			perm = append(perm, i)
		}
	}
	perm = append(perm, axis)
	inv := make([]int64, rank)
	for i, p := range perm {
		inv[p] = int64(i)
	}
	t := b.Op("Transpose", what+"_last", []string{x}, AttrInts("perm", perm))
	s := b.Op(op, what+"_t", []string{t}, AttrInt("axis", int64(rank)-1))
	return b.Op("Transpose", what, []string{s}, AttrInts("perm", inv))
}

// Cast converts x to element type to.
func (b *Builder) Cast(what, x string, to onnxpb.TensorProto_DataType) string {
	return b.Op("Cast", what, []string{x}, AttrInt("to", int64(to)))
}

func boolInt(v bool) int64 {
	if v {
		return 1
	}
	return 0
}

// ReduceSumLike applies a reduction op of the ReduceSum family (ReduceProd,
// ReduceMax, …) over all axes of x, keeping them, in the form the opset
// wants.
func (b *Builder) ReduceSumLike(what, op, x string) string {
	return b.axesOp(op, what, x, nil, 1)
}
