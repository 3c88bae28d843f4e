package autodiff

import (
	"fmt"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// Convolutions. Conv's input gradient is the transposed convolution of the
// output gradient; its weight gradient is a convolution of the input with
// the output gradient as kernel (strides and dilations swapped), as in
// torch's convolution_backward.

func init() {
	Register(
		&Rule{Op: "Conv", Inputs: []int{0, 1, 2}, Infer: inferConv, Grad: gradConv},
		&Rule{Op: "ConvTranspose", Inputs: []int{0, 1, 2}, Infer: func(c *InferCtx) []Shape {
			x := c.In(0)
			if !x.Known || len(x.Dims) < 2 {
				return []Shape{unknownShape(x.Elem)}
			}
			s := rankShape(x.Elem, len(x.Dims))
			s.Dims[0] = x.Dims[0]
			w := c.In(1)
			if w.Known && len(w.Dims) > 1 && w.Dims[1] >= 0 {
				s.Dims[1] = w.Dims[1] * c.AttrInt("group", 1)
			}
			if hasAttr(c.Node, "output_shape") || attrString(c.Node, "auto_pad", "NOTSET") != "NOTSET" || !w.Known || len(w.Dims) != len(x.Dims) {
				return []Shape{s}
			}
			sp := len(x.Dims) - 2
			get := func(name string, n int, def int64) []int64 {
				v, ok := c.AttrInts(name)
				if !ok || len(v) != n {
					v = make([]int64, n)
					for i := range v {
						v[i] = def
					}
				}
				return v
			}
			strides, dil, pads, op := get("strides", sp, 1), get("dilations", sp, 1), get("pads", 2*sp, 0), get("output_padding", sp, 0)
			for i := 0; i < sp; i++ {
				if in, k := x.Dims[2+i], w.Dims[2+i]; in >= 0 && k >= 0 {
					s.Dims[2+i] = strides[i]*(in-1) + op[i] + dil[i]*(k-1) + 1 - pads[i] - pads[sp+i]
				}
			}
			return []Shape{s}
		}, Grad: gradConvTranspose},
	)
}

func inferConv(c *InferCtx) []Shape {
	x := c.In(0)
	if !x.Known || len(x.Dims) < 2 {
		return []Shape{unknownShape(x.Elem)}
	}
	s := rankShape(x.Elem, len(x.Dims))
	s.Dims[0] = x.Dims[0]
	w := c.In(1)
	if w.Known && len(w.Dims) > 0 {
		s.Dims[1] = w.Dims[0]
	}
	kernel, ok := c.AttrInts("kernel_shape")
	if !ok && w.Known && len(w.Dims) == len(x.Dims) {
		kernel = w.Dims[2:]
	}
	spatialOut(c, x, kernel, false, s.Dims[2:])
	return []Shape{s}
}

// spatialOut fills out (the spatial dims of a Conv or pooling output) where
// the input's dims and the kernel are static.
func spatialOut(c *InferCtx, x Shape, kernel []int64, ceil bool, out []int64) {
	sp := len(x.Dims) - 2
	if len(kernel) != sp || len(out) != sp {
		return
	}
	get := func(name string, n int, def int64) []int64 {
		v, ok := c.AttrInts(name)
		if !ok || len(v) != n {
			v = make([]int64, n)
			for i := range v {
				v[i] = def
			}
		}
		return v
	}
	strides, dil, pads := get("strides", sp, 1), get("dilations", sp, 1), get("pads", 2*sp, 0)
	autoPad := attrString(c.Node, "auto_pad", "NOTSET")
	for i := 0; i < sp; i++ {
		in, k := x.Dims[2+i], kernel[i]
		if in < 0 || k < 0 || strides[i] <= 0 {
			continue
		}
		ek := dil[i]*(k-1) + 1
		switch autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			out[i] = (in + strides[i] - 1) / strides[i]
		case "VALID":
			if in >= ek {
				out[i] = (in-ek)/strides[i] + 1
			}
		default:
			span := in + pads[i] + pads[sp+i] - ek
			if span < 0 {
				continue
			}
			if ceil {
				o := (span+strides[i]-1)/strides[i] + 1
				// the last window must start inside the input or left pad
				if (o-1)*strides[i] >= in+pads[i] {
					o--
				}
				out[i] = o
			} else {
				out[i] = span/strides[i] + 1
			}
		}
	}
}

