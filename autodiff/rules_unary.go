package autodiff

import (
	"math"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// Elementwise functions of one input: self: grad * f'(self), with f'
// written from the input x and the result y.

// unary registers an op whose only differentiable input is 0 and whose
// output has its shape; d returns grad * f'.
func unary(op string, d func(c *Ctx, g, x, y string) string) *Rule {
	return &Rule{Op: op, Inputs: []int{0}, Infer: inferSame, Grad: func(c *Ctx) error {
		c.SetGrad(0, d(c, c.GradOut(0), c.In(0), c.Out(0)))
		return nil
	}}
}

// where0 is where(cond, a, 0) in x's type.
func (c *Ctx) where0(what, cond, a, like string) string {
	return c.Op("Where", what, []string{cond, a, c.Scalar("zero", 0, like)})
}

func (c *Ctx) positive(x string) string {
	return c.Op("Greater", "positive", []string{x, c.Scalar("zero", 0, x)})
}

func init() {
	Register(
		unary("Identity", func(c *Ctx, g, x, y string) string { return g }),
		unary("Neg", func(c *Ctx, g, x, y string) string { return c.Neg("d_x", g) }),
		unary("Abs", func(c *Ctx, g, x, y string) string {
			// grad * sgn(self), 0 at 0
			return c.Mul("d_x", g, c.Op("Sign", "sign", []string{x}))
		}),
		unary("Exp", func(c *Ctx, g, x, y string) string { return c.Mul("d_x", g, y) }),
		unary("Log", func(c *Ctx, g, x, y string) string { return c.Div("d_x", g, x) }),
		unary("Sqrt", func(c *Ctx, g, x, y string) string {
			// grad / (2 * result)
			return c.Div("d_x", g, c.Mul("two_y", y, c.Scalar("two", 2, y)))
		}),
		unary("Reciprocal", func(c *Ctx, g, x, y string) string {
			// -grad * result^2
			return c.Neg("d_x", c.Mul("g_y2", g, c.Mul("y2", y, y)))
		}),
		unary("Relu", func(c *Ctx, g, x, y string) string {
			// threshold_backward(grad, result, 0)
			return c.where0("d_x", c.positive(y), g, x)
		}),
		unary("Sigmoid", func(c *Ctx, g, x, y string) string {
			// grad * result * (1 - result)
			return c.Mul("d_x", g, c.Mul("dsig", y, c.Sub("one_minus_y", c.Scalar("one", 1, y), y)))
		}),
		unary("Tanh", func(c *Ctx, g, x, y string) string {
			// grad * (1 - result^2)
			return c.Mul("d_x", g, c.Sub("dtanh", c.Scalar("one", 1, y), c.Mul("y2", y, y)))
		}),
		unary("Softplus", func(c *Ctx, g, x, y string) string {
			// grad * sigmoid(self)
			return c.Mul("d_x", g, c.Op("Sigmoid", "sig", []string{x}))
		}),
		unary("Erf", func(c *Ctx, g, x, y string) string {
			// grad * 2/sqrt(pi) * exp(-self^2)
			e := c.Op("Exp", "exp_neg_x2", []string{c.Neg("neg_x2", c.Mul("x2", x, x))})
			return c.Mul("d_x", g, c.Mul("derf", e, c.Scalar("two_over_sqrt_pi", 2/math.Sqrt(math.Pi), x)))
		}),
		unary("LeakyRelu", func(c *Ctx, g, x, y string) string {
			// self > 0 ? grad : grad * negative_slope
			alpha := float64(c.AttrFloat("alpha", 0.01))
			return c.Op("Where", "d_x", []string{c.positive(x), g, c.Mul("g_alpha", g, c.Scalar("alpha", alpha, x))})
		}),
		unary("Elu", func(c *Ctx, g, x, y string) string {
			// self > 0 ? grad : grad * (result + alpha)
			alpha := float64(c.AttrFloat("alpha", 1))
			return c.Op("Where", "d_x", []string{c.positive(x), g, c.Mul("g_neg", g, c.Add("y_plus_alpha", y, c.Scalar("alpha", alpha, x)))})
		}),
		unary("Selu", func(c *Ctx, g, x, y string) string {
			// self > 0 ? grad * gamma : grad * (result + gamma * alpha)
			alpha := float64(c.AttrFloat("alpha", 1.67326319217681884765625))
			gamma := float64(c.AttrFloat("gamma", 1.05070102214813232421875))
			pos := c.Mul("g_gamma", g, c.Scalar("gamma", gamma, x))
			neg := c.Mul("g_neg", g, c.Add("y_plus_ga", y, c.Scalar("gamma_alpha", gamma*alpha, x)))
			return c.Op("Where", "d_x", []string{c.positive(x), pos, neg})
		}),
		unary("HardSigmoid", func(c *Ctx, g, x, y string) string {
			// grad * alpha where 0 < alpha*x + beta < 1
			alpha := float64(c.AttrFloat("alpha", 0.2))
			beta := float64(c.AttrFloat("beta", 0.5))
			lin := c.Add("lin", c.Mul("ax", x, c.Scalar("alpha", alpha, x)), c.Scalar("beta", beta, x))
			in := c.Op("And", "inside", []string{
				c.Op("Greater", "above", []string{lin, c.Scalar("zero", 0, x)}),
				c.Op("Less", "below", []string{lin, c.Scalar("one", 1, x)}),
			})
			return c.where0("d_x", in, c.Mul("g_alpha", g, c.Scalar("alpha", alpha, x)), x)
		}),
		unary("HardSwish", func(c *Ctx, g, x, y string) string {
			// self < -3 ? 0 : self <= 3 ? grad * (self/3 + 0.5) : grad
			mid := c.Mul("g_mid", g, c.Add("slope", c.Div("x_3", x, c.Scalar("three", 3, x)), c.Scalar("half", 0.5, x)))
			upper := c.Op("Where", "d_x_upper", []string{c.Op("LessOrEqual", "le3", []string{x, c.Scalar("three", 3, x)}), mid, g})
			return c.where0("d_x", c.Op("GreaterOrEqual", "ge_m3", []string{x, c.Scalar("minus_three", -3, x)}), upper, x)
		}),
		unary("Gelu", gradGelu),
		unary("Sin", func(c *Ctx, g, x, y string) string { return c.Mul("d_x", g, c.Op("Cos", "cos", []string{x})) }),
		unary("Cos", func(c *Ctx, g, x, y string) string {
			return c.Neg("d_x", c.Mul("g_sin", g, c.Op("Sin", "sin", []string{x})))
		}),
		&Rule{Op: "PRelu", Inputs: []int{0, 1}, Infer: inferSame, Grad: func(c *Ctx) error {
			// self: self > 0 ? grad : weight * grad; weight: self > 0 ? 0 : self * grad
			g, x, w := c.GradOut(0), c.In(0), c.In(1)
			pos := c.positive(x)
			if c.Need(0) {
				c.SetGrad(0, c.Op("Where", "d_x", []string{pos, g, c.Mul("g_w", g, w)}))
			}
			if c.Need(1) {
				d, err := c.Unbroadcast("d_slope", c.Op("Where", "d_slope_full", []string{pos, c.Scalar("zero", 0, x), c.Mul("g_x", g, x)}), w, c.Out(0))
				if err != nil {
					return err
				}
				c.SetGrad(1, d)
			}
			return nil
		}},
		&Rule{Op: "Cast", Inputs: []int{0}, Differentiable: func(n *onnxpb.NodeProto) []int {
			if isFloatCast(n) {
				return []int{0}
			}
			return nil
		}, Infer: func(c *InferCtx) []Shape {
			return []Shape{c.In(0).withElem(onnxpb.TensorProto_DataType(c.AttrInt("to", 0)))}
		}, Grad: func(c *Ctx) error {
			// grad cast back to the input's type
			x := c.In(0)
			if e := c.Elem(x); !graphedit.IsFloat(e) {
				return nil
			}
			c.SetGrad(0, c.CastLike("d_x", c.GradOut(0), x))
			return nil
		}},
	)
}

// gradGelu differentiates Gelu (opset 20) in both approximations.
func gradGelu(c *Ctx, g, x, y string) string {
	if c.AttrString("approximate", "none") == "tanh" {
		// u = k(x + 0.044715 x^3), y = x/2 (1 + tanh u)
		// dy/dx = (1 + t)/2 + x/2 (1 - t^2) k (1 + 3*0.044715 x^2)
		k := math.Sqrt(2 / math.Pi)
		x2 := c.Mul("x2", x, x)
		u := c.Mul("u", c.Scalar("k", k, x), c.Add("inner", x, c.Mul("cx3", c.Scalar("c", 0.044715, x), c.Mul("x3", x2, x))))
		t := c.Op("Tanh", "t", []string{u})
		one := c.Scalar("one", 1, x)
		half := c.Scalar("half", 0.5, x)
		a := c.Mul("a", half, c.Add("one_plus_t", one, t))
		du := c.Mul("du", c.Scalar("k", k, x), c.Add("du_in", one, c.Mul("c3x2", c.Scalar("c3", 3*0.044715, x), x2)))
		b := c.Mul("b", c.Mul("half_x", half, x), c.Mul("sech2_du", c.Sub("sech2", one, c.Mul("t2", t, t)), du))
		return c.Mul("d_x", g, c.Add("dgelu", a, b))
	}
	// Phi(x) + x phi(x)
	cdf := c.Mul("cdf", c.Scalar("half", 0.5, x), c.Add("one_plus_erf", c.Scalar("one", 1, x),
		c.Op("Erf", "erf", []string{c.Mul("x_over_sqrt2", x, c.Scalar("inv_sqrt2", 1/math.Sqrt2, x))})))
	pdf := c.Mul("pdf", c.Scalar("inv_sqrt_2pi", 1/math.Sqrt(2*math.Pi), x),
		c.Op("Exp", "exp_half_x2", []string{c.Mul("neg_half_x2", c.Mul("x2", x, x), c.Scalar("minus_half", -0.5, x))}))
	return c.Mul("d_x", g, c.Add("dgelu", cdf, c.Mul("x_pdf", x, pdf)))
}
