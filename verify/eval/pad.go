package eval

import "fmt"

func init() {
	register("pad", false, map[string]opFunc{
		"Pad": opPad,
	})
}

// padSource maps an output coordinate along one axis to the input
// coordinate it copies, or -1 for the constant value.
func padSource(o, before, n int64, mode string) int64 {
	i := o - before
	if i >= 0 && i < n {
		return i
	}
	switch mode {
	case "edge":
		return min(max(i, 0), n-1)
	case "reflect":
		if n == 1 {
			return 0
		}
		p := 2 * (n - 1)
		i %= p
		if i < 0 {
			i += p
		}
		if i >= n {
			i = p - i
		}
		return i
	case "wrap":
		i %= n
		if i < 0 {
			i += n
		}
		return i
	}
	return -1
}

func opPad(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, fmt.Errorf("data is missing")
	}
	x := in[0]
	r := x.Rank()
	mode := c.attrString("mode", "constant")
	switch mode {
	case "constant", "reflect", "edge":
	case "wrap":
		if c.opset < 19 {
			return nil, fmt.Errorf("mode wrap needs opset 19, model has %d", c.opset)
		}
	default:
		return nil, fmt.Errorf("unknown mode %q (want constant, reflect, edge or wrap)", mode)
	}
	var pads []int64
	value := mustNew(x.dtype, nil)
	if c.opset < 11 {
		pads, _ = c.attrInts("pads")
		if c.opset >= 2 || c.hasAttr("value") {
			value.setF64(0, float64(c.attrFloat("value", 0)))
		}
	} else {
		if len(in) < 2 || in[1] == nil {
			return nil, fmt.Errorf("pads input is missing")
		}
		var err error
		if pads, err = shapeInput(in[1], "pads"); err != nil {
			return nil, err
		}
		if len(in) > 2 && in[2] != nil && in[2].Len() > 0 {
			if in[2].dtype != x.dtype {
				return nil, fmt.Errorf("constant_value is %v, data is %v", in[2].dtype, x.dtype)
			}
			copy(value.bytes(), in[2].bytes()[:x.dtype.Size()])
		}
	}
	axes := make([]int, r)
	for i := range axes {
		axes[i] = i
	}
	if len(in) > 3 && in[3] != nil {
		av, err := shapeInput(in[3], "axes")
		if err != nil {
			return nil, err
		}
		axes = axes[:0]
		for _, a := range av {
			ax, err := normAxis(a, r)
			if err != nil {
				return nil, fmt.Errorf("axes: %w", err)
			}
			axes = append(axes, ax)
		}
	}
	if len(pads) != 2*len(axes) {
		return nil, fmt.Errorf("pads %v has %d entries, want %d (begin and end for each of %d axes)", pads, len(pads), 2*len(axes), len(axes))
	}
	before, after := make([]int64, r), make([]int64, r)
	for i, ax := range axes {
		before[ax], after[ax] = pads[i], pads[len(axes)+i]
	}
	out := make([]int64, r)
	for d := 0; d < r; d++ {
		out[d] = x.shape[d] + before[d] + after[d]
		if out[d] < 0 {
			return nil, fmt.Errorf("pads %v make axis %d negative (%d)", pads, d, out[d])
		}
		if x.shape[d] == 0 && out[d] > 0 && mode != "constant" {
			return nil, fmt.Errorf("mode %s cannot pad the empty axis %d", mode, d)
		}
	}
	// Per-axis source maps, then one pass over the output.
	src := make([][]int64, r)
	for d := 0; d < r; d++ {
		src[d] = make([]int64, out[d])
		for o := range src[d] {
			src[d][o] = padSource(int64(o), before[d], x.shape[d], mode)
		}
	}
	o := mustNew(x.dtype, out)
	if o.Len() == 0 {
		return []*Tensor{o}, nil
	}
	xs := stridesOf(x.shape)
	es := x.dtype.Size()
	db, sb, vb := o.bytes(), x.bytes(), value.bytes()
	if r == 0 {
		copy(db, sb)
		return []*Tensor{o}, nil
	}
	last := r - 1
	rowLen := int(out[last])
	ri := 0
	odometer(out[:last], func(idx []int64) {
		off, inside := int64(0), true
		for d := 0; d < last; d++ {
			s := src[d][idx[d]]
			if s < 0 {
				inside = false
				break
			}
			off += s * xs[d]
		}
		row := db[ri*rowLen*es : (ri+1)*rowLen*es]
		ri++
		if !inside {
			fillBytes(row, vb, es)
			return
		}
		for k, s := range src[last] {
			e := row[k*es : (k+1)*es]
			if s < 0 {
				copy(e, vb)
			} else {
				copy(e, sb[(off+s)*int64(es):])
			}
		}
	})
	return []*Tensor{o}, nil
}
