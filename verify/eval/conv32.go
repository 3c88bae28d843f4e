package eval

import (
	"math"
	"unsafe"
)

// Fast float32 paths of Conv, MatMul and Gemm: im2col + the blocked GEMM
// (gemm.go) for convolutions, a direct loop for depthwise ones, and the
// GEMM for matrix products. Other types and ranks use the float64 loops.

// conv2DGeom is a 2-D convolution's sizes, resolved.
type conv2DGeom struct {
	c, h, w     int // input channels (per group), height, width
	kh, kw      int
	sh, sw      int
	dh, dw      int
	pt, pl      int
	oh, ow      int
	m, mg, grps int // output channels, per group, groups
}

// conv2DFloat32 runs a 2-D float32 convolution whose geometry was
// resolved; it returns false when the case is not covered.
func conv2DFloat32(c *opCtx, x, w, b *Tensor, wg windowGeom, group int64) (*Tensor, bool) {
	xd, wd := x.Float32s(), w.Float32s()
	if xd == nil || wd == nil || x.Rank() != 4 || (b != nil && b.Float32s() == nil) {
		return nil, false
	}
	g := &conv2DGeom{
		c: int(w.shape[1]), h: int(x.shape[2]), w: int(x.shape[3]),
		kh: int(w.shape[2]), kw: int(w.shape[3]),
		sh: int(wg.s[0]), sw: int(wg.s[1]), dh: int(wg.d[0]), dw: int(wg.d[1]),
		pt: int(wg.pb[0]), pl: int(wg.pb[1]), oh: int(wg.out[0]), ow: int(wg.out[1]),
		m: int(w.shape[0]), grps: int(group),
	}
	g.mg = g.m / g.grps
	nb := int(x.shape[0])
	ohw := g.oh * g.ow
	o := c.alloc(Float32, []int64{int64(nb), int64(g.m), int64(g.oh), int64(g.ow)})
	od := o.Float32s()
	var bias []float32
	if b != nil {
		bias = b.Float32s()
	}
	if g.c == 1 && g.mg == 1 && g.pt >= 0 && g.pl >= 0 {
		for i := 0; i < nb*g.m; i++ {
			fillBias(od[i*ohw:][:ohw], bias, i%g.m)
		}
		depthwise2D(xd, wd, bias, od, nb, g) // depthwise32.go
		return o, true
	}
	convGEMM(c, xd, wd, w, bias, od, g, nb)
	return o, true
}

// fillBias sets d to bias[ch], or to zero without a bias.
func fillBias(d, bias []float32, ch int) {
	if bias == nil || math.Float32bits(bias[ch]) == 0 || len(d) == 0 {
		clear(d)
		return
	}
	d[0] = bias[ch]
	for n := 1; n < len(d); n *= 2 {
		copy(d[n:], d[:n])
	}
}

// foldBelow is the output size (pixels per image) below which the images
// of a batch are multiplied side by side in one product: a 2×2 map alone
// would fill 4 of a 16- or 32-wide register tile. foldFloats caps the
// unfolded matrix of such a product.
const (
	foldBelow  = 1024
	foldFloats = 4 << 20
)

// convTaps are the kernel taps a convolution multiplies (indices ky·kw+kx)
// and its weights restricted to them (m × c × len(taps)).
type convTaps struct {
	taps []int
	wd   []float32
}

