package eval

import "math"

// Fast float32 2-D MaxPool and AveragePool on the window kernels of
// depthwise32.go. Other types, ranks and MaxPool's Indices output use
// poolOp's generic loop.

// pool2DFloat32 pools a float32 (N, C, H, W) tensor whose window geometry
// was resolved; it returns false when the case is not covered.
func pool2DFloat32(c *opCtx, x *Tensor, g windowGeom, isMax, includePad bool) (*Tensor, bool) {
	xd := x.Float32s()
	if xd == nil || x.Rank() != 4 || g.pb[0] < 0 || g.pb[1] < 0 {
		return nil, false
	}
	nc := int(x.shape[0] * x.shape[1])
	h, w := int(g.in[0]), int(g.in[1])
	oh, ow := int(g.out[0]), int(g.out[1])
	o := c.alloc(Float32, []int64{x.shape[0], x.shape[1], int64(oh), int64(ow)})
	if oh == 0 || ow == 0 || nc == 0 {
		return o, true
	}
	od := o.Float32s()
	kh, kw, sh, sw := int(g.k[0]), int(g.k[1]), int(g.s[0]), int(g.s[1])
	dh, dw, pt, pl := int(g.d[0]), int(g.d[1]), int(g.pb[0]), int(g.pb[1])
	p := newWindowPlan(h, w, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow)
	hw, ohw := h*w, oh*ow
	if isMax {
		// Outputs whose window lies inside the input come from the kernel;
		// the frame of the others is redone with the generic loop's rule
		// (the first tap inside the input, then each later v > it), so
		// that padding never takes part, NaN and -Inf included.
		y0, y1 := interior(oh, h, kh, sh, dh, pt)
		x0, x1 := interior(ow, w, kw, sw, dw, pl)
		parallelFor(nc, ohw*kh*kw, func(lo, hi int) {
			buf := p.newPlane(float32(math.Inf(-1)))
			for q := lo; q < hi; q++ {
				src, dst := xd[q*hw:][:hw], od[q*ohw:][:ohw]
				p.prepare(buf, src)
				p.maxOf(dst, ow, buf)
				for oy := 0; oy < oh; oy++ {
					if oy >= y0 && oy < y1 {
						for ox := 0; ox < min(x0, ow); ox++ {
							dst[oy*ow+ox] = p.maxAt(src, oy, ox)
						}
						for ox := max(x1, x0); ox < ow; ox++ {
							dst[oy*ow+ox] = p.maxAt(src, oy, ox)
						}
						continue
					}
					for ox := 0; ox < ow; ox++ {
						dst[oy*ow+ox] = p.maxAt(src, oy, ox)
					}
				}
			}
		})
		return o, true
	}
	// AveragePool: the sum of the taps (padding is zeros), divided by the
	// tap count, which is a product of a row and a column count.
	cy := poolCounts(oh, h, kh, sh, dh, pt, int(g.pe[0]), includePad)
	cx := poolCounts(ow, w, kw, sw, dw, pl, int(g.pe[1]), includePad)
	if dg := (&conv2DGeom{c: 1, h: h, w: w, kh: kh, kw: kw, sh: sh, sw: sw, dh: dh, dw: dw, pt: pt, pl: pl,
		oh: oh, ow: ow, m: nc, mg: 1, grps: nc}); depthwiseByChannels(dg) && hw <= dwPoolChannelsMaxIn {
		// Planes up to 8×8: the sums as a depthwise convolution by ones of
		// the nc planes side by side (depthwise_nhwc.go), the same adds in
		// the same order as the plane kernel's. BenchmarkWindowPool has it
		// 1.3× (8×8) to 2× (4×4) the planes' way, and behind on 16×16.
		depthwiseChannels(nil, nil, xd, onesF32(nc*kh*kw), nil, od, 1, dg)
		parallelFor(nc, ohw, func(lo, hi int) {
			for q := lo; q < hi; q++ {
				divideByCounts(od[q*ohw:][:ohw], ow, cy, cx)
			}
		})
		return o, true
	}
	ones := onesF32(kh * kw)
	parallelFor(nc, ohw*kh*kw, func(lo, hi int) {
		buf := p.newPlane(0)
		for q := lo; q < hi; q++ {
			dst := od[q*ohw:][:ohw]
			p.prepare(buf, xd[q*hw:][:hw])
			p.weighted(dst, ow, buf, ones, 0)
			divideByCounts(dst, ow, cy, cx)
		}
	})
	return o, true
}