// convGeom is a Conv node's geometry with explicit pads.
type convGeom struct {
	kernel, strides, dilations, pads []int64 // pads: begins then ends
	group                            int64
}

// convGeometry reads a Conv/ConvTranspose/pool node's attributes; auto_pad
// SAME_* is turned into explicit pads from the input's static spatial dims.
func (c *Ctx) convGeometry(spatial int, kernel []int64) (convGeom, error) {
	g := convGeom{kernel: kernel, group: c.AttrInt("group", 1)}
	ones := func() []int64 {
		v := make([]int64, spatial)
		for i := range v {
			v[i] = 1
		}
		return v
	}
	var ok bool
	if g.strides, ok = c.AttrInts("strides"); !ok || len(g.strides) == 0 {
		g.strides = ones()
	}
	if g.dilations, ok = c.AttrInts("dilations"); !ok || len(g.dilations) == 0 {
		g.dilations = ones()
	}
	g.pads, ok = c.AttrInts("pads")
	if !ok || len(g.pads) == 0 {
		g.pads = make([]int64, 2*spatial)
	}
	if len(g.strides) != spatial || len(g.dilations) != spatial || len(g.pads) != 2*spatial {
		return g, fmt.Errorf("strides %v, dilations %v or pads %v do not fit %d spatial axes", g.strides, g.dilations, g.pads, spatial)
	}
	for i := 0; i < spatial; i++ {
		if g.strides[i] <= 0 || g.dilations[i] <= 0 {
			return g, fmt.Errorf("strides %v and dilations %v must be positive", g.strides, g.dilations)
		}
	}
	if g.group <= 0 {
		return g, fmt.Errorf("group %d must be positive", g.group)
	}
	switch ap := c.AttrString("auto_pad", "NOTSET"); ap {
	case "NOTSET", "":
	case "VALID":
		g.pads = make([]int64, 2*spatial)
	case "SAME_UPPER", "SAME_LOWER":
		xs := c.Shape(c.In(0))
		if !xs.Known || len(xs.Dims) != spatial+2 {
			return g, fmt.Errorf("auto_pad %s needs static spatial dims: %w", ap, errNoShape)
		}
		g.pads = make([]int64, 2*spatial)
		for i := 0; i < spatial; i++ {
			in := xs.Dims[2+i]
			if in < 0 {
				return g, fmt.Errorf("auto_pad %s needs static spatial dims: %w", ap, errNoShape)
			}
			out := (in + g.strides[i] - 1) / g.strides[i]
			total := max((out-1)*g.strides[i]+(g.kernel[i]-1)*g.dilations[i]+1-in, 0)
			small, big := total/2, total-total/2
			if ap == "SAME_UPPER" {
				g.pads[i], g.pads[spatial+i] = small, big
			} else {
				g.pads[i], g.pads[spatial+i] = big, small
			}
		}
	default:
		return g, fmt.Errorf("auto_pad %q is not supported", ap)
	}
	return g, nil
}

func (c *Ctx) weightKernel(w string) ([]int64, error) {
	if k, ok := c.AttrInts("kernel_shape"); ok && len(k) > 0 {
		return k, nil
	}
	ws := c.Shape(w)
	if !ws.Known || len(ws.Dims) < 3 {
		return nil, fmt.Errorf("the kernel shape of %q is not known statically: %w", w, errNoShape)
	}
	for _, d := range ws.Dims[2:] {
		if d < 0 {
			return nil, fmt.Errorf("the kernel shape of %q is not known statically: %w", w, errNoShape)
		}
	}
	return ws.Dims[2:], nil
}

