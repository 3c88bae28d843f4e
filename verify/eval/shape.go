package eval

import (
	"fmt"
	"math"
	"sort"
)

func init() {
	register("shape", false, map[string]opFunc{
		"Reshape":         opReshape,
		"Unsqueeze":       opUnsqueeze,
		"Squeeze":         opSqueeze,
		"Flatten":         opFlatten,
		"Transpose":       opTranspose,
		"Expand":          opExpand,
		"Concat":          opConcat,
		"Slice":           opSlice,
		"Split":           opSplit,
		"Tile":            opTile,
		"Shape":           opShape,
		"Size":            opSize,
		"ConstantOfShape": opConstantOfShape,
		"Range":           opRange,
		"Constant":        opConstant,
	})
}

func shapeInput(t *Tensor, what string) ([]int64, error) {
	if t.Rank() > 1 {
		return nil, fmt.Errorf("%s must be 1-D, has shape %v", what, t.shape)
	}
	if t.dtype != Int64 && t.dtype != Int32 {
		return nil, fmt.Errorf("%s must be int64, is %v", what, t.dtype)
	}
	return t.int64s(), nil
}

func opReshape(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x := in[0]
	var spec []int64
	if c.opset < 5 {
		spec, _ = c.attrInts("shape")
	} else {
		if err := needInputs(in, 2, 2); err != nil {
			return nil, err
		}
		var err error
		if spec, err = shapeInput(in[1], "shape"); err != nil {
			return nil, err
		}
	}
	allowZero := c.attrInt("allowzero", 0) != 0
	out := make([]int64, len(spec))
	infer := -1
	known := int64(1)
	for i, d := range spec {
		switch {
		case d == 0 && !allowZero:
			if i >= x.Rank() {
				return nil, fmt.Errorf("shape %v: dim %d is 0 but the input %v has no dim %d", spec, i, x.shape, i)
			}
			out[i] = x.shape[i]
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has more than one -1", spec)
			}
			infer = i
			continue
		case d < -1:
			return nil, fmt.Errorf("shape %v has a negative dim", spec)
		default:
			out[i] = d
		}
		known *= out[i]
	}
	n := int64(x.Len())
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v to %v", x.shape, spec)
		}
		out[infer] = n / known
	}
	if NumElements(out) != n {
		return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v", x.shape, n, spec)
	}
	return []*Tensor{x.reshaped(out)}, nil
}

// axesArg reads axes from the attribute (before opset attrUntil) or from input idx.
func axesArg(c *opCtx, in []*Tensor, attrUntil int64, idx int) ([]int64, bool, error) {
	if c.opset < attrUntil {
		a, ok := c.attrInts("axes")
		return a, ok, nil
	}
	if len(in) > idx && in[idx] != nil {
		a, err := shapeInput(in[idx], "axes")
		return a, true, err
	}
	return nil, false, nil
}

func opUnsqueeze(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x := in[0]
	axes, ok, err := axesArg(c, in, 13, 1)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("axes are required")
	}
	r := x.Rank() + len(axes)
	mark := make([]bool, r)
	for _, a := range axes {
		k, err := normAxis(a, r)
		if err != nil {
			return nil, err
		}
		if mark[k] {
			return nil, fmt.Errorf("axis %d repeated", a)
		}
		mark[k] = true
	}
	out := make([]int64, 0, r)
	j := 0
	for i := 0; i < r; i++ {
		if mark[i] {
			out = append(out, 1)
		} else {
			out = append(out, x.shape[j])
			j++
		}
	}
	return []*Tensor{x.reshaped(out)}, nil
}

func opSqueeze(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x := in[0]
	axes, ok, err := axesArg(c, in, 13, 1)
	if err != nil {
		return nil, err
	}
	drop := make([]bool, x.Rank())
	if !ok || len(axes) == 0 {
		for i, d := range x.shape {
			drop[i] = d == 1
		}
	}
	for _, a := range axes {
		k, err := normAxis(a, x.Rank())
		if err != nil {
			return nil, err
		}
		if x.shape[k] != 1 {
			return nil, fmt.Errorf("cannot squeeze axis %d of shape %v", a, x.shape)
		}
		drop[k] = true
	}
	out := []int64{}
	for i, d := range x.shape {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return []*Tensor{x.reshaped(out)}, nil
}

func opFlatten(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0]
	axis := c.attrInt("axis", 1)
	if axis < 0 {
		axis += int64(x.Rank())
	}
	if axis < 0 || axis > int64(x.Rank()) {
		return nil, fmt.Errorf("axis %d out of range for rank %d", c.attrInt("axis", 1), x.Rank())
	}
	return []*Tensor{x.reshaped([]int64{NumElements(x.shape[:axis]), NumElements(x.shape[axis:])})}, nil
}

