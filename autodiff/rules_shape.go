package autodiff

import (
	"fmt"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// Ops that move elements without arithmetic: their gradients move the
// output gradient back (Reshape, Transpose, Concat/Split, Slice, Expand,
// Tile).

func init() {
	Register(
		&Rule{Op: "Reshape", Inputs: []int{0}, Infer: inferReshape, Grad: gradReshapeBack},
		&Rule{Op: "Flatten", Inputs: []int{0}, Infer: func(c *InferCtx) []Shape {
			x := c.In(0)
			if !x.Known {
				return []Shape{rankShape(x.Elem, 2)}
			}
			axis := c.AttrInt("axis", 1)
			if axis < 0 {
				axis += int64(len(x.Dims))
			}
			if axis < 0 || axis > int64(len(x.Dims)) {
				return []Shape{rankShape(x.Elem, 2)}
			}
			return []Shape{dimsShape(x.Elem, numel(x.Dims[:axis]), numel(x.Dims[axis:]))}
		}, Grad: gradReshapeBack},
		&Rule{Op: "Squeeze", Inputs: []int{0}, Infer: inferSqueeze, Grad: gradReshapeBack},
		&Rule{Op: "Unsqueeze", Inputs: []int{0}, Infer: inferUnsqueeze, Grad: gradReshapeBack},
		&Rule{Op: "Transpose", Inputs: []int{0}, Infer: func(c *InferCtx) []Shape {
			x := c.In(0)
			if !x.Known {
				return []Shape{unknownShape(x.Elem)}
			}
			perm := transposePerm(c.Node, len(x.Dims))
			if !isPerm(perm) {
				return []Shape{unknownShape(x.Elem)}
			}
			dims := make([]int64, len(perm))
			for i, p := range perm {
				dims[i] = x.Dims[p]
			}
			return []Shape{dimsShape(x.Elem, dims...)}
		}, Grad: func(c *Ctx) error {
			r, err := c.Rank(c.In(0))
			if err != nil {
				return err
			}
			perm := transposePerm(c.Node, r)
			if !isPerm(perm) {
				return fmt.Errorf("perm %v is not a permutation of %d axes", perm, r)
			}
			inv := make([]int64, len(perm))
			for i, p := range perm {
				inv[p] = int64(i)
			}
			c.SetGrad(0, c.Op("Transpose", "d_x", []string{c.GradOut(0)}, graphedit.AttrInts("perm", inv)))
			return nil
		}},
		&Rule{Op: "Concat", Inputs: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31}, Infer: inferConcat, Grad: gradConcat},
		&Rule{Op: "Split", Inputs: []int{0}, Infer: inferSplit, Grad: func(c *Ctx) error {
			// self: cat(grads, axis), zeros for outputs without a gradient
			parts := make([]string, len(c.Node.GetOutput()))
			for i := range parts {
				parts[i] = c.GradOrZeros(i)
			}
			c.SetGrad(0, c.Op("Concat", "d_x", parts, graphedit.AttrInt("axis", c.AttrInt("axis", 0))))
			return nil
		}},
		&Rule{Op: "Slice", Inputs: []int{0}, Infer: inferSlice, Grad: gradSlice},
		&Rule{Op: "Expand", Inputs: []int{0}, Infer: func(c *InferCtx) []Shape {
			x, s := c.In(0), c.In(1)
			if v, ok := c.Ints(1); ok {
				return []Shape{broadcastShapes(x.Elem, x, dimsShape(x.Elem, v...))}
			}
			if s.Known && len(s.Dims) == 1 && s.Dims[0] >= 0 {
				return []Shape{broadcastShapes(x.Elem, x, rankShape(x.Elem, int(s.Dims[0])))}
			}
			return []Shape{unknownShape(x.Elem)}
		}, Grad: func(c *Ctx) error {
			// self: sum_to(grad, self.shape)
			d, err := c.Unbroadcast("d_x", c.GradOut(0), c.In(0), c.Out(0))
			if err != nil {
				return err
			}
			c.SetGrad(0, d)
			return nil
		}},
		&Rule{Op: "Tile", Inputs: []int{0}, Infer: func(c *InferCtx) []Shape {
			x := c.In(0)
			if !x.Known {
				return []Shape{unknownShape(x.Elem)}
			}
			s := rankShape(x.Elem, len(x.Dims))
			if rep, ok := c.Ints(1); ok && len(rep) == len(x.Dims) {
				for i := range rep {
					if x.Dims[i] >= 0 {
						s.Dims[i] = x.Dims[i] * rep[i]
					}
				}
			}
			return []Shape{s}
		}, Grad: gradTile},
	)
}

