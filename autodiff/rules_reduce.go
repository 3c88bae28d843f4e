package autodiff

// Reductions: the output gradient is expanded back over the reduced axes
// (keepdims form first), then scaled or masked per op.

func init() {
	Register(
		&Rule{Op: "ReduceSum", Inputs: []int{0}, Infer: inferReduce, Grad: func(c *Ctx) error {
			// self: grad.expand(self.sizes())
			g, err := c.keptGrad()
			if err != nil || g == "" {
				return err
			}
			c.SetGrad(0, c.Op("Expand", "d_x", []string{g, c.ShapeOf(c.In(0))}))
			return nil
		}},
		&Rule{Op: "ReduceMean", Inputs: []int{0}, Infer: inferReduce, Grad: func(c *Ctx) error {
			// self: grad.expand(self.sizes()) / count
			g, err := c.keptGrad()
			if err != nil || g == "" {
				return err
			}
			x, y := c.In(0), c.Out(0)
			count := c.CastLike("count", c.Div("count_int", c.Op("Size", "x_size", []string{x}), c.Op("Size", "y_size", []string{y})), x)
			c.SetGrad(0, c.Div("d_x", c.Op("Expand", "d_sum", []string{g, c.ShapeOf(x)}), count))
			return nil
		}},
		&Rule{Op: "ReduceMax", Inputs: []int{0}, Infer: inferReduce, Grad: gradReduceExtreme},
		&Rule{Op: "ReduceMin", Inputs: []int{0}, Infer: inferReduce, Grad: gradReduceExtreme},
		&Rule{Op: "ReduceL2", Inputs: []int{0}, Infer: inferReduce, Grad: func(c *Ctx) error {
			// self: grad * self / result, 0 where result == 0 (torch norm_backward)
			g, err := c.keptGrad()
			if err != nil || g == "" {
				return err
			}
			y, err := c.kept(c.Out(0))
			if err != nil {
				return err
			}
			x := c.In(0)
			zero := c.Scalar("zero", 0, x)
			safe := c.Op("Where", "norm_safe", []string{c.Op("Equal", "norm_zero", []string{y, zero}), c.Scalar("one", 1, x), y})
			d := c.Mul("d_x", c.Div("g_over_norm", g, safe), x)
			c.SetGrad(0, c.Op("Where", "d_x_masked", []string{c.Op("Equal", "is_zero", []string{y, zero}), zero, d}))
			return nil
		}},
		&Rule{Op: "ReduceSumSquare", Inputs: []int{0}, Infer: inferReduce, Grad: func(c *Ctx) error {
			// self: 2 * grad * self
			g, err := c.keptGrad()
			if err != nil || g == "" {
				return err
			}
			x := c.In(0)
			c.SetGrad(0, c.Mul("d_x", c.Mul("two_g", g, c.Scalar("two", 2, x)), x))
			return nil
		}},
		&Rule{Op: "ReduceLogSumExp", Inputs: []int{0}, Infer: inferReduce, Grad: func(c *Ctx) error {
			// self: grad * exp(self - result)
			g, err := c.keptGrad()
			if err != nil || g == "" {
				return err
			}
			y, err := c.kept(c.Out(0))
			if err != nil {
				return err
			}
			x := c.In(0)
			c.SetGrad(0, c.Mul("d_x", g, c.Op("Exp", "softmax", []string{c.Sub("shifted", x, y)})))
			return nil
		}},
		&Rule{Op: "GlobalAveragePool", Inputs: []int{0}, Infer: inferGlobalPool, Grad: func(c *Ctx) error {
			x, y := c.In(0), c.Out(0)
			count := c.CastLike("count", c.Div("count_int", c.Op("Size", "x_size", []string{x}), c.Op("Size", "y_size", []string{y})), x)
			c.SetGrad(0, c.Div("d_x", c.Op("Expand", "d_sum", []string{c.GradOut(0), c.ShapeOf(x)}), count))
			return nil
		}},
		&Rule{Op: "GlobalMaxPool", Inputs: []int{0}, Infer: inferGlobalPool, Grad: func(c *Ctx) error {
			return c.extremeGrad(c.GradOut(0), c.Out(0))
		}},
	)
}