func transposeTensor(x *Tensor, perm []int) *Tensor {
	return transposeWith(nil, x, perm)
}

// transposeWith is transposeTensor with the output from c's buffer pool
// (c may be nil).
func transposeWith(c *opCtx, x *Tensor, perm []int) *Tensor {
	r := x.Rank()
	shape := make([]int64, r)
	str := make([]int64, r)
	xs := stridesOf(x.shape)
	for i, p := range perm {
		shape[i] = x.shape[p]
		str[i] = xs[p]
	}
	o := c.alloc(x.dtype, shape)
	stridedCopy(o, x, shape, str, 0)
	return o
}

func opTranspose(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0]
	r := x.Rank()
	perm := make([]int, r)
	if p, ok := c.attrInts("perm"); ok {
		if len(p) != r {
			return nil, fmt.Errorf("perm %v has %d entries for rank %d", p, len(p), r)
		}
		seen := make([]bool, r)
		for i, v := range p {
			k, err := normAxis(v, r)
			if err != nil || seen[k] {
				return nil, fmt.Errorf("perm %v is not a permutation of 0..%d", p, r-1)
			}
			seen[k] = true
			perm[i] = k
		}
	} else {
		for i := range perm {
			perm[i] = r - 1 - i
		}
	}
	return []*Tensor{transposeWith(c, x, perm)}, nil
}

// broadcastTo copies x broadcast to shape (which must be a broadcast of x's shape).
func broadcastTo(x *Tensor, shape []int64) *Tensor {
	return broadcastWith(nil, x, shape)
}

// broadcastWith is broadcastTo with the output from c's buffer pool (c may be nil).
func broadcastWith(c *opCtx, x *Tensor, shape []int64) *Tensor {
	r := len(shape)
	str := make([]int64, r)
	xs := stridesOf(x.shape)
	off := r - x.Rank()
	for i := 0; i < x.Rank(); i++ {
		if x.shape[i] != 1 {
			str[off+i] = xs[i]
		}
	}
	o := c.alloc(x.dtype, shape)
	stridedCopy(o, x, shape, str, 0)
	return o
}

func opExpand(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 2); err != nil {
		return nil, err
	}
	s, err := shapeInput(in[1], "shape")
	if err != nil {
		return nil, err
	}
	shape, err := broadcastShapes(in[0].shape, s)
	if err != nil {
		return nil, err
	}
	return []*Tensor{broadcastWith(c, in[0], shape)}, nil
}

func opConcat(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, fmt.Errorf("expects at least one input")
	}
	r := in[0].Rank()
	axis, err := normAxis(c.attrInt("axis", 0), r)
	if err != nil {
		return nil, err
	}
	shape := append([]int64{}, in[0].shape...)
	shape[axis] = 0
	for i, t := range in {
		if t == nil || t.Rank() != r || t.dtype != in[0].dtype {
			return nil, fmt.Errorf("input %d: all inputs must be present with rank %d and type %v", i, r, in[0].dtype)
		}
		for d := 0; d < r; d++ {
			if d != axis && t.shape[d] != in[0].shape[d] {
				return nil, fmt.Errorf("input %d has shape %v, incompatible with %v on axis %d", i, t.shape, in[0].shape, d)
			}
		}
		shape[axis] += t.shape[axis]
	}
	o := c.alloc(in[0].dtype, shape)
	es := o.dtype.Size()
	outer := int(NumElements(shape[:axis]))
	inner := int(NumElements(shape[axis+1:])) * es
	ob := o.bytes()
	rowOut := int(shape[axis]) * inner
	pos := make([]int, len(in)+1) // where each input's block starts in an output row
	for i, t := range in {
		pos[i+1] = pos[i] + int(t.shape[axis])*inner
	}
	// One task per (output row, input) block; large outputs in parallel.
	parallelFor(outer*len(in), rowOut/max(es*len(in), 1), func(lo, hi int) {
		for k := lo; k < hi; k++ {
			j, i := k/len(in), k%len(in)
			blk := pos[i+1] - pos[i]
			copy(ob[j*rowOut+pos[i]:j*rowOut+pos[i+1]], in[i].bytes()[j*blk:(j+1)*blk])
		}
	})
	return []*Tensor{o}, nil
}

func clampI(v, lo, hi int64) int64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