// gradReshapeBack: self: grad.reshape(self.sizes())
func gradReshapeBack(c *Ctx) error {
	c.SetGrad(0, c.ReshapeLike("d_x", c.GradOut(0), c.In(0)))
	return nil
}

func inferReshape(c *InferCtx) []Shape {
	x := c.In(0)
	v, ok := c.Ints(1)
	if !ok {
		if s := c.In(1); s.Known && len(s.Dims) == 1 && s.Dims[0] >= 0 {
			return []Shape{rankShape(x.Elem, int(s.Dims[0]))}
		}
		return []Shape{unknownShape(x.Elem)}
	}
	dims := append([]int64{}, v...)
	allowZero := c.AttrInt("allowzero", 0) != 0
	neg := -1
	for i, d := range dims {
		switch {
		case d == 0 && !allowZero:
			if x.Known && i < len(x.Dims) {
				dims[i] = x.Dims[i]
			} else {
				dims[i] = -1
			}
		case d == -1:
			neg = i
		}
	}
	if neg >= 0 {
		dims[neg] = -1
		if x.Known {
			rest := int64(1)
			okRest := true
			for i, d := range dims {
				if i != neg {
					if d < 0 {
						okRest = false
					}
					rest *= d
				}
			}
			if n := numel(x.Dims); okRest && n >= 0 && rest > 0 {
				dims[neg] = n / rest
			}
		}
	}
	return []Shape{dimsShape(x.Elem, dims...)}
}

// axesOf returns the axes of a Squeeze/Unsqueeze/Reduce node: attribute
// before the input form, else input 1. ok is false when they are not
// constant; present reports whether any were given.
func axesOf(n *onnxpb.NodeProto, g *graph) (axes []int64, present, ok bool) {
	if a, has := attrInts(n, "axes"); has {
		return a, true, true
	}
	if len(n.GetInput()) > 1 && n.GetInput()[1] != "" {
		v, ok := g.constInts(n.GetInput()[1])
		return v, true, ok
	}
	return nil, false, true
}

func normAxes(axes []int64, rank int) []int64 {
	out := make([]int64, len(axes))
	for i, a := range axes {
		if a < 0 {
			a += int64(rank)
		}
		out[i] = a
	}
	return out
}

// axesInRange reports whether the (normalized) axes are distinct and in
// [0, rank).
func axesInRange(axes []int64, rank int) bool {
	seen := map[int64]bool{}
	for _, a := range axes {
		if a < 0 || a >= int64(rank) || seen[a] {
			return false
		}
		seen[a] = true
	}
	return true
}

func contains(list []int64, v int64) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func inferSqueeze(c *InferCtx) []Shape {
	x := c.In(0)
	axes, present, ok := axesOf(c.Node, c.g)
	if !x.Known || !ok {
		return []Shape{unknownShape(x.Elem)}
	}
	axes = normAxes(axes, len(x.Dims))
	if !axesInRange(axes, len(x.Dims)) {
		return []Shape{unknownShape(x.Elem)}
	}
	var dims []int64
	for i, d := range x.Dims {
		if present && contains(axes, int64(i)) || !present && d == 1 {
			continue
		}
		if !present && d < 0 {
			return []Shape{unknownShape(x.Elem)}
		}
		dims = append(dims, d)
	}
	return []Shape{dimsShape(x.Elem, dims...)}
}

func inferUnsqueeze(c *InferCtx) []Shape {
	x := c.In(0)
	axes, _, ok := axesOf(c.Node, c.g)
	if !x.Known || !ok {
		return []Shape{unknownShape(x.Elem)}
	}
	r := len(x.Dims) + len(axes)
	axes = normAxes(axes, r)
	if !axesInRange(axes, r) {
		return []Shape{unknownShape(x.Elem)}
	}
	dims := make([]int64, 0, r)
	j := 0
	for i := 0; i < r; i++ {
		if contains(axes, int64(i)) {
			dims = append(dims, 1)
		} else {
			dims = append(dims, x.Dims[j])
			j++
		}
	}
	return []Shape{dimsShape(x.Elem, dims...)}
}

// isPerm reports whether p is a permutation of 0..len(p)-1.
func isPerm(p []int64) bool {
	seen := make([]bool, len(p))
	for _, v := range p {
		if v < 0 || v >= int64(len(p)) || seen[v] {
			return false
		}
		seen[v] = true
	}
	return true
}

func transposePerm(n *onnxpb.NodeProto, rank int) []int64 {
	if p, ok := attrInts(n, "perm"); ok && len(p) == rank {
		return p
	}
	p := make([]int64, rank)
	for i := range p {
		p[i] = int64(rank - 1 - i)
	}
	return p
}