// divideByCounts divides AveragePool's sums (a plane of rows of ow) by
// their tap counts, cy[oy]·cx[ox] (poolCounts).
func divideByCounts(plane []float32, ow int, cy, cx []int) {
	for oy := range cy {
		row := plane[oy*ow : (oy+1)*ow]
		for ox := range row {
			row[ox] /= float32(cy[oy] * cx[ox])
		}
	}
}

// onesF32 returns n float32 ones: the weights that make a window's
// weighted sum its plain sum.
func onesF32(n int) []float32 {
	ones := make([]float32, n)
	for i := range ones {
		ones[i] = 1
	}
	return ones
}

// dwPoolChannelsMaxIn is the input-plane size up to which AveragePool
// runs channel-minor (see pool2DFloat32).
var dwPoolChannelsMaxIn = 64

// interior returns the range [lo, hi) of outputs (along one dim of n)
// whose window of k taps lies inside an input of size in.
func interior(n, in, k, s, d, pb int) (lo, hi int) {
	lo = (pb + s - 1) / s
	last := in - 1 - (k-1)*d + pb // o·s must not exceed it
	if last < 0 {
		return 0, 0
	}
	hi = min(n, last/s+1)
	if hi < lo {
		return 0, 0
	}
	return lo, hi
}

// poolCounts is AveragePool's divisor along one dim: the taps inside the
// input, or with count_include_pad the taps inside input and pads (not
// the ceil_mode overhang beyond the end pad).
func poolCounts(n, in, k, s, d, pb, pe int, includePad bool) []int {
	cnt := make([]int, n)
	for o := range cnt {
		st := o*s - pb
		if includePad {
			en := min(st+(k-1)*d+1, in+pe)
			cnt[o] = (en - st + d - 1) / d
			continue
		}
		for t := 0; t < k; t++ {
			if i := st + t*d; i >= 0 && i < in {
				cnt[o]++
			}
		}
	}
	return cnt
}

// maxAt is MaxPool's output (oy, ox) over the plane x, by the generic
// loop's rule: -Inf when no tap is inside the input.
func (p *windowPlan) maxAt(x []float32, oy, ox int) float32 {
	best, first := float32(math.Inf(-1)), true
	for ky := 0; ky < p.kh; ky++ {
		iy := oy*p.sh - p.pt + ky*p.dh
		if iy < 0 || iy >= p.h {
			continue
		}
		for kx := 0; kx < p.kw; kx++ {
			ix := ox*p.sw - p.pl + kx*p.dw
			if ix < 0 || ix >= p.w {
				continue
			}
			if v := x[iy*p.w+ix]; first || v > best {
				best, first = v, false
			}
		}
	}
	return best
}

// globalAveragePool32 is GlobalAveragePool of a float32 (N, C, ...)
// tensor: each channel's plane summed in float64 and scaled by 1/size,
// as ReduceMean over the spatial axes computes it, into a buffer of the
// run. Planes below 16 values (the 2×2 and 3×3 maps of a network's last
// stages) are summed by the four-chain loop, whose set-up costs less than
// the vector loop's on so few values.
func globalAveragePool32(c *opCtx, x *Tensor) *Tensor {
	shape := make([]int64, x.Rank())
	shape[0], shape[1] = x.shape[0], x.shape[1]
	for d := 2; d < len(shape); d++ {
		shape[d] = 1
	}
	o := c.alloc(Float32, shape)
	xd, od := x.Float32s(), o.Float32s()
	if len(od) == 0 {
		return o
	}
	r := len(xd) / len(od)
	scale := 1 / float64(r)
	if r == 0 {
		scale = math.NaN() // ReduceMean of no values: 0/0
	}
	parallelFor(len(od), r, func(lo, hi int) {
		sum := sumF32
		if r < 16 {
			sum = sumF32Chains
		}
		for i := lo; i < hi; i++ {
			od[i] = float32(sum(xd[i*r:(i+1)*r]) * scale)
		}
	})
	return o
}