// liveTaps drops from the product the kernel taps whose every read falls
// in the padding (a dilated 3×3 on a map smaller than the dilation reads
// the image only through its centre): they add exactly zero, unless one
// of their weights is Inf or NaN (0·Inf is NaN, as ONNX Runtime's im2col
// computes), in which case every tap is kept. For an initializer the
// result is kept for the session.
func liveTaps(c *opCtx, w *Tensor, wd []float32, g *conv2DGeom) convTaps {
	ksz := g.kh * g.kw
	// reads reports whether kernel offset k reads the image for some
	// output position along one axis.
	reads := func(k, out, s, p, d, size int) bool {
		for o := 0; o < out; o++ {
			if i := o*s - p + k*d; i >= 0 && i < size {
				return true
			}
		}
		return false
	}
	mask := make([]byte, ksz)
	live := 0
	for ky := 0; ky < g.kh; ky++ {
		ry := reads(ky, g.oh, g.sh, g.pt, g.dh, g.h)
		for kx := 0; kx < g.kw; kx++ {
			if ry && reads(kx, g.ow, g.sw, g.pl, g.dw, g.w) {
				mask[ky*g.kw+kx] = 1
				live++
			}
		}
	}
	all := func() convTaps {
		t := convTaps{taps: make([]int, ksz), wd: wd}
		for i := range t.taps {
			t.taps[i] = i
		}
		return t
	}
	if live == ksz {
		return all()
	}
	build := func() any {
		rows := len(wd) / ksz // output × input channels
		for r := 0; r < rows; r++ {
			for t, m := range mask {
				if v := wd[r*ksz+t]; m == 0 && (math.IsInf(float64(v), 0) || v != v) {
					return all()
				}
			}
		}
		t := convTaps{wd: make([]float32, rows*live)}
		for i, m := range mask {
			if m == 1 {
				t.taps = append(t.taps, i)
			}
		}
		for r := 0; r < rows; r++ {
			for j, i := range t.taps {
				t.wd[r*live+j] = wd[r*ksz+i]
			}
		}
		return t
	}
	return c.derivedWeight(w, tapsKey{unsafe.Pointer(unsafe.SliceData(wd)), string(mask)}, build).(convTaps)
}

// tapsKey identifies a weight restricted to the taps of mask.
type tapsKey struct {
	p    unsafe.Pointer
	mask string
}

// convGEMM computes the convolution into od through im2col and the
// blocked GEMM, per group. The product is W (mg × taps) · col (taps ×
// pixels), or, when that pads the kernel's tiles much more, its transpose
// col^T · W^T.
func convGEMM(c *opCtx, xd, wd []float32, w *Tensor, bias, od []float32, g *conv2DGeom, nb int) {
	ohw := g.oh * g.ow
	ct := liveTaps(c, w, wd, g)
	kdim := g.c * len(ct.taps)
	nf := 1 // images per product
	if ohw < foldBelow {
		nf = max(1, min(nb, foldFloats/max(kdim*ohw, 1)))
	}
	direct := g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 && g.oh == g.h && g.ow == g.w
	var col, tmp []float32
	if !direct {
		// The packed im2col matrix (columns padded to strips).
		strip := max(kern.mr, kern.nr)
		s := getScratch(kdim * ((nf*ohw + strip - 1) / strip * strip))
		defer putScratch(s)
		col = *s
	}
	s := getScratch(g.mg * nf * ohw)
	defer putScratch(s)
	tmp = *s
	for n0 := 0; n0 < nb; n0 += nf {
		for gi := 0; gi < g.grps; gi++ {
			convGroup(c, xd, w, ct, bias, od, col, tmp, g, n0, min(nf, nb-n0), gi, direct)
		}
	}
}