func inferGlobalPool(c *InferCtx) []Shape {
	x := c.In(0)
	if !x.Known {
		return []Shape{unknownShape(x.Elem)}
	}
	s := dimsShape(x.Elem, x.Dims...)
	for i := 2; i < len(s.Dims); i++ {
		s.Dims[i] = 1
	}
	return []Shape{s}
}

// reduceAxes returns the normalized axes of a reduction node (nil: all),
// and whether they are known statically.
func (c *Ctx) reduceAxes(rank int) (axes []int64, all bool, ok bool) {
	a, present, ok := axesOf(c.Node, c.g)
	if !ok {
		return nil, false, false
	}
	if !present || len(a) == 0 {
		if c.AttrInt("noop_with_empty_axes", 0) != 0 {
			return nil, false, true
		}
		all := make([]int64, rank)
		for i := range all {
			all[i] = int64(i)
		}
		return all, true, true
	}
	return normAxes(a, rank), false, true
}

// kept returns v (an output of the reduction) in keepdims form.
func (c *Ctx) kept(v string) (string, error) {
	if c.AttrInt("keepdims", 1) != 0 {
		return v, nil
	}
	r, err := c.Rank(c.In(0))
	if err != nil {
		return "", err
	}
	axes, _, ok := c.reduceAxes(r)
	if !ok {
		return "", errAxes
	}
	if len(axes) == 0 {
		return v, nil
	}
	return c.Unsqueeze("kept", v, axes), nil
}

// keptGrad returns the output gradient in keepdims form.
func (c *Ctx) keptGrad() (string, error) { return c.kept(c.GradOut(0)) }

// gradReduceExtreme: grad shared evenly among the elements equal to the
// result (torch amax/amin backward).
func gradReduceExtreme(c *Ctx) error {
	g, err := c.keptGrad()
	if err != nil || g == "" {
		return err
	}
	y, err := c.kept(c.Out(0))
	if err != nil {
		return err
	}
	r, err := c.Rank(c.In(0))
	if err != nil {
		return err
	}
	axes, _, _ := c.reduceAxes(r)
	if len(axes) == 0 { // noop_with_empty_axes: the identity
		c.SetGrad(0, g)
		return nil
	}
	return c.extremeGradAxes(g, y, axes)
}

// extremeGrad is gradReduceExtreme over every axis after the first two
// (global pooling), with g and y already in keepdims form.
func (c *Ctx) extremeGrad(g, y string) error {
	r, err := c.Rank(c.In(0))
	if err != nil {
		return err
	}
	var axes []int64
	for i := 2; i < r; i++ {
		axes = append(axes, int64(i))
	}
	return c.extremeGradAxes(g, y, axes)
}

func (c *Ctx) extremeGradAxes(g, y string, axes []int64) error {
	x := c.In(0)
	mask := c.CastLike("is_extreme", c.Op("Equal", "eq_extreme", []string{x, y}), x)
	count := c.g.b.ReduceSum(c.base+"/ties", mask, axes, true)
	c.SetGrad(0, c.Mul("d_x", mask, c.Div("share", g, count)))
	return nil
}

func inferReduce(c *InferCtx) []Shape {
	x := c.In(0)
	if !x.Known {
		return []Shape{unknownShape(x.Elem)}
	}
	a, present, ok := axesOf(c.Node, c.g)
	if !ok {
		return []Shape{unknownShape(x.Elem)}
	}
	keep := c.AttrInt("keepdims", 1) != 0
	if (!present || len(a) == 0) && c.AttrInt("noop_with_empty_axes", 0) != 0 {
		return []Shape{x}
	}
	all := !present || len(a) == 0
	axes := normAxes(a, len(x.Dims))
	var dims []int64
	for i, d := range x.Dims {
		if all || contains(axes, int64(i)) {
			if keep {
				dims = append(dims, 1)
			}
			continue
		}
		dims = append(dims, d)
	}
	return []Shape{dimsShape(x.Elem, dims...)}
}

var errAxes = errNonConstAxes
