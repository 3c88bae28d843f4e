package eval

import (
	"fmt"
	"math"
)

func init() {
	register("conv", true, map[string]opFunc{
		"Conv":              opConv,
		"MaxPool":           poolOp(true),
		"AveragePool":       poolOp(false),
		"GlobalAveragePool": globalPoolOp(false),
		"GlobalMaxPool":     globalPoolOp(true),
	})
}

// windowGeom is the per-spatial-dim geometry of a sliding window op.
type windowGeom struct {
	in, k, s, d, pb, pe, out []int64
}

// spatialInts returns the ints attribute name with one entry per spatial
// dim (n of them), every entry def when the attribute is absent or empty.
func (c *opCtx) spatialInts(name string, n int, def int64) ([]int64, error) {
	v, ok := c.attrInts(name)
	if !ok || len(v) == 0 {
		v = make([]int64, n)
		for i := range v {
			v[i] = def
		}
		return v, nil
	}
	if len(v) != n {
		return nil, fmt.Errorf("%s %v has %d entries for %d spatial dims", name, v, len(v), n)
	}
	return v, nil
}

// geometry resolves kernel, strides, dilations, pads and auto_pad into output sizes.
func geometry(c *opCtx, in, kernel []int64, ceilMode bool) (windowGeom, error) {
	n := len(in)
	g := windowGeom{in: in, k: kernel}
	var err error
	if g.s, err = c.spatialInts("strides", n, 1); err != nil {
		return g, err
	}
	if g.d, err = c.spatialInts("dilations", n, 1); err != nil {
		return g, err
	}
	pads, ok := c.attrInts("pads")
	if !ok || len(pads) == 0 {
		pads = make([]int64, 2*n)
	}
	if len(pads) != 2*n {
		return g, fmt.Errorf("pads %v has %d entries for %d spatial dims", pads, len(pads), n)
	}
	g.pb, g.pe = append([]int64{}, pads[:n]...), append([]int64{}, pads[n:]...)
	g.out = make([]int64, n)
	autoPad := c.attrString("auto_pad", "NOTSET")
	for i := 0; i < n; i++ {
		if g.s[i] <= 0 || g.d[i] <= 0 || g.k[i] <= 0 {
			return g, fmt.Errorf("kernel, strides and dilations must be positive")
		}
		ek := (g.k[i]-1)*g.d[i] + 1
		switch autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			o := (in[i] + g.s[i] - 1) / g.s[i]
			total := max(0, (o-1)*g.s[i]+ek-in[i])
			if autoPad == "SAME_UPPER" {
				g.pb[i] = total / 2
			} else {
				g.pb[i] = total - total/2
			}
			g.pe[i] = total - g.pb[i]
			g.out[i] = o
		case "VALID":
			g.pb[i], g.pe[i] = 0, 0
			g.out[i] = (in[i]-ek)/g.s[i] + 1
		case "NOTSET", "":
			span := in[i] + g.pb[i] + g.pe[i] - ek
			if ceilMode {
				o := (span+g.s[i]-1)/g.s[i] + 1
				if (o-1)*g.s[i] >= in[i]+g.pb[i] {
					o--
				}
				g.out[i] = o
			} else {
				g.out[i] = span/g.s[i] + 1
			}
		default:
			return g, fmt.Errorf("unknown auto_pad %q", autoPad)
		}
		if g.out[i] < 0 {
			g.out[i] = 0
		}
	}
	return g, nil
}

