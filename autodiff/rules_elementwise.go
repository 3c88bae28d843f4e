package autodiff

import (
	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// Elementwise arithmetic with numpy broadcasting: each input's gradient is
// reduced back over the axes it was broadcast along (Unbroadcast).

func init() {
	Register(
		&Rule{Op: "Add", Inputs: []int{0, 1}, Infer: inferBroadcast, Grad: func(c *Ctx) error {
			// self: grad; other: grad
			return c.setUnbroadcast(c.GradOut(0), c.GradOut(0))
		}},
		&Rule{Op: "Sub", Inputs: []int{0, 1}, Infer: inferBroadcast, Grad: func(c *Ctx) error {
			// self: grad; other: -grad
			g := c.GradOut(0)
			var nb string
			if c.Need(1) {
				nb = c.Neg("d_b", g)
			}
			return c.setUnbroadcast(g, nb)
		}},
		&Rule{Op: "Mul", Inputs: []int{0, 1}, Infer: inferBroadcast, Grad: func(c *Ctx) error {
			// self: grad * other; other: grad * self
			g := c.GradOut(0)
			var da, db string
			if c.Need(0) {
				da = c.Mul("d_a", g, c.In(1))
			}
			if c.Need(1) {
				db = c.Mul("d_b", g, c.In(0))
			}
			return c.setUnbroadcast(da, db)
		}},
		&Rule{Op: "Div", Inputs: []int{0, 1}, Infer: inferBroadcast, Grad: func(c *Ctx) error {
			// self: grad / other; other: -grad * result / other
			g := c.GradOut(0)
			var da, db string
			if c.Need(0) {
				da = c.Div("d_a", g, c.In(1))
			}
			if c.Need(1) {
				db = c.Neg("d_b", c.Div("d_b_q", c.Mul("d_b_gy", g, c.Out(0)), c.In(1)))
			}
			return c.setUnbroadcast(da, db)
		}},
		&Rule{Op: "Pow", Inputs: []int{0, 1}, Infer: func(c *InferCtx) []Shape {
			return []Shape{broadcastShapes(c.In(0).Elem, c.In(0), c.In(1))}
		}, Grad: gradPow},
		&Rule{Op: "Sum", Inputs: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, Infer: inferBroadcast, Grad: func(c *Ctx) error {
			for i := range c.Node.GetInput() {
				if err := c.setInputUnbroadcast(i, c.GradOut(0)); err != nil {
					return err
				}
			}
			return nil
		}},
		&Rule{Op: "Mean", Inputs: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, Infer: inferBroadcast, Grad: func(c *Ctx) error {
			g := c.Div("d_mean", c.GradOut(0), c.Scalar("count", float64(len(c.Node.GetInput())), c.Out(0)))
			for i := range c.Node.GetInput() {
				if err := c.setInputUnbroadcast(i, g); err != nil {
					return err
				}
			}
			return nil
		}},
		&Rule{Op: "Max", Inputs: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, Infer: inferBroadcast, Grad: gradMaxMin},
		&Rule{Op: "Min", Inputs: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, Infer: inferBroadcast, Grad: gradMaxMin},
		&Rule{Op: "Where", Inputs: []int{1, 2}, Infer: func(c *InferCtx) []Shape {
			return []Shape{broadcastShapes(c.In(1).Elem, c.In(0), c.In(1), c.In(2))}
		}, Grad: func(c *Ctx) error {
			// self: where(condition, grad, 0); other: where(condition, 0, grad)
			g := c.GradOut(0)
			zero := c.Scalar("zero", 0, c.Out(0))
			if c.Need(1) {
				d, err := c.Unbroadcast("d_x", c.Op("Where", "d_x_full", []string{c.In(0), g, zero}), c.In(1), c.Out(0))
				if err != nil {
					return err
				}
				c.SetGrad(1, d)
			}
			if c.Need(2) {
				d, err := c.Unbroadcast("d_y", c.Op("Where", "d_y_full", []string{c.In(0), zero, g}), c.In(2), c.Out(0))
				if err != nil {
					return err
				}
				c.SetGrad(2, d)
			}
			return nil
		}},
		&Rule{Op: "Clip", Inputs: []int{0}, Infer: inferSame, Grad: func(c *Ctx) error {
			// self: grad * (self >= min) * (self <= max), as torch.clamp
			x := c.In(0)
			keep := ""
			if lo := c.In(1); lo != "" {
				keep = c.Op("GreaterOrEqual", "above_min", []string{x, lo})
			}
			if hi := c.In(2); hi != "" {
				le := c.Op("LessOrEqual", "below_max", []string{x, hi})
				if keep == "" {
					keep = le
				} else {
					keep = c.Op("And", "inside", []string{keep, le})
				}
			}
			if keep == "" {
				c.SetGrad(0, c.GradOut(0))
				return nil
			}
			c.SetGrad(0, c.Op("Where", "d_x", []string{keep, c.GradOut(0), c.Scalar("zero", 0, x)}))
			return nil
		}},
	)
}

// setUnbroadcast sets the gradients of inputs 0 and 1 (either may be "").
func (c *Ctx) setUnbroadcast(da, db string) error {
	if err := c.setInputUnbroadcast(0, da); err != nil {
		return err
	}
	return c.setInputUnbroadcast(1, db)
}

// setInputUnbroadcast reduces d (shaped like output 0) to input i.
func (c *Ctx) setInputUnbroadcast(i int, d string) error {
	if !c.Need(i) || d == "" {
		return nil
	}
	r, err := c.Unbroadcast(nameOfInput("d_in", i), d, c.In(i), c.Out(0))
	if err != nil {
		return err
	}
	c.SetGrad(i, r)
	return nil
}

func nameOfInput(prefix string, i int) string {
	return prefix + string(rune('0'+i%10))
}

// gradPow: self: grad * exponent * self^(exponent-1);
// exponent: grad * result * log(self), 0 where self == 0 and exponent >= 0.
func gradPow(c *Ctx) error {
	g, a, b, y := c.GradOut(0), c.In(0), c.In(1), c.Out(0)
	var da, db string
	if c.Need(0) {
		bm1 := c.Sub("exp_minus_one", b, c.Scalar("one", 1, b))
		pw := c.Op("Pow", "base_pow", []string{a, bm1})
		// b's element type may differ from a's (Pow allows it); cast to a's.
		if c.Elem(b) != c.Elem(a) {
			pw = c.Op("Pow", "base_pow", []string{a, c.CastLike("exp_cast", bm1, a)})
			da = c.Mul("d_a", c.Mul("d_a_g", g, c.CastLike("exp_cast_b", b, a)), pw)
		} else {
			da = c.Mul("d_a", c.Mul("d_a_g", g, b), pw)
		}
	}
	if c.Need(1) {
		zero := c.Scalar("zero", 0, a)
		isZero := c.Op("Equal", "base_is_zero", []string{a, zero})
		logA := c.Op("Where", "log_base", []string{isZero, zero, c.Op("Log", "log_base_raw", []string{a})})
		db = c.Mul("d_b", c.Mul("d_b_gy", g, y), logA)
		if c.Elem(b) != c.Elem(a) {
			db = c.CastLike("d_b_cast", db, b)
		}
	}
	return c.setUnbroadcast(da, db)
}

// gradMaxMin: the gradient goes to the inputs equal to the result, shared
// evenly among ties (torch.maximum / torch.minimum for two inputs).
func gradMaxMin(c *Ctx) error {
	y := c.Out(0)
	ins := c.Node.GetInput()
	masks := make([]string, len(ins))
	for i, in := range ins {
		masks[i] = c.CastLike("is_result", c.Op("Equal", "eq_result", []string{in, y}), y)
	}
	count := masks[0]
	if len(ins) > 1 {
		count = c.Op("Sum", "ties", masks)
	}
	share := c.Div("share", c.GradOut(0), count)
	for i := range ins {
		if !c.Need(i) {
			continue
		}
		if err := c.setInputUnbroadcast(i, c.Mul("d_in", share, masks[i])); err != nil {
			return err
		}
	}
	return nil
}

// isFloatCast reports whether a Cast node converts to a float type.
func isFloatCast(n *onnxpb.NodeProto) bool {
	return graphedit.IsFloat(onnxpb.TensorProto_DataType(graphedit.AttrIntOr(n, "to", 0)))
}