func opSlice(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x := in[0]
	var starts, ends, axes, steps []int64
	var err error
	if c.opset < 10 {
		starts, _ = c.attrInts("starts")
		ends, _ = c.attrInts("ends")
		axes, _ = c.attrInts("axes")
	} else {
		if err := needInputs(in, 3, 5); err != nil {
			return nil, err
		}
		if starts, err = shapeInput(in[1], "starts"); err != nil {
			return nil, err
		}
		if ends, err = shapeInput(in[2], "ends"); err != nil {
			return nil, err
		}
		if len(in) > 3 && in[3] != nil {
			if axes, err = shapeInput(in[3], "axes"); err != nil {
				return nil, err
			}
		}
		if len(in) > 4 && in[4] != nil {
			if steps, err = shapeInput(in[4], "steps"); err != nil {
				return nil, err
			}
		}
	}
	if len(starts) != len(ends) {
		return nil, fmt.Errorf("starts %v and ends %v differ in length", starts, ends)
	}
	if axes == nil {
		for i := range starts {
			axes = append(axes, int64(i))
		}
	}
	if steps == nil {
		for range starts {
			steps = append(steps, 1)
		}
	}
	if len(axes) != len(starts) || len(steps) != len(starts) {
		return nil, fmt.Errorf("starts, ends, axes and steps differ in length")
	}
	r := x.Rank()
	shape := append([]int64{}, x.shape...)
	xs := stridesOf(x.shape)
	str := append([]int64{}, xs...)
	off := int64(0)
	seen := make([]bool, r)
	for i := range starts {
		a, err := normAxis(axes[i], r)
		if err != nil {
			return nil, err
		}
		if seen[a] {
			return nil, fmt.Errorf("axis %d repeated", axes[i])
		}
		seen[a] = true
		dim := x.shape[a]
		st, en, step := starts[i], ends[i], steps[i]
		if step == 0 {
			return nil, fmt.Errorf("step is 0")
		}
		if st < 0 {
			st += dim
		}
		if en < 0 && en > math.MinInt64+dim {
			en += dim
		} else if en < 0 {
			en = -1
		}
		var n int64
		if step > 0 {
			st = clampI(st, 0, dim)
			en = clampI(en, 0, dim)
			if en > st {
				n = (en - st + step - 1) / step
			}
		} else {
			st = clampI(st, 0, dim-1)
			en = clampI(en, -1, dim-1)
			if st > en {
				n = (st - en + (-step) - 1) / (-step)
			}
		}
		shape[a] = n
		if n > 0 {
			off += st * xs[a]
		}
		str[a] = xs[a] * step
	}
	o := c.alloc(x.dtype, shape)
	if o.Len() > 0 {
		stridedCopy(o, x, shape, str, off)
	}
	return []*Tensor{o}, nil
}

func opSplit(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, fmt.Errorf("input is missing")
	}
	x := in[0]
	axis, err := normAxis(c.attrInt("axis", 0), x.Rank())
	if err != nil {
		return nil, err
	}
	dim := x.shape[axis]
	var split []int64
	if c.opset < 13 {
		split, _ = c.attrInts("split")
	} else if len(in) > 1 && in[1] != nil {
		if split, err = shapeInput(in[1], "split"); err != nil {
			return nil, err
		}
	}
	if split == nil {
		k := int64(c.nOut)
		if c.opset >= 18 && c.hasAttr("num_outputs") {
			k = c.attrInt("num_outputs", 0)
			if k <= 0 {
				return nil, fmt.Errorf("num_outputs must be positive")
			}
			if k != int64(c.nOut) {
				return nil, fmt.Errorf("num_outputs %d but node has %d outputs", k, c.nOut)
			}
			chunk := (dim + k - 1) / k
			for rem := dim; rem > 0; rem -= chunk {
				split = append(split, min(chunk, rem))
			}
			for int64(len(split)) < k {
				split = append(split, 0)
			}
		} else {
			if k == 0 || dim%k != 0 {
				return nil, fmt.Errorf("cannot split dim %d into %d equal parts", dim, k)
			}
			for i := int64(0); i < k; i++ {
				split = append(split, dim/k)
			}
		}
	}
	total := int64(0)
	for _, s := range split {
		if s < 0 {
			return nil, fmt.Errorf("negative split %v", split)
		}
		total += s
	}
	if total != dim || len(split) != c.nOut {
		return nil, fmt.Errorf("split %v does not match dim %d and %d outputs", split, dim, c.nOut)
	}
	xs := stridesOf(x.shape)
	var outs []*Tensor
	pos := int64(0)
	for _, s := range split {
		shape := append([]int64{}, x.shape...)
		shape[axis] = s
		o := c.alloc(x.dtype, shape)
		if o.Len() > 0 {
			stridedCopy(o, x, shape, xs, pos*xs[axis])
		}
		pos += s
		outs = append(outs, o)
	}
	return outs, nil
}

func opTile(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 2); err != nil {
		return nil, err
	}
	x := in[0]
	reps, err := shapeInput(in[1], "repeats")
	if err != nil {
		return nil, err
	}
	if len(reps) != x.Rank() {
		return nil, fmt.Errorf("repeats %v do not match rank %d", reps, x.Rank())
	}
	xs := stridesOf(x.shape)
	var vshape, vstr []int64
	out := make([]int64, x.Rank())
	for i, r := range reps {
		if r < 0 {
			return nil, fmt.Errorf("negative repeat %v", reps)
		}
		vshape = append(vshape, r, x.shape[i])
		vstr = append(vstr, 0, xs[i])
		out[i] = r * x.shape[i]
	}
	o := c.alloc(x.dtype, out)
	if o.Len() > 0 {
		stridedCopy(o, x, vshape, vstr, 0)
	}
	return []*Tensor{o}, nil
}