// convGroup computes group gi of images n0..n0+nf-1 (see convGEMM), with
// col and tmp as scratch.
func convGroup(c *opCtx, xd []float32, w *Tensor, ct convTaps, bias, od, col, tmp []float32, g *conv2DGeom, n0, nf, gi int, direct bool) {
	ohw, hw := g.oh*g.ow, g.h*g.w
	cin := g.c * g.grps
	kdim := g.c * len(ct.taps)
	cols := nf * ohw
	trans := tileCost(cols, g.mg) < tileCost(g.mg, cols)*4/5
	// bm (taps × cols): the images' unfolded columns side by side, read in
	// place (image i's block of ohw columns at its own offset).
	bm := rowMajor(xd[(n0*cin+gi*g.c)*hw:], ohw).blocked(ohw, cin*hw)
	// Unfold straight into the GEMM's packed layout: B of the product, or
	// A of the transposed one.
	var preA, preB *packed
	if !direct && trans {
		preA = packIm2col(kern.mr, xd, g, ct.taps, n0, nf, gi, col)
	} else if !direct {
		preB = packIm2col(kern.nr, xd, g, ct.taps, n0, nf, gi, col)
	}
	wm := ct.wd[gi*g.mg*kdim:][:g.mg*kdim]
	// out(ch, i) is output channel ch of image n0+i.
	out := func(ch, i int) []float32 { return od[((n0+i)*g.m+gi*g.mg+ch)*ohw:][:ohw] }
	if trans {
		// tmp (cols × mg) = col^T · W^T, starting from the bias.
		for j := 0; j < cols; j++ {
			row := tmp[j*g.mg:][:g.mg]
			if bias != nil {
				copy(row, bias[gi*g.mg:][:g.mg])
			} else {
				clear(row)
			}
		}
		wv := transposed(wm, kdim)
		at := matView{data: bm.data, rs: 1, cs: bm.rs, blk: bm.blk, bstride: bm.bstride}
		sgemmPacked(cols, g.mg, kdim, at, wv, preA, c.packedWeight(w, wv, kdim, g.mg, false), tmp, g.mg)
		for ch := 0; ch < g.mg; ch++ {
			for i := 0; i < nf; i++ {
				o := out(ch, i)
				t := tmp[i*ohw*g.mg+ch:]
				for j := range o {
					o[j] = t[j*g.mg]
				}
			}
		}
		return
	}
	wv := rowMajor(wm, kdim)
	preA = c.packedWeight(w, wv, g.mg, kdim, true)
	if nf == 1 {
		for ch := 0; ch < g.mg; ch++ {
			fillBias(out(ch, 0), bias, gi*g.mg+ch)
		}
		sgemmPacked(g.mg, ohw, kdim, wv, bm, preA, preB, od[(n0*g.m+gi*g.mg)*ohw:][:g.mg*ohw], ohw)
		return
	}
	for ch := 0; ch < g.mg; ch++ {
		fillBias(tmp[ch*cols:][:cols], bias, gi*g.mg+ch)
	}
	sgemmPacked(g.mg, cols, kdim, wv, bm, preA, preB, tmp, cols)
	for ch := 0; ch < g.mg; ch++ {
		for i := 0; i < nf; i++ {
			copy(out(ch, i), tmp[ch*cols+i*ohw:][:ohw])
		}
	}
}

// packIm2col unfolds images n0..n0+nf-1 of group gi straight into the
// GEMM's packed layout with strips nr wide (what packing their im2col
// matrix as B, or its transpose as A, would give, zero-padded to whole
// strips), into buf, channels in parallel. Only the kernel taps listed in
// taps (indices ky·kw+kx) become rows: row ch·len(taps)+t is tap taps[t]
// of channel ch. Each output row of a tap is written once, as a
// contiguous copy (stride 1) between its zero-filled padding.
func packIm2col(nr int, xd []float32, g *conv2DGeom, taps []int, n0, nf, gi int, buf []float32) *packed {
	ohw, hw := g.oh*g.ow, g.h*g.w
	cin := g.c * g.grps
	nt := len(taps)
	kdim := g.c * nt
	cols := nf * ohw
	p := &packed{pad: (cols + nr - 1) / nr * nr}
	p.data = grow(buf, p.pad*kdim)
	last := p.pad/nr - 1 // the strip holding the padding columns, if any
	parallelFor(g.c, nf*nt*ohw, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			for t, tap := range taps {
				r := ch*nt + t
				p0 := r / gemmKC * gemmKC
				kc := min(gemmKC, kdim-p0)
				// Row r of strip st starts at st·nr·kc in row.
				row := p.data[p0*p.pad+(r-p0)*nr:]
				ky, kx := tap/g.kw, tap%g.kw
				for i := 0; i < nf; i++ {
					plane := xd[((n0+i)*cin+gi*g.c+ch)*hw:][:hw]
					unfoldTap(row, nr, nr*kc, i*ohw, plane, ky, kx, g)
				}
				if cols < p.pad {
					clear(row[last*nr*kc+cols%nr:][:p.pad-cols])
				}
			}
		}
	})
	return p
}

