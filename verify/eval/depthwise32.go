package eval

// Sliding windows over one float32 plane, for depthwise convolution and
// 2-D pooling. The plane is first copied into a padded buffer whose rows
// hold the columns split by phase (column c at (c mod sw)·pw + c/sw), so
// that every tap of every output row reads a contiguous run of columns at
// a fixed offset: the kernels (AVX2 + FMA in depthwise32_amd64.s, a Go
// loop elsewhere) are then one vector load and FMA (or max) per tap and 8
// output columns, with no bounds checks, for any stride and dilation.

// windowPlan is a 2-D window's geometry on the prepared plane.
type windowPlan struct {
	h, w           int // input plane
	kh, kw         int
	sh, sw, dh, dw int
	pt, pl         int
	oh, ow         int
	hp, pw, rowLen int   // prepared rows, columns per phase, row length (sw·pw)
	offs           []int // element offset of each tap (ky-major) from the output's position
	offsB          []int // the same in bytes, for the assembly kernels
	maxOff         int   // the largest of offs
}

// newWindowPlan resolves the prepared-plane layout of a window op; oh and
// ow must be positive, pads not negative.
func newWindowPlan(h, w, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow int) *windowPlan {
	p := &windowPlan{h: h, w: w, kh: kh, kw: kw, sh: sh, sw: sw, dh: dh, dw: dw, pt: pt, pl: pl, oh: oh, ow: ow}
	// The rows and columns the windows reach (pads and ceil_mode overhang included).
	p.hp = (oh-1)*sh + (kh-1)*dh + 1
	wp := (ow-1)*sw + (kw-1)*dw + 1
	p.pw = (wp + sw - 1) / sw
	p.rowLen = sw * p.pw
	p.offs = make([]int, 0, kh*kw)
	for ky := 0; ky < kh; ky++ {
		for kx := 0; kx < kw; kx++ {
			e := kx * dw
			p.offs = append(p.offs, ky*dh*p.rowLen+(e%sw)*p.pw+e/sw)
		}
	}
	p.offsB = make([]int, len(p.offs))
	for i, o := range p.offs {
		p.offsB[i] = 4 * o
		p.maxOff = max(p.maxOff, o)
	}
	return p
}

// size is the length of a prepared plane.
func (p *windowPlan) size() int { return p.hp * p.rowLen }

// xstep is the prepared-plane distance between two output rows.
func (p *windowPlan) xstep() int { return p.sh * p.rowLen }

// newPlane returns a prepared-plane buffer with pad everywhere; prepare
// then writes only the input's positions, which are the same for every
// plane of the geometry, so one buffer serves many planes.
func (p *windowPlan) newPlane(pad float32) []float32 {
	buf := make([]float32, p.size())
	if pad != 0 {
		for i := range buf {
			buf[i] = pad
		}
	}
	return buf
}

// prepare copies the plane x (h×w) into its positions of dst, a buffer
// from newPlane.
func (p *windowPlan) prepare(dst, x []float32) {
	r0, r1 := max(0, p.pt), min(p.hp, p.pt+p.h) // prepared rows holding input rows
	if p.sw == 1 {
		lo, hi := min(p.pl, p.rowLen), min(p.pl+p.w, p.rowLen)
		for r := r0; r < r1; r++ {
			iy := r - p.pt
			copy(dst[r*p.rowLen+lo:r*p.rowLen+hi], x[iy*p.w:iy*p.w+hi-lo])
		}
		return
	}
	for ph := 0; ph < p.sw; ph++ {
		// Phase ph holds input columns ix = ph − pl + i·sw, i < pw.
		x0 := ph - p.pl
		lo := 0
		if x0 < 0 {
			lo = min((-x0+p.sw-1)/p.sw, p.pw)
		}
		hi := lo
		if last := p.w - 1 - x0; last >= 0 {
			hi = max(lo, min(p.pw, last/p.sw+1))
		}
		if hi == lo {
			continue
		}
		if p.sw == 2 && haveAVX2 && r1 > r0 {
			n := hi - lo
			d0, s0 := r0*p.rowLen+ph*p.pw+lo, (r0-p.pt)*p.w+x0+lo*2
			_ = dst[d0+(r1-r0-1)*p.rowLen+n-1]
			_ = x[s0+(r1-r0-1)*p.w+2*(n-1)]
			gather2RowsAVX2(&dst[d0], 4*p.rowLen, &x[s0], 4*p.w, r1-r0, n)
			continue
		}
		for r := r0; r < r1; r++ {
			iy := r - p.pt
			d := dst[r*p.rowLen+ph*p.pw:][lo:hi]
			s := x[iy*p.w+x0+lo*p.sw:][:(hi-lo-1)*p.sw+1]
			for i := range d {
				d[i] = s[i*p.sw]
			}
		}
	}
}