func inferConcat(c *InferCtx) []Shape {
	first := c.In(0)
	if !first.Known {
		return []Shape{unknownShape(first.Elem)}
	}
	r := len(first.Dims)
	axis := c.AttrInt("axis", 0)
	if axis < 0 {
		axis += int64(r)
	}
	if axis < 0 || axis >= int64(r) {
		return []Shape{unknownShape(first.Elem)}
	}
	dims := append([]int64{}, first.Dims...)
	total := int64(0)
	for i := 0; i < c.NumIn(); i++ {
		s := c.In(i)
		if !s.Known || len(s.Dims) != r || s.Dims[axis] < 0 || total < 0 {
			total = -1
			continue
		}
		total += s.Dims[axis]
	}
	dims[axis] = total
	return []Shape{dimsShape(first.Elem, dims...)}
}

// gradConcat: each input gets its slice of grad along axis; the offsets come
// from the inputs' run-time shapes.
func gradConcat(c *Ctx) error {
	r, err := c.Rank(c.Out(0))
	if err != nil {
		return err
	}
	axis := c.AttrInt("axis", 0)
	if axis < 0 {
		axis += int64(r)
	}
	axisIdx := c.Int64s("axis_index", axis)
	axes := c.Int64s("axes", axis)
	start := c.Int64s("start0", 0)
	for i, in := range c.Node.GetInput() {
		size := c.Op("Gather", "size", []string{c.ShapeOf(in), axisIdx}, graphedit.AttrInt("axis", 0))
		end := c.Add("end", start, size)
		if c.Need(i) {
			c.SetGrad(i, c.Op("Slice", "d_in", []string{c.GradOut(0), start, end, axes}))
		}
		start = end
	}
	return nil
}

func inferSplit(c *InferCtx) []Shape {
	x := c.In(0)
	out := make([]Shape, len(c.Node.GetOutput()))
	for i := range out {
		if x.Known {
			out[i] = rankShape(x.Elem, len(x.Dims))
			axis := c.AttrInt("axis", 0)
			if axis < 0 {
				axis += int64(len(x.Dims))
			}
			for k, d := range x.Dims {
				if int64(k) != axis {
					out[i].Dims[k] = d
				}
			}
		} else {
			out[i] = unknownShape(x.Elem)
		}
	}
	return out
}

func inferSlice(c *InferCtx) []Shape {
	x := c.In(0)
	if !x.Known {
		return []Shape{unknownShape(x.Elem)}
	}
	s := dimsShape(x.Elem, x.Dims...)
	axes, ok := c.Ints(3)
	if !ok && c.NumIn() > 3 && c.Node.GetInput()[3] != "" {
		return []Shape{rankShape(x.Elem, len(x.Dims))}
	}
	starts, ok1 := c.Ints(1)
	ends, ok2 := c.Ints(2)
	if !ok1 || !ok2 {
		return []Shape{rankShape(x.Elem, len(x.Dims))}
	}
	if axes == nil {
		for i := range starts {
			axes = append(axes, int64(i))
		}
	}
	steps, ok := c.Ints(4)
	if !ok {
		steps = nil
	}
	axes = normAxes(axes, len(x.Dims))
	if len(starts) != len(axes) || len(ends) != len(axes) || steps != nil && len(steps) != len(axes) || !axesInRange(axes, len(x.Dims)) {
		return []Shape{rankShape(x.Elem, len(x.Dims))}
	}
	for i, a := range axes {
		d := x.Dims[a]
		st := int64(1)
		if steps != nil {
			st = steps[i]
		}
		if st == 0 {
			return []Shape{rankShape(x.Elem, len(x.Dims))}
		}
		if d < 0 {
			s.Dims[a] = -1
			continue
		}
		s.Dims[a] = sliceLen(starts[i], ends[i], st, d)
	}
	return []Shape{s}
}

// sliceLen is the length of x[start:end:step] along an axis of size d, with
// ONNX Slice's clamping.
func sliceLen(start, end, step, d int64) int64 {
	if start < 0 {
		start += d
	}
	if end < 0 {
		end += d
	}
	if step > 0 {
		start, end = clamp(start, 0, d), clamp(end, 0, d)
		if end <= start {
			return 0
		}
		return (end - start + step - 1) / step
	}
	start, end = clamp(start, -1, d-1), clamp(end, -1, d-1)
	if start <= end {
		return 0
	}
	return (start - end - step - 1) / -step
}

