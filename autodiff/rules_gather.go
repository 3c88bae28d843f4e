package autodiff

import (
	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// Indexing ops. Their gradients scatter-add the output gradient back to the
// positions read; the scatter is a product with one_hot(indices), which
// accumulates repeated indices and wraps negative ones as the forward op
// does, with ops every runtime has at every opset (ScatterElements only
// accumulates from opset 16).

func init() {
	Register(
		&Rule{Op: "Gather", Inputs: []int{0}, Infer: func(c *InferCtx) []Shape {
			d, i := c.In(0), c.In(1)
			if !d.Known || !i.Known {
				return []Shape{unknownShape(d.Elem)}
			}
			axis := c.AttrInt("axis", 0)
			if axis < 0 {
				axis += int64(len(d.Dims))
			}
			dims := append([]int64{}, d.Dims[:axis]...)
			dims = append(dims, i.Dims...)
			dims = append(dims, d.Dims[axis+1:]...)
			return []Shape{dimsShape(d.Elem, dims...)}
		}, Grad: gradGather},
		&Rule{Op: "GatherElements", Inputs: []int{0}, Infer: func(c *InferCtx) []Shape {
			return []Shape{c.In(1).withElem(c.In(0).Elem)}
		}, Grad: gradGatherElements},
	)
}

// gradGather: data[pre, D, post] gathered to out[pre, I..., post]:
// d_data[p, d, q] = sum_i [idx_i == d] grad[p, i, q], computed as
// (grad as [P, Q, |I|]) @ one_hot(idx, D) as [|I|, D].
func gradGather(c *Ctx) error {
	data, idx := c.In(0), c.In(1)
	r, err := c.Rank(data)
	if err != nil {
		return err
	}
	q, err := c.Rank(idx)
	if err != nil {
		return err
	}
	axis := c.AttrInt("axis", 0)
	if axis < 0 {
		axis += int64(r)
	}
	shape := c.ShapeOf(data)
	dim := c.Op("Gather", "dim", []string{shape, c.Int64s("axis", axis)}, graphedit.AttrInt("axis", 0))
	oh := c.oneHot("one_hot", idx, dim, data, graphedit.AttrInt("axis", -1))
	oh2 := c.Op("Reshape", "one_hot_2d", []string{oh, c.Op("Concat", "oh_shape", []string{c.Int64s("minus_one", -1), dim}, graphedit.AttrInt("axis", 0))})
	gshape := c.ShapeOf(c.Out(0))
	prod := func(what string, from, to int64) string {
		s := c.Op("Slice", what+"_dims", []string{gshape, c.Int64s(what+"_from", from), c.Int64s(what+"_to", to), c.Int64s(what+"_ax", 0)})
		// ReduceProd of an empty slice is 1.
		return c.g.b.ReduceSumLike(c.base+"/"+what, "ReduceProd", s)
	}
	p := prod("pre", 0, axis)
	n := prod("idx", axis, axis+int64(q))
	post := prod("post", axis+int64(q), int64(r-1+q))
	g3 := c.Op("Reshape", "g3", []string{c.GradOut(0), c.Op("Concat", "g3_shape", []string{p, n, post}, graphedit.AttrInt("axis", 0))})
	gt := c.Op("Transpose", "g_pqi", []string{g3}, graphedit.AttrInts("perm", []int64{0, 2, 1}))
	s := c.Op("MatMul", "scattered", []string{gt, oh2})
	st := c.Op("Transpose", "scattered_pdq", []string{s}, graphedit.AttrInts("perm", []int64{0, 2, 1}))
	c.SetGrad(0, c.ReshapeLike("d_data", st, data))
	return nil
}

// gradGatherElements: d_data[.., d, ..] = sum_j [idx[.., j, ..] == d]
// grad[.., j, ..] along axis, as sum_j one_hot(idx)[.., j, d, ..] * grad.
// The other dims of indices must equal data's (as every exporter emits).
func gradGatherElements(c *Ctx) error {
	data, idx := c.In(0), c.In(1)
	r, err := c.Rank(data)
	if err != nil {
		return err
	}
	axis := c.AttrInt("axis", 0)
	if axis < 0 {
		axis += int64(r)
	}
	dim := c.Op("Gather", "dim", []string{c.ShapeOf(data), c.Int64s("axis", axis)}, graphedit.AttrInt("axis", 0))
	oh := c.oneHot("one_hot", idx, dim, data, graphedit.AttrInt("axis", axis+1))
	prod := c.Mul("picked", oh, c.Unsqueeze("g_col", c.GradOut(0), []int64{axis + 1}))
	d := c.ReduceSum("d_data_sum", prod, []int64{axis}, false)
	c.SetGrad(0, c.ReshapeLike("d_data", d, data))
	return nil
}

var _ = onnxpb.TensorProto_FLOAT
