package autodiff

import (
	"fmt"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// Indexing ops. Their gradients scatter-add the output gradient back to the
// positions read. From opset 16 that is ScatterND / ScatterElements with
// reduction "add"; before, scatters cannot accumulate, and the scatter is a
// product with one_hot(indices) (memory |indices| x the gathered axis),
// which accumulates repeated indices and wraps negative ones as the forward
// op does.

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
			if axis < 0 || axis >= int64(len(d.Dims)) {
				return []Shape{unknownShape(d.Elem)}
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
	if axis < 0 || axis >= int64(r) {
		return fmt.Errorf("axis %d out of range for rank %d", c.AttrInt("axis", 0), r)
	}
	shape := c.ShapeOf(data)
	dim := c.Op("Gather", "dim", []string{shape, c.Int64s("axis", axis)}, graphedit.AttrInt("axis", 0))
	if c.Opset >= 16 {
		c.SetGrad(0, gatherScatter(c, data, idx, dim, axis, r, q))
		return nil
	}
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
	if axis < 0 || axis >= int64(r) {
		return fmt.Errorf("axis %d out of range for rank %d", c.AttrInt("axis", 0), r)
	}
	if c.Opset >= 16 {
		zeros := c.ZerosLike(data)
		c.SetGrad(0, c.Op("ScatterElements", "d_data", []string{zeros, idx, c.GradOut(0)},
			graphedit.AttrInt("axis", axis), graphedit.AttrString("reduction", "add")))
		return nil
	}
	dim := c.Op("Gather", "dim", []string{c.ShapeOf(data), c.Int64s("axis", axis)}, graphedit.AttrInt("axis", 0))
	oh := c.oneHot("one_hot", idx, dim, data, graphedit.AttrInt("axis", axis+1))
	prod := c.Mul("picked", oh, c.Unsqueeze("g_col", c.GradOut(0), []int64{axis + 1}))
	d := c.ReduceSum("d_data_sum", prod, []int64{axis}, false)
	c.SetGrad(0, c.ReshapeLike("d_data", d, data))
	return nil
}

// gatherScatter is Gather's gradient as ScatterND(reduction add) into
// zeros laid out [D, pre..., post...] with the index dims of grad moved
// first, then moved back to [pre..., D, post...].
func gatherScatter(c *Ctx, data, idx, dim string, axis int64, r, q int) string {
	shape := c.ShapeOf(data)
	g := c.GradOut(0)
	ro := r - 1 + q
	perm := make([]int64, 0, ro)
	for i := axis; i < axis+int64(q); i++ {
		perm = append(perm, i)
	}
	for i := int64(0); i < axis; i++ {
		perm = append(perm, i)
	}
	for i := axis + int64(q); i < int64(ro); i++ {
		perm = append(perm, i)
	}
	gt := c.Op("Transpose", "g_index_first", []string{g}, graphedit.AttrInts("perm", perm))
	// negative indices count from the end, as Gather reads them
	zero := c.g.b.Int64(c.base+"/zero_index", []int64{}, []int64{0})
	idx64 := idx
	if c.Elem(idx) != onnxpb.TensorProto_INT64 {
		idx64 = c.g.b.Cast(c.base+"/idx64", idx, onnxpb.TensorProto_INT64)
	}
	wrapped := c.Op("Where", "idx_wrapped", []string{c.Op("Less", "idx_negative", []string{idx64, zero}), c.Add("idx_plus_dim", idx64, c.Squeeze("dim_scalar", dim, []int64{0})), idx64})
	nd := c.Unsqueeze("idx_nd", wrapped, []int64{int64(q)})
	if q == 0 {
		// a scalar index: one update row of shape [1, pre..., post...]
		nd = c.Unsqueeze("idx_nd", wrapped, []int64{0, 1})
		gt = c.Unsqueeze("g_row", gt, []int64{0})
	}
	parts := []string{dim}
	if axis > 0 {
		parts = append(parts, c.Op("Slice", "pre_dims", []string{shape, c.Int64s("pre_from", 0), c.Int64s("pre_to", axis), c.Int64s("ax0", 0)}))
	}
	if axis+1 < int64(r) {
		parts = append(parts, c.Op("Slice", "post_dims", []string{shape, c.Int64s("post_from", axis+1), c.Int64s("post_to", int64(r)), c.Int64s("ax0b", 0)}))
	}
	zshape := c.Op("Concat", "zeros_shape", parts, graphedit.AttrInt("axis", 0))
	zero0 := scalarTensor("", c.Elem(data), 0)
	zero0.Dims = []int64{1}
	zeros := c.Op("ConstantOfShape", "zeros", []string{zshape}, graphedit.AttrTensor("value", zero0))
	sc := c.Op("ScatterND", "scattered", []string{zeros, nd, gt}, graphedit.AttrString("reduction", "add"))
	back := make([]int64, 0, r)
	for i := int64(1); i <= axis; i++ {
		back = append(back, i)
	}
	back = append(back, 0)
	for i := axis + 1; i < int64(r); i++ {
		back = append(back, i)
	}
	return c.Op("Transpose", "d_data", []string{sc}, graphedit.AttrInts("perm", back))
}
