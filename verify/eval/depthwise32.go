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
}

// newWindowPlan resolves the prepared-plane layout of a window op; oh and
// ow must be positive.
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
	}
	return p
}

// size is the length of a prepared plane.
func (p *windowPlan) size() int { return p.hp * p.rowLen }

// xstep is the prepared-plane distance between two output rows.
func (p *windowPlan) xstep() int { return p.sh * p.rowLen }

// prepare copies the plane x (h×w) into dst (p.size()), pad everywhere
// outside the input.
func (p *windowPlan) prepare(dst, x []float32, pad float32) {
	for r := 0; r < p.hp; r++ {
		row := dst[r*p.rowLen : (r+1)*p.rowLen]
		iy := r - p.pt
		if iy < 0 || iy >= p.h {
			for i := range row {
				row[i] = pad
			}
			continue
		}
		src := x[iy*p.w : (iy+1)*p.w]
		if p.sw == 1 {
			lo := min(p.pl, len(row))
			hi := min(p.pl+p.w, len(row))
			for i := range row[:lo] {
				row[i] = pad
			}
			copy(row[lo:hi], src)
			for i := range row[hi:] {
				row[hi+i] = pad
			}
			continue
		}
		for ph := 0; ph < p.sw; ph++ {
			dst := row[ph*p.pw : (ph+1)*p.pw]
			ix := ph - p.pl
			for i := range dst {
				if ix >= 0 && ix < p.w {
					dst[i] = src[ix]
				} else {
					dst[i] = pad
				}
				ix += p.sw
			}
		}
	}
}

// weighted sets o (oh rows of ow at a row stride of ostride) to bias + Σ
// w[t]·tap t over the prepared plane.
func (p *windowPlan) weighted(o []float32, ostride int, plane, w []float32, bias float32) {
	if haveAVX2 {
		_ = o[(p.oh-1)*ostride+p.ow-1]
		_ = plane[(p.oh-1)*p.xstep()+p.ow-1+p.offs[len(p.offs)-1]]
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
		_ = plane[(p.oh-1)*p.xstep()+p.ow-1+p.offs[len(p.offs)-1]]
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
	n := 0
	if haveAVX2 {
		n = len(o) &^ 7
		if n > 0 {
			scaleShiftAVX2(o[:n], x[:n], a, b)
		}
	}
	for i := n; i < len(o); i++ {
		o[i] = x[i]*a + b
	}
}

// depthwise2D computes a depthwise convolution (one input and one output
// channel per group) of nb images: od (nb×m×oh×ow) = bias + the kernels
// of wd slid over the planes of xd.
func depthwise2D(xd, wd, bias, od []float32, nb int, g *conv2DGeom) {
	ohw, hw, ksz := g.oh*g.ow, g.h*g.w, g.kh*g.kw
	if ohw == 0 {
		return
	}
	p := newWindowPlan(g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.oh, g.ow)
	parallelFor(nb*g.m, ohw*ksz, func(lo, hi int) {
		buf := make([]float32, p.size())
		for q := lo; q < hi; q++ {
			ch := q % g.m
			b := float32(0)
			if bias != nil {
				b = bias[ch]
			}
			p.prepare(buf, xd[q*hw:][:hw], 0)
			p.weighted(od[q*ohw:][:ohw], g.ow, buf, wd[ch*ksz:][:ksz], b)
		}
	})
}