// odometer iterates all index tuples of shape, calling f with the tuple.
func odometer(shape []int64, f func(idx []int64)) {
	if NumElements(shape) == 0 {
		return
	}
	idx := make([]int64, len(shape))
	for {
		f(idx)
		d := len(shape) - 1
		for ; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

func opConv(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 3); err != nil {
		return nil, err
	}
	x, w := in[0], in[1]
	if x.Rank() < 3 || w.Rank() != x.Rank() {
		return nil, fmt.Errorf("X %v and W %v must be (N, C, ...) and (M, C/group, ...)", x.shape, w.shape)
	}
	group := c.attrInt("group", 1)
	nb, ch := x.shape[0], x.shape[1]
	m, cg := w.shape[0], w.shape[1]
	if group <= 0 || ch != cg*group || m%group != 0 {
		return nil, fmt.Errorf("X %v, W %v and group %d do not agree", x.shape, w.shape, group)
	}
	kernel := w.shape[2:]
	if ks, ok := c.attrInts("kernel_shape"); ok && !shapeEq(ks, kernel) {
		return nil, fmt.Errorf("kernel_shape %v does not match W %v", ks, w.shape)
	}
	g, err := geometry(c, x.shape[2:], kernel, false)
	if err != nil {
		return nil, err
	}
	var bias []float64
	var bT *Tensor
	if len(in) > 2 && in[2] != nil {
		if in[2].Len() != int(m) {
			return nil, fmt.Errorf("B has shape %v, want [%d]", in[2].shape, m)
		}
		bias = in[2].AsFloat64()
		bT = in[2]
	}
	if o, ok := conv2DFloat32(c, x, w, bT, g, group); ok {
		return []*Tensor{o}, nil
	}
	xd, wd := x.AsFloat64(), w.AsFloat64()
	oshape := append([]int64{nb, m}, g.out...)
	o := mustNew(x.dtype, oshape)
	sp := len(kernel)
	xs := stridesOf(x.shape)
	ksz := int(NumElements(kernel))
	osz := int(NumElements(g.out))
	// Kernel tap offsets per spatial dim.
	taps := make([][]int64, 0, ksz)
	odometer(kernel, func(k []int64) { taps = append(taps, append([]int64{}, k...)) })
	mPerG := m / group
	mustFit(Float64, nb*m, NumElements(g.out))
	res := make([]float64, int(nb*m)*osz)
	parallelFor(int(nb*m), int(cg)*ksz*osz, func(lo, hi int) {
		pos := make([]int64, sp)
		for q := lo; q < hi; q++ {
			ni, mi := int64(q)/m, int64(q)%m
			gi := mi / mPerG
			oi := 0
			odometer(g.out, func(op []int64) {
				s := 0.0
				if bias != nil {
					s = bias[mi]
				}
				for ti, t := range taps {
					off := ni * xs[0]
					ok := true
					for d := 0; d < sp; d++ {
						pos[d] = op[d]*g.s[d] - g.pb[d] + t[d]*g.d[d]
						if pos[d] < 0 || pos[d] >= g.in[d] {
							ok = false
							break
						}
						off += pos[d] * xs[2+d]
					}
					if !ok {
						continue
					}
					for cc := int64(0); cc < cg; cc++ {
						xv := xd[off+(gi*cg+cc)*xs[1]]
						s += xv * wd[(mi*cg+cc)*int64(ksz)+int64(ti)]
					}
				}
				res[q*osz+oi] = s
				oi++
			})
		}
	})
	for i, v := range res {
		o.setF64(i, v)
	}
	return []*Tensor{o}, nil
}

// poolInput checks the one (N, C, ...) input of a pooling op and its
// kernel_shape, and resolves the window geometry (ceil_mode included).
func poolInput(c *opCtx, in []*Tensor) (x *Tensor, kernel []int64, g windowGeom, err error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, nil, g, err
	}
	x = in[0]
	if x.Rank() < 3 {
		return nil, nil, g, fmt.Errorf("X must be (N, C, ...), has shape %v", x.shape)
	}
	kernel, ok := c.attrInts("kernel_shape")
	if !ok || len(kernel) != x.Rank()-2 {
		return nil, nil, g, fmt.Errorf("kernel_shape %v does not match input %v", kernel, x.shape)
	}
	g, err = geometry(c, x.shape[2:], kernel, c.attrInt("ceil_mode", 0) != 0)
	if err != nil {
		return nil, nil, g, err
	}
	return x, kernel, g, nil
}

