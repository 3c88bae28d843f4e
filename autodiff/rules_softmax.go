package autodiff

// Softmax and LogSoftmax. Before opset 13 both work on the input coerced to
// 2-D around axis, so the reduction runs over every axis from axis on.

func init() {
	Register(
		&Rule{Op: "Softmax", Inputs: []int{0}, Infer: inferSame, Grad: func(c *Ctx) error {
			// self: result * (grad - sum(grad * result, dim, keepdim))
			axes, err := c.softmaxAxes()
			if err != nil {
				return err
			}
			g, y := c.GradOut(0), c.Out(0)
			s := c.ReduceSum("gy_sum", c.Mul("gy", g, y), axes, true)
			c.SetGrad(0, c.Mul("d_x", y, c.Sub("g_centered", g, s)))
			return nil
		}},
		&Rule{Op: "LogSoftmax", Inputs: []int{0}, Infer: inferSame, Grad: func(c *Ctx) error {
			// self: grad - exp(result) * sum(grad, dim, keepdim)
			axes, err := c.softmaxAxes()
			if err != nil {
				return err
			}
			g, y := c.GradOut(0), c.Out(0)
			s := c.ReduceSum("g_sum", g, axes, true)
			c.SetGrad(0, c.Sub("d_x", g, c.Mul("p_sum", c.Op("Exp", "p", []string{y}), s)))
			return nil
		}},
	)
}

func (c *Ctx) softmaxAxes() ([]int64, error) {
	r, err := c.Rank(c.In(0))
	if err != nil {
		return nil, err
	}
	def := int64(-1)
	if c.Opset < 13 {
		def = 1
	}
	axis := c.AttrInt("axis", def)
	if axis < 0 {
		axis += int64(r)
	}
	if c.Opset >= 13 {
		return []int64{axis}, nil
	}
	var axes []int64
	for i := axis; i < int64(r); i++ {
		axes = append(axes, i)
	}
	return axes, nil
}
