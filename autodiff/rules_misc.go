package autodiff

import (
	"fmt"

	"github.com/onnxloss/onnxloss/graphedit"
)

// CumSum, Pad and Resize.

func init() {
	Register(
		&Rule{Op: "CumSum", Inputs: []int{0}, Infer: inferSame, Grad: func(c *Ctx) error {
			// self: cumsum of grad in the other direction
			c.SetGrad(0, c.Op("CumSum", "d_x", []string{c.GradOut(0), c.In(1)},
				graphedit.AttrInt("exclusive", c.AttrInt("exclusive", 0)),
				graphedit.AttrInt("reverse", 1-c.AttrInt("reverse", 0))))
			return nil
		}},
		&Rule{Op: "Pad", Inputs: []int{0}, Infer: func(c *InferCtx) []Shape {
			x := c.In(0)
			if !x.Known {
				return []Shape{unknownShape(x.Elem)}
			}
			return []Shape{rankShape(x.Elem, len(x.Dims))}
		}, Grad: gradPad},
		&Rule{Op: "Resize", Inputs: []int{0}, Infer: func(c *InferCtx) []Shape {
			x := c.In(0)
			if !x.Known {
				return []Shape{unknownShape(x.Elem)}
			}
			return []Shape{rankShape(x.Elem, len(x.Dims))}
		}, Grad: gradResize},
	)
}

// gradPad: constant padding; self: grad sliced back to the input's place.
func gradPad(c *Ctx) error {
	if m := c.AttrString("mode", "constant"); m != "constant" {
		return fmt.Errorf("Pad mode %q has no gradient rule (only constant)", m)
	}
	x, g := c.In(0), c.GradOut(0)
	r, err := c.Rank(x)
	if err != nil {
		return err
	}
	pads := c.In(1)
	if v, ok := c.Ints(pads); ok {
		for _, p := range v {
			if p < 0 {
				return fmt.Errorf("Pad with negative pads (cropping) is not supported")
			}
		}
	}
	var axes string
	n := int64(r)
	if a := c.In(3); a != "" {
		v, ok := c.Ints(a)
		if !ok {
			return fmt.Errorf("the axes of Pad must be constant")
		}
		n = int64(len(v))
		axes = c.Int64s("axes", normAxes(v, r)...)
	} else {
		all := make([]int64, r)
		for i := range all {
			all[i] = int64(i)
		}
		axes = c.Int64s("axes", all...)
	}
	begin := c.Op("Slice", "pads_begin", []string{pads, c.Int64s("zero", 0), c.Int64s("n", n), c.Int64s("axis0", 0)})
	var dims string
	if c.In(3) != "" {
		dims = c.Op("Gather", "dims", []string{c.ShapeOf(x), axes}, graphedit.AttrInt("axis", 0))
	} else {
		dims = c.ShapeOf(x)
	}
	end := c.Add("ends", begin, dims)
	c.SetGrad(0, c.Op("Slice", "d_x", []string{g, begin, end, axes}))
	return nil
}

// gradResize applies, per resized axis, the transpose of the axis's
// interpolation matrix, found by resizing an identity matrix with the same
// node settings (separability holds for nearest, linear and cubic).
func gradResize(c *Ctx) error {
	if m := c.AttrString("coordinate_transformation_mode", "half_pixel"); m == "tf_crop_and_resize" {
		return fmt.Errorf("Resize with tf_crop_and_resize has no gradient rule")
	}
	if hasAttr(c.Node, "axes") {
		return fmt.Errorf("Resize with axes has no gradient rule")
	}
	if p := c.AttrString("keep_aspect_ratio_policy", "stretch"); p != "stretch" {
		return fmt.Errorf("Resize with keep_aspect_ratio_policy %q has no gradient rule", p)
	}
	x := c.In(0)
	r, err := c.Rank(x)
	if err != nil {
		return err
	}
	scales, sizes := c.In(2), c.In(3)
	var resized []int64
	if v, ok := c.Ints(sizes); sizes != "" && ok {
		if len(v) != r {
			return fmt.Errorf("Resize sizes %v do not fit rank %d", v, r)
		}
		xs := c.Shape(x)
		for i, s := range v {
			if !xs.Known || xs.Dims[i] != s {
				resized = append(resized, int64(i))
			}
		}
	} else if sizes == "" {
		sv, ok := c.g.constFloats(scales)
		if !ok || len(sv) != r {
			return fmt.Errorf("Resize needs constant scales (one per axis) or sizes")
		}
		for i, s := range sv {
			if s != 1 {
				resized = append(resized, int64(i))
			}
		}
	} else {
		for i := 2; i < r; i++ {
			resized = append(resized, int64(i))
		}
	}
	g := c.GradOut(0)
	var attrs = c.Node.GetAttribute()
	for _, a := range resized {
		// The identity's rows sit on axis 0 (the batch), which is not resized.
		const b = int64(0)
		if a == b {
			return fmt.Errorf("Resize along axis 0 has no gradient rule")
		}
		dim := c.Op("Gather", "dim", []string{c.ShapeOf(x), c.Int64s("axis", a)}, graphedit.AttrInt("axis", 0))
		rng := c.Op("Range", "positions", []string{
			c.g.b.Int64(c.base+"/zero", []int64{}, []int64{0}),
			c.Squeeze("dim_scalar", dim, []int64{0}),
			c.g.b.Int64(c.base+"/one", []int64{}, []int64{1}),
		})
		eye := c.oneHot("identity", rng, dim, x, graphedit.AttrInt("axis", -1))
		// eye as [D (axis 0), 1, ..., D (axis a), ..., 1]
		var unsq []int64
		for j := int64(1); j < int64(r); j++ {
			if j != a {
				unsq = append(unsq, j)
			}
		}
		e := c.Unsqueeze("identity_nd", eye, unsq)
		ins := []string{e, c.In(1), "", ""}
		if sizes == "" {
			one := make([]float64, r)
			for j := range one {
				one[j] = 1
			}
			sv, _ := c.g.constFloats(scales)
			one[a] = sv[a]
			ins[2] = c.Float("scales", []int64{int64(r)}, one, scales)
		} else {
			// sizes: D at b and a's output size at a, 1 elsewhere
			outDim := c.Op("Gather", "out_dim", []string{sizes, c.Int64s("axis_a", a)}, graphedit.AttrInt("axis", 0))
			parts := make([]string, r)
			for j := int64(0); j < int64(r); j++ {
				switch j {
				case a:
					parts[j] = outDim
				case b:
					parts[j] = dim
				default:
					parts[j] = c.Int64s("one_dim", 1)
				}
			}
			ins[2] = ""
			if c.Opset < 13 {
				ins[2] = c.Float("no_scales", []int64{0}, nil, x)
			}
			ins[3] = c.Op("Concat", "sizes", parts, graphedit.AttrInt("axis", 0))
		}
		if c.Opset < 13 && ins[1] == "" {
			ins[1] = c.Float("roi", []int64{0}, nil, x)
		}
		for len(ins) > 0 && ins[len(ins)-1] == "" {
			ins = ins[:len(ins)-1]
		}
		res := c.Op("Resize", "resized_identity", ins, attrs...)
		mt := c.Op("Reshape", "axis_matrix_t", []string{res, c.Int64s("rows", 0, -1)})
		m := c.Op("Transpose", "axis_matrix", []string{mt}, graphedit.AttrInts("perm", []int64{1, 0}))
		g = c.alongAxis(g, m, a, r)
	}
	c.SetGrad(0, g)
	return nil
}