func opShape(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, err
	}
	r := int64(in[0].Rank())
	start, end := c.attrInt("start", 0), c.attrInt("end", r)
	if start < 0 {
		start += r
	}
	if end < 0 {
		end += r
	}
	start, end = clampI(start, 0, r), clampI(end, 0, r)
	if end < start {
		end = start
	}
	s := append([]int64{}, in[0].shape[start:end]...)
	return []*Tensor{NewInt64([]int64{int64(len(s))}, s)}, nil
}

func opSize(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, err
	}
	return []*Tensor{NewInt64([]int64{}, []int64{int64(in[0].Len())})}, nil
}

func opConstantOfShape(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, err
	}
	shape, err := shapeInput(in[0], "shape")
	if err != nil {
		return nil, err
	}
	val := NewFloat32([]int64{1}, []float32{0})
	if c.prep != nil && c.prep.valueAttr != nil {
		val = c.prep.valueAttr
		if val.Len() != 1 {
			return nil, fmt.Errorf("value must have one element")
		}
	} else if a := c.attr("value"); a != nil {
		if val, err = FromProto(a.GetT(), ""); err != nil {
			return nil, err
		}
		if val.Len() != 1 {
			return nil, fmt.Errorf("value must have one element")
		}
	}
	o, err := New(val.dtype, shape)
	if err != nil {
		return nil, err
	}
	es := val.dtype.Size()
	ob, vb := o.bytes(), val.bytes()
	fillBytes(ob, vb, es)
	return []*Tensor{o}, nil
}

func opRange(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 3, 3); err != nil {
		return nil, err
	}
	for i, t := range in {
		if t.Len() != 1 || t.dtype != in[0].dtype {
			return nil, fmt.Errorf("input %d must be a scalar of type %v", i, in[0].dtype)
		}
	}
	if in[0].dtype.isFloat() {
		st, lim, d := in[0].f64At(0), in[1].f64At(0), in[2].f64At(0)
		if d == 0 {
			return nil, fmt.Errorf("delta is 0")
		}
		cnt := math.Max(math.Ceil((lim-st)/d), 0)
		switch {
		case math.IsNaN(cnt):
			return nil, fmt.Errorf("start %v, limit %v and delta %v give no element count", st, lim, d)
		case cnt >= 1<<62: // beyond any allocation; int64(cnt) would wrap
			return nil, fmt.Errorf("%w: Range from %v to %v by %v has %g elements", ErrTooLarge, st, lim, d, cnt)
		}
		n := int64(cnt)
		o := mustNew(in[0].dtype, []int64{n})
		if fd, ok := o.data.([]float32); ok {
			// match the reference: accumulate in the input type
			s, dd := float32(st), float32(d)
			for i := range fd {
				fd[i] = s + float32(i)*dd
			}
		} else {
			for i := int64(0); i < n; i++ {
				o.setF64(int(i), st+float64(i)*d)
			}
		}
		return []*Tensor{o}, nil
	}
	st, lim, d := in[0].i64At(0), in[1].i64At(0), in[2].i64At(0)
	if d == 0 {
		return nil, fmt.Errorf("delta is 0")
	}
	n := int64(0)
	if (d > 0 && lim > st) || (d < 0 && lim < st) {
		n = (lim - st + d - sign64(d)) / d
	}
	o := mustNew(in[0].dtype, []int64{n})
	for i := int64(0); i < n; i++ {
		o.setI64(int(i), st+i*d)
	}
	return []*Tensor{o}, nil
}

func sign64(v int64) int64 {
	if v < 0 {
		return -1
	}
	return 1
}

func opConstant(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	for name, a := range c.attrs {
		switch name {
		case "value":
			t, err := FromProto(a.GetT(), "")
			return []*Tensor{t}, err
		case "value_float":
			return []*Tensor{NewFloat32([]int64{}, []float32{a.GetF()})}, nil
		case "value_floats":
			f := append([]float32{}, a.GetFloats()...)
			return []*Tensor{NewFloat32([]int64{int64(len(f))}, f)}, nil
		case "value_int":
			return []*Tensor{NewInt64([]int64{}, []int64{a.GetI()})}, nil
		case "value_ints":
			v := append([]int64{}, a.GetInts()...)
			return []*Tensor{NewInt64([]int64{int64(len(v))}, v)}, nil
		}
	}
	var names []string
	for n := range c.attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("no supported value attribute (has %v)", names)
}