func (c *Ctx) swapFirstTwo(what, v string, rank int) string {
	perm := make([]int64, rank)
	for i := range perm {
		perm[i] = int64(i)
	}
	perm[0], perm[1] = 1, 0
	return c.Op("Transpose", what, []string{v}, graphedit.AttrInts("perm", perm))
}

func gradConv(c *Ctx) error {
	x, w, g := c.In(0), c.In(1), c.GradOut(0)
	kernel, err := c.weightKernel(w)
	if err != nil {
		return err
	}
	sp := len(kernel)
	r := sp + 2
	geo, err := c.convGeometry(sp, kernel)
	if err != nil {
		return err
	}
	if c.Need(2) {
		c.SetGrad(2, c.biasGrad(g, r))
	}
	if c.Need(0) {
		d, err := c.convInputGrad(x, w, g, kernel, geo)
		if err != nil {
			return err
		}
		c.SetGrad(0, d)
	}
	if c.Need(1) {
		// weight: conv(input as [C/G, G*N, ...], grad as [M, N, ...], group G)
		// with strides and dilations swapped, cropped to the kernel.
		var xt string
		G := geo.group
		if G == 1 {
			xt = c.swapFirstTwo("x_cn", x, r)
		} else {
			ws := c.Shape(w)
			if !ws.Known || ws.Dims[1] < 0 {
				return fmt.Errorf("grouped Conv needs the static shape of %q: %w", w, errNoShape)
			}
			cg := ws.Dims[1]
			flat := c.Op("Reshape", "x_groups", []string{x, c.Int64s("groups_shape", 0, G, cg, -1)})
			tr := c.Op("Transpose", "x_cgn", []string{flat}, graphedit.AttrInts("perm", []int64{2, 1, 0, 3}))
			spatial := c.Op("Slice", "x_spatial", []string{c.ShapeOf(x), c.Int64s("two", 2), c.Int64s("end", int64(r)), c.Int64s("axis0", 0)})
			shape := c.Op("Concat", "xt_shape", []string{c.Int64s("cg_n", cg, -1), spatial}, graphedit.AttrInt("axis", 0))
			xt = c.Op("Reshape", "x_cn", []string{tr, shape})
		}
		gt := c.swapFirstTwo("g_mn", g, r)
		full := c.Op("Conv", "d_w_full", []string{xt, gt},
			graphedit.AttrInts("strides", geo.dilations), graphedit.AttrInts("dilations", geo.strides),
			graphedit.AttrInts("pads", geo.pads), graphedit.AttrInt("group", G))
		axes := make([]int64, sp)
		zeros := make([]int64, sp)
		for i := range axes {
			axes[i] = int64(2 + i)
		}
		cropped := c.Op("Slice", "d_w_crop", []string{full, c.Int64s("crop_start", zeros...), c.Int64s("crop_end", kernel...), c.Int64s("crop_axes", axes...)})
		c.SetGrad(1, c.swapFirstTwo("d_w", cropped, r))
	}
	return nil
}

