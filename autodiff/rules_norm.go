package autodiff

import (
	"fmt"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// Normalization and Dropout.

func init() {
	Register(
		&Rule{Op: "BatchNormalization", Inputs: []int{0, 1, 2}, Infer: func(c *InferCtx) []Shape {
			out := make([]Shape, len(c.Node.GetOutput()))
			out[0] = c.In(0)
			for i := 1; i < len(out); i++ {
				out[i] = c.In(3)
			}
			return out
		}, Grad: gradBatchNorm},
		&Rule{Op: "LayerNormalization", Inputs: []int{0, 1, 2}, Infer: func(c *InferCtx) []Shape {
			x := c.In(0)
			out := make([]Shape, len(c.Node.GetOutput()))
			out[0] = x
			for i := 1; i < len(out); i++ {
				if !x.Known {
					out[i] = unknownShape(onnxpb.TensorProto_FLOAT)
					continue
				}
				axis := c.AttrInt("axis", -1)
				if axis < 0 {
					axis += int64(len(x.Dims))
				}
				if axis < 0 || axis > int64(len(x.Dims)) {
					out[i] = unknownShape(x.Elem)
					continue
				}
				s := dimsShape(x.Elem, x.Dims...)
				for k := axis; k < int64(len(s.Dims)); k++ {
					s.Dims[k] = 1
				}
				out[i] = s
			}
			return out
		}, Grad: gradLayerNorm},
		&Rule{Op: "Dropout", Inputs: []int{0}, Infer: func(c *InferCtx) []Shape {
			out := []Shape{c.In(0)}
			if len(c.Node.GetOutput()) > 1 {
				out = append(out, c.In(0).withElem(onnxpb.TensorProto_BOOL))
			}
			return out
		}, Grad: gradDropout},
	)
}

// bnTraining reports whether a BatchNormalization node normalizes with the
// batch's statistics, as the evaluator and ONNX Runtime decide it.
func bnTraining(c *Ctx) bool {
	if c.Opset >= 14 {
		return c.AttrInt("training_mode", 0) != 0
	}
	n := 0
	for _, o := range c.Node.GetOutput() {
		if o != "" {
			n++
		}
	}
	return len(c.Node.GetOutput()) > 1 && n > 1
}

// channelShaped reshapes a [C] vector to broadcast against x of rank r
// along axis 1.
func (c *Ctx) channelShaped(what, v string, r int) string {
	if r <= 2 {
		return v
	}
	axes := make([]int64, 0, r-2)
	for i := 1; i < r-1; i++ {
		axes = append(axes, int64(i))
	}
	return c.Unsqueeze(what, v, axes)
}

func gradBatchNorm(c *Ctx) error {
	x, scale, g := c.In(0), c.In(1), c.GradOut(0)
	r, err := c.Rank(x)
	if err != nil {
		return err
	}
	eps := float64(c.AttrFloat("epsilon", 1e-5))
	axes := []int64{0}
	for i := 2; i < r; i++ {
		axes = append(axes, int64(i))
	}
	var mean, invStd string // broadcastable against x
	if bnTraining(c) {
		mean = c.ReduceMean("batch_mean", x, axes, true)
		cen := c.Sub("centered", x, mean)
		v := c.ReduceMean("batch_var", c.Mul("sq", cen, cen), axes, true)
		invStd = c.Op("Reciprocal", "inv_std", []string{c.Op("Sqrt", "std", []string{c.Add("var_eps", v, c.Scalar("eps", eps, x))})})
	} else {
		mean = c.channelShaped("mean_b", c.In(3), r)
		invStd = c.channelShaped("inv_std_b", c.Op("Reciprocal", "inv_std", []string{c.Op("Sqrt", "std", []string{c.Add("var_eps", c.In(4), c.Scalar("eps", eps, x))})}), r)
	}
	xhat := c.Mul("xhat", c.Sub("centered_x", x, mean), invStd)
	if c.Need(2) {
		c.SetGrad(2, c.ReduceSum("d_bias", g, axes, false))
	}
	if c.Need(1) {
		c.SetGrad(1, c.ReduceSum("d_scale", c.Mul("g_xhat", g, xhat), axes, false))
	}
	if c.Need(0) {
		a := c.Mul("a", c.channelShaped("scale_b", scale, r), invStd)
		if !bnTraining(c) {
			// inference: the affine map x * a + b'
			c.SetGrad(0, c.Mul("d_x", g, a))
			return nil
		}
		// training: a * (g - mean(g) - xhat * mean(g * xhat))
		mg := c.ReduceMean("mean_g", g, axes, true)
		mgx := c.ReduceMean("mean_g_xhat", c.Mul("g_xhat_b", g, xhat), axes, true)
		c.SetGrad(0, c.Mul("d_x", a, c.Sub("d_x_c", c.Sub("g_c", g, mg), c.Mul("xhat_mgx", xhat, mgx))))
	}
	return nil
}

func gradLayerNorm(c *Ctx) error {
	x, g := c.In(0), c.GradOut(0)
	r, err := c.Rank(x)
	if err != nil {
		return err
	}
	axis := c.AttrInt("axis", -1)
	if axis < 0 {
		axis += int64(r)
	}
	eps := float64(c.AttrFloat("epsilon", 1e-5))
	var axes, lead []int64
	for i := int64(0); i < int64(r); i++ {
		if i >= axis {
			axes = append(axes, i)
		} else {
			lead = append(lead, i)
		}
	}
	mean := c.ReduceMean("mean", x, axes, true)
	cen := c.Sub("centered", x, mean)
	v := c.ReduceMean("var", c.Mul("sq", cen, cen), axes, true)
	invStd := c.Op("Reciprocal", "inv_std", []string{c.Op("Sqrt", "std", []string{c.Add("var_eps", v, c.Scalar("eps", eps, x))})})
	xhat := c.Mul("xhat", cen, invStd)
	y := c.Out(0)
	if c.Need(2) {
		d, err := c.Unbroadcast("d_bias", g, c.In(2), y)
		if err != nil {
			return err
		}
		c.SetGrad(2, d)
	}
	if c.Need(1) {
		d, err := c.Unbroadcast("d_scale", c.Mul("g_xhat", g, xhat), c.In(1), y)
		if err != nil {
			return err
		}
		c.SetGrad(1, d)
	}
	if c.Need(0) {
		gs := c.Mul("g_scale", g, c.In(1))
		m1 := c.ReduceMean("mean_gs", gs, axes, true)
		m2 := c.ReduceMean("mean_gs_xhat", c.Mul("gs_xhat", gs, xhat), axes, true)
		c.SetGrad(0, c.Mul("d_x", invStd, c.Sub("d_x_c", c.Sub("gs_c", gs, m1), c.Mul("xhat_m2", xhat, m2))))
	}
	_ = lead
	return nil
}

// dropoutTraining reports whether a Dropout node drops (opset 12+ with a
// training_mode input that is not constant false); ratio returns its rate.
func dropoutTraining(c *Ctx) (bool, error) {
	if c.Opset < 12 || c.In(2) == "" {
		return false, nil
	}
	v, ok := c.g.constBool(c.In(2))
	if !ok {
		return false, fmt.Errorf("Dropout's training_mode %q must be a constant", c.In(2))
	}
	return v, nil
}

func gradDropout(c *Ctx) error {
	training, err := dropoutTraining(c)
	if err != nil {
		return err
	}
	x, g := c.In(0), c.GradOut(0)
	if !training {
		c.SetGrad(0, g)
		return nil
	}
	// self: grad * mask / (1 - ratio), through the node's own mask
	mask := c.Out(1)
	if mask == "" {
		mask = c.g.b.Name(c.base + "/mask")
		n := c.Node
		for len(n.Output) < 2 {
			n.Output = append(n.Output, "")
		}
		n.Output[1] = mask
	}
	ratio := c.In(1)
	if ratio == "" {
		ratio = c.Scalar("ratio", 0.5, x)
	} else if c.Elem(ratio) != c.Elem(x) {
		ratio = c.CastLike("ratio_cast", ratio, x)
	}
	keep := c.Sub("keep", c.Scalar("one", 1, x), ratio)
	masked := c.Mul("masked", g, c.CastLike("mask_f", mask, x))
	d := c.Div("d_x", masked, keep)
	// ratio 1 drops everything (and 0/0 would be NaN).
	c.SetGrad(0, c.Op("Where", "d_x_safe", []string{c.Op("Equal", "all_dropped", []string{keep, c.Scalar("zero", 0, x)}), c.Scalar("zero", 0, x), d}))
	_ = graphedit.AttrInt
	return nil
}