// weighted sets o (oh rows of ow at a row stride of ostride) to bias + Σ
// w[t]·tap t over the prepared plane.
func (p *windowPlan) weighted(o []float32, ostride int, plane, w []float32, bias float32) {
	if haveAVX2 {
		_ = o[(p.oh-1)*ostride+p.ow-1]
		_ = plane[(p.oh-1)*p.xstep()+p.ow-1+p.maxOff]
		_ = w[len(p.offs)-1]
		dwPlaneAVX2(&o[0], p.ow, p.oh, 4*ostride, &plane[0], 4*p.xstep(), &p.offsB[0], &w[0], len(p.offs), bias)
		return
	}
	weightedGo(o, p.ow, p.oh, ostride, plane, p.xstep(), p.offs, w, bias)
}

// maxOf sets o to the running maximum of the taps over the prepared plane,
// in tap order: the first tap's value, replaced by each later v > it.
func (p *windowPlan) maxOf(o []float32, ostride int, plane []float32) {
	if haveAVX2 {
		_ = o[(p.oh-1)*ostride+p.ow-1]
		_ = plane[(p.oh-1)*p.xstep()+p.ow-1+p.maxOff]
		maxPlaneAVX2(&o[0], p.ow, p.oh, 4*ostride, &plane[0], 4*p.xstep(), &p.offsB[0], len(p.offs))
		return
	}
	maxGo(o, p.ow, p.oh, ostride, plane, p.xstep(), p.offs)
}

// weightedGo is the portable form of dwPlaneAVX2.
func weightedGo(o []float32, ow, oh, ostride int, x []float32, xstep int, offs []int, w []float32, bias float32) {
	for oy := 0; oy < oh; oy++ {
		row := o[oy*ostride : oy*ostride+ow]
		for i := range row {
			row[i] = bias
		}
		for t, off := range offs {
			wv := w[t]
			src := x[oy*xstep+off:][:ow]
			for i, v := range src {
				row[i] += wv * v
			}
		}
	}
}

// maxGo is the portable form of maxPlaneAVX2.
func maxGo(o []float32, ow, oh, ostride int, x []float32, xstep int, offs []int) {
	for oy := 0; oy < oh; oy++ {
		row := o[oy*ostride : oy*ostride+ow]
		copy(row, x[oy*xstep+offs[0]:][:ow])
		for _, off := range offs[1:] {
			src := x[oy*xstep+off:][:ow]
			for i, v := range src {
				if v > row[i] {
					row[i] = v
				}
			}
		}
	}
}

// scaleShift sets o[i] = x[i]·a + b.
func scaleShift(o, x []float32, a, b float32) {
	x = x[:len(o)]
	for i := avx2Prefix(haveAVX2, len(o), func(n int) { scaleShiftAVX2(o[:n], x[:n], a, b) }); i < len(o); i++ {
		o[i] = x[i]*a + b
	}
}

// depthwise2D computes a depthwise convolution (one input and one output
// channel per group) of nb images: od (nb×m×oh×ow) = bias + the kernels
// of wd (the data of w) slid over the planes of xd. c (which may be nil)
// keeps the session's forms of weight initializers.
func depthwise2D(c *opCtx, w *Tensor, xd, wd, bias, od []float32, nb int, g *conv2DGeom) {
	ohw, hw, ksz := g.oh*g.ow, g.h*g.w, g.kh*g.kw
	if ohw == 0 {
		return
	}
	if depthwiseByChannels(g) {
		depthwiseChannels(c, w, xd, wd, bias, od, nb, g) // depthwise_nhwc.go
		return
	}
	p := newWindowPlan(g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.oh, g.ow)
	parallelFor(nb*g.m, ohw*ksz, func(lo, hi int) {
		buf := p.newPlane(0)
		for q := lo; q < hi; q++ {
			ch := q % g.m
			b := float32(0)
			if bias != nil {
				b = bias[ch]
			}
			p.prepare(buf, xd[q*hw:][:hw])
			p.weighted(od[q*ohw:][:ohw], g.ow, buf, wd[ch*ksz:][:ksz], b)
		}
	})
}