// gradSlice scatters grad back along each sliced axis. Which input
// positions a slice picks is found by applying the same Slice to
// Range(0, dim); the gradient along that axis is then grad @ one_hot(picked,
// dim), which covers negative, clamped and strided slices alike.
func gradSlice(c *Ctx) error {
	x := c.In(0)
	r, err := c.Rank(x)
	if err != nil {
		return err
	}
	if c.Opset < 10 {
		return fmt.Errorf("Slice with attributes (opset < 10) is not supported")
	}
	var axes []int64
	if a := c.In(3); a != "" {
		v, ok := c.Ints(a)
		if !ok {
			return fmt.Errorf("the axes of Slice must be constant")
		}
		axes = normAxes(v, r)
		if !axesInRange(axes, r) {
			return fmt.Errorf("Slice axes %v out of range for rank %d", v, r)
		}
	} else {
		starts, ok := c.Ints(c.In(1))
		if !ok {
			return fmt.Errorf("Slice without axes needs constant starts")
		}
		for i := range starts {
			axes = append(axes, int64(i))
		}
		if !axesInRange(axes, r) {
			return fmt.Errorf("Slice has %d starts for rank %d", len(starts), r)
		}
	}
	g := c.GradOut(0)
	for k, a := range axes {
		idx := c.g.b.Int64(c.base+"/k", []int64{}, []int64{int64(k)})
		pick := func(in string) string {
			if in == "" {
				return ""
			}
			return c.Op("Gather", "param", []string{in, idx}, graphedit.AttrInt("axis", 0))
		}
		pickUnsq := func(in string) string {
			if in == "" {
				return ""
			}
			return c.Unsqueeze("param1", pick(in), []int64{0})
		}
		dim := c.Op("Gather", "dim", []string{c.ShapeOf(x), c.Int64s("axis", a)}, graphedit.AttrInt("axis", 0))
		rng := c.Op("Range", "positions", []string{
			c.g.b.Int64(c.base+"/zero", []int64{}, []int64{0}),
			c.Squeeze("dim_scalar", dim, []int64{0}),
			c.g.b.Int64(c.base+"/one", []int64{}, []int64{1}),
		})
		ins := []string{rng, pickUnsq(c.In(1)), pickUnsq(c.In(2)), c.Int64s("axis0", 0)}
		if s := c.In(4); s != "" {
			ins = append(ins, pickUnsq(s))
		}
		picked := c.Op("Slice", "picked", ins)
		g = c.scatterAlongAxis(g, picked, dim, a, r)
	}
	c.SetGrad(0, g)
	return nil
}

// scatterAlongAxis returns h with h[..., j, ...] = sum over i with
// picked[i] == j of g[..., i, ...] along axis a (of rank r): g moved to the
// last axis times one_hot(picked, dim).
func (c *Ctx) scatterAlongAxis(g, picked, dim string, a int64, r int) string {
	oh := c.oneHot("one_hot", picked, dim, c.In(0), graphedit.AttrInt("axis", -1))
	perm := make([]int64, 0, r)
	for i := 0; i < r; i++ {
		if int64(i) != a {
			perm = append(perm, int64(i))
		}
	}
	perm = append(perm, a)
	inv := make([]int64, r)
	for i, p := range perm {
		inv[p] = int64(i)
	}
	moved := g
	if a != int64(r-1) {
		moved = c.Op("Transpose", "axis_last", []string{g}, graphedit.AttrInts("perm", perm))
	}
	m := c.Op("MatMul", "scattered", []string{moved, oh})
	if a != int64(r-1) {
		m = c.Op("Transpose", "axis_back", []string{m}, graphedit.AttrInts("perm", inv))
	}
	return m
}

// gradTile: grad reshaped to (rep_0, d_0, rep_1, d_1, ...) summed over the
// repeat axes.
func gradTile(c *Ctx) error {
	x := c.In(0)
	r, err := c.Rank(x)
	if err != nil {
		return err
	}
	rep := c.Unsqueeze("repeats_col", c.In(1), []int64{1})
	dims := c.Unsqueeze("dims_col", c.ShapeOf(x), []int64{1})
	pairs := c.Op("Concat", "pairs", []string{rep, dims}, graphedit.AttrInt("axis", 1))
	shape := c.Op("Reshape", "pair_shape", []string{pairs, c.Int64s("flat", -1)})
	split := c.Op("Reshape", "split", []string{c.GradOut(0), shape})
	axes := make([]int64, r)
	for i := range axes {
		axes[i] = int64(2 * i)
	}
	c.SetGrad(0, c.ReduceSum("d_x", split, axes, false))
	return nil
}
