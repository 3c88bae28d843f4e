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
	zero := true
	for d := 0; d < r; d++ {
		zero = zero && before[d] == 0 && after[d] == 0
	}
	if zero {
		return []*Tensor{x}, nil // nothing to pad: the value itself, as Identity
	}
	// Per-axis source maps, then one pass over the output.
	src := make([][]int64, r)
	for d := 0; d < r; d++ {
		src[d] = make([]int64, out[d])
		for o := range src[d] {
			src[d][o] = padSource(int64(o), before[d], x.shape[d], mode)
		}
	}
	o := c.alloc(x.dtype, out)
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
	runs := padRuns(src[last])
	outer := out[:last]
	rows := int(NumElements(outer))
	parallelFor(rows, rowLen, func(lo, hi int) {
		idx := make([]int64, last)
		rem := int64(lo)
		for d := last - 1; d >= 0; d-- {
			idx[d] = rem % outer[d]
			rem /= outer[d]
		}
		for ri := lo; ri < hi; ri++ {
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
			if !inside {
				fillBytes(row, vb, es)
			} else {
				for _, run := range runs {
					seg := row[run.dst*es : (run.dst+run.n)*es]
					if run.src < 0 {
						fillBytes(seg, vb, es)
					} else {
						s0 := (off + int64(run.src)) * int64(es)
						copy(seg, sb[s0:s0+int64(len(seg))])
					}
				}
			}
			for d := last - 1; d >= 0; d-- {
				if idx[d]++; idx[d] < outer[d] {
					break
				}
				idx[d] = 0
			}
		}
	})
	return []*Tensor{o}, nil
}

// padRun is a stretch of an output row along the last axis: n elements
// from dst on copy source elements src, src+1, ... (src -1: the constant).
type padRun struct{ dst, n, src int }

// padRuns cuts one axis' source map into runs of consecutive sources.
func padRuns(src []int64) []padRun {
	var runs []padRun
	for k, s := range src {
		if l := len(runs) - 1; l >= 0 {
			r := &runs[l]
			if (s < 0 && r.src < 0) || (s >= 0 && r.src >= 0 && int(s) == r.src+r.n) {
				r.n++
				continue
			}
		}
		runs = append(runs, padRun{dst: k, n: 1, src: int(s)})
	}
	return runs
}