func poolOp(isMax bool) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		x, kernel, g, err := poolInput(c, in)
		if err != nil {
			return nil, err
		}
		includePad := c.attrInt("count_include_pad", 0) != 0
		if !isMax || c.nOut < 2 || !c.want[1] {
			if o, ok := pool2DFloat32(c, x, g, isMax, includePad); ok { // pool32.go
				return []*Tensor{o, nil}, nil
			}
		}
		colMajor := c.attrInt("storage_order", 0) != 0
		nc := int(x.shape[0] * x.shape[1])
		sp := len(kernel)
		isz := int(NumElements(g.in))
		osz := int(NumElements(g.out))
		oshape := append([]int64{x.shape[0], x.shape[1]}, g.out...)
		o := mustNew(x.dtype, oshape)
		var idxOut *Tensor
		if isMax && c.nOut > 1 && c.want[1] {
			idxOut = mustNew(Int64, oshape)
		}
		xd := x.AsFloat64()
		mustFit(Float64, int64(nc), NumElements(g.out))
		res := make([]float64, nc*osz)
		ins := stridesOf(g.in)
		// column-major strides for storage_order=1
		cms := make([]int64, sp)
		acc := int64(1)
		for d := 0; d < sp; d++ {
			cms[d] = acc
			acc *= g.in[d]
		}
		taps := [][]int64{}
		odometer(kernel, func(k []int64) { taps = append(taps, append([]int64{}, k...)) })
		pos := make([]int64, sp)
		for q := 0; q < nc; q++ {
			base := q * isz
			oi := 0
			odometer(g.out, func(op []int64) {
				best, bestIdx := math.Inf(-1), int64(-1)
				sum, cnt, padCnt := 0.0, 0, 1
				if !isMax && includePad {
					for d := 0; d < sp; d++ {
						st := op[d]*g.s[d] - g.pb[d]
						en := min(st+(kernel[d]-1)*g.d[d]+1, g.in[d]+g.pe[d])
						padCnt *= int((en - st + g.d[d] - 1) / g.d[d])
					}
				}
				for _, t := range taps {
					off, coff := int64(0), int64(0)
					ok := true
					for d := 0; d < sp; d++ {
						pos[d] = op[d]*g.s[d] - g.pb[d] + t[d]*g.d[d]
						if pos[d] < 0 || pos[d] >= g.in[d] {
							ok = false
							break
						}
						off += pos[d] * ins[d]
						coff += pos[d] * cms[d]
					}
					if !ok {
						continue
					}
					v := xd[base+int(off)]
					if isMax {
						if v > best || bestIdx < 0 {
							best = v
							if colMajor {
								bestIdx = int64(base) + coff
							} else {
								bestIdx = int64(base) + off
							}
						}
					} else {
						sum += v
						cnt++
					}
				}
				if isMax {
					res[q*osz+oi] = best
					if idxOut != nil {
						idxOut.data.([]int64)[q*osz+oi] = bestIdx
					}
				} else if includePad {
					res[q*osz+oi] = sum / float64(padCnt)
				} else {
					res[q*osz+oi] = sum / float64(cnt)
				}
				oi++
			})
		}
		for i, v := range res {
			o.setF64(i, v)
		}
		return []*Tensor{o, idxOut}, nil
	}
}

func globalPoolOp(isMax bool) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		if err := needInputs(in, 1, 1); err != nil {
			return nil, err
		}
		x := in[0]
		if x.Rank() < 2 {
			return nil, fmt.Errorf("X must be (N, C, ...), has shape %v", x.shape)
		}
		axes := []int64{}
		for d := 2; d < x.Rank(); d++ {
			axes = append(axes, int64(d))
		}
		if !isMax && x.Float32s() != nil && x.Rank() > 2 {
			return []*Tensor{globalAveragePool32(c, x)}, nil // pool32.go
		}
		name := "ReduceMean"
		if isMax {
			name = "ReduceMax"
		}
		if len(axes) == 0 {
			return []*Tensor{x}, nil
		}
		o, err := reduceTensor(name, x, axes, true, false)
		return []*Tensor{o}, err
	}
}
