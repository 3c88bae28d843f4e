package autodiff

import (
	"fmt"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// Pooling. MaxPool routes the gradient through its Indices output (added
// to the node when the model does not ask for it). AveragePool is linear
// and separable per spatial axis, so its gradient along each axis is the
// transpose of the matrix that the same AveragePool applied to an
// identity matrix produces: counts, pads, ceil_mode and auto_pad then
// match the forward op exactly. Resize is handled the same way.

func init() {
	Register(
		&Rule{Op: "MaxPool", Inputs: []int{0}, Infer: inferPool, Grad: gradMaxPool},
		&Rule{Op: "AveragePool", Inputs: []int{0}, Infer: inferPool, Grad: func(c *Ctx) error {
			kernel, ok := c.AttrInts("kernel_shape")
			if !ok {
				return fmt.Errorf("AveragePool without kernel_shape")
			}
			sp := len(kernel)
			return c.separableGrad(sp, func(i int, e string) string {
				k := make([]int64, sp)
				s := make([]int64, sp)
				d := make([]int64, sp)
				pads := make([]int64, 2*sp)
				for j := range k {
					k[j], s[j], d[j] = 1, 1, 1
				}
				k[i] = kernel[i]
				if v, ok := c.AttrInts("strides"); ok && len(v) == sp {
					s[i] = v[i]
				}
				if v, ok := c.AttrInts("dilations"); ok && len(v) == sp {
					d[i] = v[i]
				}
				if v, ok := c.AttrInts("pads"); ok && len(v) == 2*sp {
					pads[i], pads[sp+i] = v[i], v[sp+i]
				}
				attrs := []*onnxpb.AttributeProto{
					graphedit.AttrInts("kernel_shape", k), graphedit.AttrInts("strides", s),
					graphedit.AttrInt("count_include_pad", c.AttrInt("count_include_pad", 0)),
					graphedit.AttrInt("ceil_mode", c.AttrInt("ceil_mode", 0)),
				}
				if ap := c.AttrString("auto_pad", "NOTSET"); ap != "NOTSET" {
					attrs = append(attrs, graphedit.AttrString("auto_pad", ap))
				} else {
					attrs = append(attrs, graphedit.AttrInts("pads", pads))
				}
				if c.Opset >= 19 {
					attrs = append(attrs, graphedit.AttrInts("dilations", d))
				}
				return c.Op("AveragePool", "pooled_identity", []string{e}, attrs...)
			})
		}},
	)
}

func inferPool(c *InferCtx) []Shape {
	x := c.In(0)
	out := make([]Shape, len(c.Node.GetOutput()))
	if !x.Known || len(x.Dims) < 2 {
		for i := range out {
			out[i] = unknownShape(x.Elem)
		}
		return out
	}
	s := rankShape(x.Elem, len(x.Dims))
	s.Dims[0], s.Dims[1] = x.Dims[0], x.Dims[1]
	if kernel, ok := c.AttrInts("kernel_shape"); ok {
		spatialOut(c, x, kernel, c.AttrInt("ceil_mode", 0) != 0, s.Dims[2:])
	}
	out[0] = s
	if len(out) > 1 {
		out[1] = s.withElem(onnxpb.TensorProto_INT64)
	}
	return out
}

func gradMaxPool(c *Ctx) error {
	if c.AttrInt("storage_order", 0) != 0 {
		return fmt.Errorf("MaxPool with storage_order=1 is not supported")
	}
	x := c.In(0)
	idx := c.Out(1)
	if idx == "" {
		// Ask the forward node for its indices.
		idx = c.g.b.Name(c.base + "/indices")
		n := c.Node
		for len(n.Output) < 2 {
			n.Output = append(n.Output, "")
		}
		n.Output[1] = idx
	}
	if c.Opset >= 16 {
		// scatter-add into the flattened input (the indices count over the
		// whole tensor)
		flat := c.Int64s("flat", -1)
		zeros := c.ZerosLike(x)
		sc := c.Op("ScatterElements", "scattered", []string{
			c.Op("Reshape", "zeros_flat", []string{zeros, flat}),
			c.Op("Reshape", "idx_flat", []string{idx, flat}),
			c.Op("Reshape", "g_flat", []string{c.GradOut(0), flat}),
		}, graphedit.AttrInt("axis", 0), graphedit.AttrString("reduction", "add"))
		c.SetGrad(0, c.ReshapeLike("d_x", sc, x))
		return nil
	}
	if c.Opset >= 11 {
		return maxPoolGradDisjoint(c, x, idx)
	}
	// Opset 9/10 only: ScatterElements does not exist, so the scatter is a
	// product with one_hot (memory: output plane x input plane per (n, c)).
	// Indices count over the whole tensor; modulo the plane size they index
	// one (n, c) plane.
	spatial := c.Op("Slice", "spatial", []string{c.ShapeOf(x), c.Int64s("two", 2), c.Int64s("end", 1<<62), c.Int64s("axis0", 0)})
	plane := c.g.b.ReduceSumLike(c.base+"/plane", "ReduceProd", spatial)
	local := c.Op("Mod", "plane_index", []string{c.Op("Reshape", "idx_flat", []string{idx, c.Int64s("nc_flat", 0, 0, -1)}), plane})
	oh := c.oneHot("one_hot", local, plane, x, graphedit.AttrInt("axis", -1))
	gRow := c.Unsqueeze("g_row", c.Op("Reshape", "g_flat", []string{c.GradOut(0), c.Int64s("nc_flat", 0, 0, -1)}), []int64{2})
	c.SetGrad(0, c.ReshapeLike("d_x", c.Op("MatMul", "scattered", []string{gRow, oh}), x))
	return nil
}

// maxPoolGradDisjoint scatters MaxPool's output gradient to its argmax
// positions where ScatterElements exists but cannot add (opsets 11-15).
// Two windows along an axis overlap only when their output positions are
// closer than m = ceil(((k-1)·d+1)/s), so the output positions whose
// coordinates are congruent modulo m on every spatial axis have disjoint
// windows and hence distinct argmax indices. Each of these ∏m classes
// (4 for ResNet's 3×3 stride-2 pool) is a strided Slice scattered without
// reduction into zeros; the classes are summed. Memory is a few copies of
// the input tensor, whatever the pads, ceil_mode, auto_pad or dilations,
// instead of the output-plane × input-plane one-hot matrix.
func maxPoolGradDisjoint(c *Ctx, x, idx string) error {
	kernel, ok := c.AttrInts("kernel_shape")
	if !ok {
		return fmt.Errorf("MaxPool without kernel_shape")
	}
	sp := len(kernel)
	strides, dil := make([]int64, sp), make([]int64, sp)
	for i := range kernel {
		strides[i], dil[i] = 1, 1
	}
	if v, ok := c.AttrInts("strides"); ok && len(v) == sp {
		copy(strides, v)
	}
	if v, ok := c.AttrInts("dilations"); ok && len(v) == sp {
		copy(dil, v)
	}
	period := make([]int64, sp)
	classes := int64(1)
	for i := range kernel {
		if kernel[i] < 1 || strides[i] < 1 || dil[i] < 1 {
			return fmt.Errorf("MaxPool with kernel_shape %v, strides %v, dilations %v: each must be positive", kernel, strides, dil)
		}
		extent := (kernel[i]-1)*dil[i] + 1
		period[i] = (extent + strides[i] - 1) / strides[i]
		classes *= period[i]
	}
	flat := c.Int64s("flat", -1)
	zerosFlat := c.Op("Reshape", "zeros_flat", []string{c.ZerosLike(x), flat})
	g := c.GradOut(0)
	axes := make([]int64, sp)
	steps := make([]int64, sp)
	ends := make([]int64, sp)
	for i := range axes {
		axes[i], steps[i], ends[i] = int64(2+i), period[i], 1<<62
	}
	axesV, stepsV, endsV := c.Int64s("axes", axes...), c.Int64s("steps", steps...), c.Int64s("ends", ends...)
	var sum string
	for k := int64(0); k < classes; k++ {
		starts := make([]int64, sp)
		rem := k
		for i := sp - 1; i >= 0; i-- {
			starts[i] = rem % period[i]
			rem /= period[i]
		}
		st := c.Int64s("starts", starts...)
		gi := c.Op("Slice", "g_class", []string{g, st, endsV, axesV, stepsV})
		ii := c.Op("Slice", "idx_class", []string{idx, st, endsV, axesV, stepsV})
		sc := c.Op("ScatterElements", "scattered", []string{
			zerosFlat,
			c.Op("Reshape", "idx_flat", []string{ii, flat}),
			c.Op("Reshape", "g_flat", []string{gi, flat}),
		}, graphedit.AttrInt("axis", 0))
		if sum == "" {
			sum = sc
		} else {
			sum = c.Add("class_sum", sum, sc)
		}
	}
	c.SetGrad(0, c.ReshapeLike("d_x", sum, x))
	return nil
}

// separableGrad computes the input gradient of a linear op that acts on
// each spatial axis (2, 3, …) independently: for axis i, apply(i, e) must
// run the forward op on e, an identity matrix laid out as [D, 1, …, D at
// 2+i, …, 1]; the result, as [D, Dout], is the transpose of the axis's
// matrix.
func (c *Ctx) separableGrad(spatial int, apply func(i int, e string) string) error {
	x := c.In(0)
	r := spatial + 2
	g := c.GradOut(0)
	for i := spatial - 1; i >= 0; i-- {
		a := int64(2 + i)
		dim := c.Op("Gather", "dim", []string{c.ShapeOf(x), c.Int64s("axis", a)}, graphedit.AttrInt("axis", 0))
		rng := c.Op("Range", "positions", []string{
			c.g.b.Int64(c.base+"/zero", []int64{}, []int64{0}),
			c.Squeeze("dim_scalar", dim, []int64{0}),
			c.g.b.Int64(c.base+"/one", []int64{}, []int64{1}),
		})
		eye := c.oneHot("identity", rng, dim, x, graphedit.AttrInt("axis", -1))
		var unsq []int64
		for j := 1; j < r; j++ {
			if int64(j) != a {
				unsq = append(unsq, int64(j))
			}
		}
		e := c.Unsqueeze("identity_nd", eye, unsq)
		mt := c.Op("Reshape", "axis_matrix_t", []string{apply(i, e), c.Int64s("rows", 0, -1)})
		m := c.Op("Transpose", "axis_matrix", []string{mt}, graphedit.AttrInts("perm", []int64{1, 0}))
		g = c.alongAxis(g, m, a, r)
	}
	c.SetGrad(0, g)
	return nil
}

// alongAxis applies the matrix m along axis a of the rank-r value g:
// g[..., o, ...] -> Σ_o g[..., o, ...]·m[o, j], as (g with a moved last) @ m,
// moved back.
func (c *Ctx) alongAxis(g, m string, a int64, r int) string {
	perm := make([]int64, 0, r)
	for j := 0; j < r; j++ {
		if int64(j) != a {
			perm = append(perm, int64(j))
		}
	}
	perm = append(perm, a)
	inv := make([]int64, r)
	for j, p := range perm {
		inv[p] = int64(j)
	}
	moved := c.Op("Transpose", "axis_last", []string{g}, graphedit.AttrInts("perm", perm))
	prod := c.Op("MatMul", "axis_grad", []string{moved, m})
	return c.Op("Transpose", "axis_back", []string{prod}, graphedit.AttrInts("perm", inv))
}