// convInputGrad is conv_transpose(grad, weight) sized to the input x. With
// static spatial dims the output padding makes up the rows a stride
// skipped; otherwise the transposed conv runs unpadded with the largest
// output padding (stride - 1), which always covers the input's extent, and
// is sliced to [pad_begin, pad_begin + size) with the size from Shape(x).
func (c *Ctx) convInputGrad(x, w, g string, kernel []int64, geo convGeom) (string, error) {
	sp := len(kernel)
	xs := c.Shape(x)
	static := xs.Known && len(xs.Dims) == sp+2
	outPad := make([]int64, sp)
	for i := 0; i < sp && static; i++ {
		if geo.strides[i] == 1 {
			continue
		}
		in := xs.Dims[2+i]
		if in < 0 {
			static = false
			break
		}
		outPad[i] = (in + geo.pads[i] + geo.pads[sp+i] - geo.dilations[i]*(kernel[i]-1) - 1) % geo.strides[i]
	}
	common := []*onnxpb.AttributeProto{
		graphedit.AttrInts("strides", geo.strides), graphedit.AttrInts("dilations", geo.dilations),
		graphedit.AttrInt("group", geo.group), graphedit.AttrInts("kernel_shape", kernel),
	}
	if static {
		return c.Op("ConvTranspose", "d_x", []string{g, w}, append(common,
			graphedit.AttrInts("pads", geo.pads), graphedit.AttrInts("output_padding", outPad))...), nil
	}
	maxPad := make([]int64, sp)
	axes := make([]int64, sp)
	for i := range maxPad {
		maxPad[i] = geo.strides[i] - 1
		axes[i] = int64(2 + i)
	}
	full := c.Op("ConvTranspose", "d_x_full", []string{g, w}, append(common,
		graphedit.AttrInts("pads", make([]int64, 2*sp)), graphedit.AttrInts("output_padding", maxPad))...)
	begin := c.Int64s("pad_begin", geo.pads[:sp]...)
	size := c.Op("Slice", "x_spatial", []string{c.ShapeOf(x), c.Int64s("two", 2), c.Int64s("end", int64(sp+2)), c.Int64s("axis0", 0)})
	return c.Op("Slice", "d_x", []string{full, begin, c.Add("pad_end", begin, size), c.Int64s("axes", axes...)}), nil
}

func gradConvTranspose(c *Ctx) error {
	x, w, g := c.In(0), c.In(1), c.GradOut(0)
	kernel, err := c.weightKernel(w)
	if err != nil {
		return err
	}
	sp := len(kernel)
	r := sp + 2
	if hasAttr(c.Node, "output_shape") || c.AttrString("auto_pad", "NOTSET") != "NOTSET" {
		return fmt.Errorf("ConvTranspose with output_shape or auto_pad: give explicit pads")
	}
	geo, err := c.convGeometry(sp, kernel)
	if err != nil {
		return err
	}
	if c.Need(2) {
		c.SetGrad(2, c.biasGrad(g, r))
	}
	if c.Need(0) {
		// input: conv(grad, weight), the adjoint of the transposed conv
		c.SetGrad(0, c.Op("Conv", "d_x", []string{g, w},
			graphedit.AttrInts("strides", geo.strides), graphedit.AttrInts("dilations", geo.dilations),
			graphedit.AttrInts("pads", geo.pads), graphedit.AttrInt("group", geo.group),
			graphedit.AttrInts("kernel_shape", kernel)))
	}
	if c.Need(1) {
		if geo.group != 1 {
			return fmt.Errorf("the weight gradient of a grouped ConvTranspose is not supported")
		}
		// weight[c, m, j] = sum_n,i x[n, c, i] grad[n, m, i*s + j*d - p]:
		// conv(grad as [M, N, ...], x as [C, N, ...]) as [M, C, k] swapped.
		gt := c.swapFirstTwo("g_mn", g, r)
		xt := c.swapFirstTwo("x_cn", x, r)
		full := c.Op("Conv", "d_w_full", []string{gt, xt},
			graphedit.AttrInts("strides", geo.dilations), graphedit.AttrInts("dilations", geo.strides),
			graphedit.AttrInts("pads", geo.pads))
		axes := make([]int64, sp)
		zeros := make([]int64, sp)
		for i := range axes {
			axes[i] = int64(2 + i)
		}
		cropped := c.Op("Slice", "d_w_crop", []string{full, c.Int64s("crop_start", zeros...), c.Int64s("crop_end", kernel...), c.Int64s("crop_axes", axes...)})
		c.SetGrad(1, c.swapFirstTwo("d_w", cropped, r))
	}
	return nil
}

var _ = onnxpb.TensorProto_FLOAT

// biasGrad is the gradient of a per-channel bias of a rank-r (N, C, …)
// output: g summed over every axis but the channel axis 1.
func (c *Ctx) biasGrad(g string, r int) string {
	axes := []int64{0}
	for i := 2; i < r; i++ {
		axes = append(axes, int64(i))
	}
	return c.ReduceSum("d_bias", g, axes, false)
}