// unfoldTap writes tap (ky, kx) of one image's plane into packed row
// strips (strip st at st·skc in row, nr wide) from column j0 on: the tap's
// input for every output pixel, zero where it reads padding.
func unfoldTap(row []float32, nr, skc, j0 int, plane []float32, ky, kx int, g *conv2DGeom) {
	ow := g.ow
	x0 := kx*g.dw - g.pl
	// Output columns [lo, hi) read inside the image (stride 1).
	lo, hi := 0, 0
	if g.sw == 1 {
		lo = min(max(0, -x0), ow)
		hi = max(min(ow, g.w-x0), lo)
	}
	st, o := j0/nr, j0%nr
	for oy := 0; oy < g.oh; oy, o = oy+1, o+ow {
		for o >= nr {
			o -= nr
			st++
		}
		iy := oy*g.sh - g.pt + ky*g.dh
		if o+ow <= nr {
			// The output row lies in one strip.
			d := row[st*skc+o:][:ow]
			if uint(iy) >= uint(g.h) {
				clear(d)
				continue
			}
			src := plane[iy*g.w:][:g.w]
			if g.sw == 1 {
				clear(d[:lo])
				if hi > lo {
					copyShort(d[lo:hi], src[lo+x0:hi+x0])
				}
				clear(d[hi:])
				continue
			}
			for ox := range d {
				if ix := ox*g.sw + x0; uint(ix) < uint(g.w) {
					d[ox] = src[ix]
				} else {
					d[ox] = 0
				}
			}
			continue
		}
		// The row crosses strips: piece by piece.
		s, q := st, o
		for ox := 0; ox < ow; {
			n := min(ow-ox, nr-q)
			d := row[s*skc+q:][:n]
			switch {
			case uint(iy) >= uint(g.h):
				clear(d)
			case g.sw == 1:
				src := plane[iy*g.w:][:g.w]
				a := min(max(lo, ox), ox+n)
				b := min(max(hi, a), ox+n)
				clear(d[:a-ox])
				if b > a {
					copyShort(d[a-ox:b-ox], src[a+x0:b+x0])
				}
				clear(d[b-ox:])
			default:
				src := plane[iy*g.w:][:g.w]
				for k := range d {
					if ix := (ox+k)*g.sw + x0; uint(ix) < uint(g.w) {
						d[k] = src[ix]
					} else {
						d[k] = 0
					}
				}
			}
			ox += n
			s, q = s+1, 0
		}
	}
}

// tileCost is the work the kernel does on an m×n product, padded to its
// whole register tiles.
func tileCost(m, n int) int {
	return (m + kern.mr - 1) / kern.mr * kern.mr * ((n + kern.nr - 1) / kern.nr * kern.nr)
}

// matmulFloat32 multiplies float32 matrices with the blocked GEMM; a
// broadcast right operand (weights shared by every batch) folds the batch
// into the rows.
func matmulFloat32(c *opCtx, bt *Tensor, a, b, o []float32, ai, bi []int, m, k, n int) {
	shared := true
	for q := range bi {
		if bi[q] != 0 || ai[q] != q {
			shared = false
			break
		}
	}
	if shared {
		rows := len(ai) * m
		bv := rowMajor(b[:k*n], n)
		sgemmPacked(rows, n, k, rowMajor(a[:rows*k], k), bv, nil, c.packedWeight(bt, bv, k, n, false), o, n)
		return
	}
	one := func(q int, serial bool) {
		av, bv, oq := rowMajor(a[ai[q]*m*k:][:m*k], k), rowMajor(b[bi[q]*k*n:][:k*n], n), o[q*m*n:][:m*n]
		if serial {
			sgemmSerial(kern, m, n, k, av, bv, nil, nil, oq, n)
		} else {
			sgemm(m, n, k, av, bv, oq, n)
		}
	}
	if len(ai) > 1 && m*n*k < 4*minChunk {
		// Many small products (attention heads): one per worker at a time
		// rather than each split over the workers.
		parallelFor(len(ai), m*n*k, func(lo, hi int) {
			for q := lo; q < hi; q++ {
				one(q, true)
			}
		})
		return
	}
	for q := range ai {
		one(q, false)
	}
}
