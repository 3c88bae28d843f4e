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
	o := c.alloc(Float32, []int64{int64(nb), int64(g.m), int64(g.oh), int64(g.ow)})
	od := o.Float32s()
	var bias []float32
	if b != nil {
		bias = b.Float32s()
	}
	if g.c == 1 && g.mg == 1 && g.pt >= 0 && g.pl >= 0 {
		depthwise2D(c, w, xd, wd, bias, od, nb, g) // depthwise32.go: sets every output
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
	if !direct {
		// Unfolding into 14-wide A strips (output rows cross them) costs
		// more per element than into 32-wide B strips: transpose only when
		// the tiles saved outweigh that (BenchmarkConvSmallM, densenet's
		// 32-filter 3×3s).
		trans = tileCost(g.mg, cols)-tileCost(cols, g.mg) > transUnfoldCost*cols
	}
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
// strips), into buf. Only the kernel taps listed in taps (indices
// ky·kw+kx) become rows: row ch·len(taps)+t is tap taps[t] of channel ch.
// Strips are filled one after another (in parallel), each row of a strip
// in turn, so the writes run through memory in order; a strip row is a
// few contiguous copies (one per output row it holds) from the channel
// planes padded with zeros, or, when padding them would cost more than
// the unfold (dilated kernels on small maps), copies between zero fills.
func packIm2col(nr int, xd []float32, g *conv2DGeom, taps []int, n0, nf, gi int, buf []float32) *packed {
	ohw, hw := g.oh*g.ow, g.h*g.w
	cin := g.c * g.grps
	nt := len(taps)
	kdim := g.c * nt
	cols := nf * ohw
	p := &packed{pad: (cols + nr - 1) / nr * nr}
	p.data = grow(buf, p.pad*kdim)
	// The padded planes span every position a tap reads; plane (ch, i)
	// is at (ch·nf + i)·pps.
	ph, pw := (g.oh-1)*g.sh+(g.kh-1)*g.dh+1, (g.ow-1)*g.sw+(g.kw-1)*g.dw+1
	pps := ph * pw
	padded := g.pt >= 0 && g.pl >= 0 && pps <= nt*ohw
	var pp []float32
	if padded {
		s := getScratch(g.c * nf * pps)
		defer putScratch(s)
		pp = *s
		parallelFor(g.c*nf, pps, func(lo, hi int) {
			for q := lo; q < hi; q++ {
				ch, i := q/nf, q%nf
				padPlane(pp[q*pps:][:pps], ph, pw, xd[((n0+i)*cin+gi*g.c+ch)*hw:][:hw], g)
			}
		})
	}
	// tapOff[t] is where tap t's reads start in a padded plane.
	tapOff := make([]int, nt)
	for t, tap := range taps {
		tapOff[t] = tap/g.kw*g.dh*pw + tap%g.kw*g.dw
	}
	parallelFor(p.pad/nr, kdim*nr, func(lo, hi int) {
		// A strip's columns as runs within one output row of one image.
		type piece struct{ d, n, i, oy, ox, off int }
		var pcs [maxStrip]piece
		for st := lo; st < hi; st++ {
			np := 0
			j1 := min(st*nr+nr, cols)
			for j := st * nr; j < j1; {
				i, pix := j/ohw, j%ohw
				oy, ox := pix/g.ow, pix%g.ow
				n := min(g.ow-ox, j1-j)
				pcs[np] = piece{d: j - st*nr, n: n, i: i, oy: oy, ox: ox, off: i*pps + oy*g.sh*pw + ox*g.sw}
				np++
				j += n
			}
			width := j1 - st*nr
			uni := pcs[0].n // the pieces' common width, or 0
			for _, pc := range pcs[1:np] {
				if pc.n != uni {
					uni = 0
				}
			}
			r, p0, kc, next, dbase := 0, 0, 0, 0, 0
			for ch := 0; ch < g.c; ch++ {
				for t := 0; t < nt; t, r = t+1, r+1 {
					if r == next {
						// A new K block: its strips are kc rows long.
						p0, kc, next = r, min(gemmKC, kdim-r), r+gemmKC
						dbase = p0*p.pad + st*nr*kc
					}
					d := p.data[dbase+(r-p0)*nr:][:nr]
					if width < nr {
						clear(d[width:])
					}
					if padded {
						src := pp[ch*nf*pps+tapOff[t]:]
						if g.sw == 1 {
							// Fixed-size moves, inline, when every piece is one
							// whole output row of a common width.
							switch uni {
							case 1:
								for _, pc := range pcs[:np] {
									d[pc.d] = src[pc.off]
								}
							case 2:
								for _, pc := range pcs[:np] {
									*(*[2]float32)(d[pc.d:]) = *(*[2]float32)(src[pc.off:])
								}
							case 4:
								for _, pc := range pcs[:np] {
									*(*[4]float32)(d[pc.d:]) = *(*[4]float32)(src[pc.off:])
								}
							case 8:
								for _, pc := range pcs[:np] {
									d, s := d[pc.d:][:8], src[pc.off:][:8]
									*(*[4]float32)(d) = *(*[4]float32)(s)
									*(*[4]float32)(d[4:]) = *(*[4]float32)(s[4:])
								}
							case 16:
								for _, pc := range pcs[:np] {
									d, s := d[pc.d:][:16], src[pc.off:][:16]
									*(*[4]float32)(d) = *(*[4]float32)(s)
									*(*[4]float32)(d[4:]) = *(*[4]float32)(s[4:])
									*(*[4]float32)(d[8:]) = *(*[4]float32)(s[8:])
									*(*[4]float32)(d[12:]) = *(*[4]float32)(s[12:])
								}
							default:
								for _, pc := range pcs[:np] {
									copyRun(d[pc.d:pc.d+pc.n], src[pc.off:])
								}
							}
							continue
						}
						for _, pc := range pcs[:np] {
							s := src[pc.off:][:(pc.n-1)*g.sw+1]
							dd := d[pc.d : pc.d+pc.n]
							for k := range dd {
								dd[k] = s[k*g.sw]
							}
						}
						continue
					}
					ky, kx := taps[t]/g.kw, taps[t]%g.kw
					for _, pc := range pcs[:np] {
						dd := d[pc.d : pc.d+pc.n]
						iy := pc.oy*g.sh - g.pt + ky*g.dh
						if uint(iy) >= uint(g.h) {
							clear(dd)
							continue
						}
						plane := xd[((n0+pc.i)*cin+gi*g.c+ch)*hw:][:hw]
						src := plane[iy*g.w:][:g.w]
						x0 := pc.ox*g.sw + kx*g.dw - g.pl
						for k := range dd {
							if ix := k*g.sw + x0; uint(ix) < uint(g.w) {
								dd[k] = src[ix]
							} else {
								dd[k] = 0
							}
						}
					}
				}
			}
		}
	})
	return p
}

// transUnfoldCost is the extra cost of unfolding one column into A strips
// rather than B strips, in tile elements of the kernel's work: about 1.5 ns
// per unfolded element against 2.5 ns per k step of a 14×32 tile.
const transUnfoldCost = 270

// maxStrip bounds the strip width of every kernel (mr and nr).
const maxStrip = 32

// padPlane copies plane (h×w) into pp (ph×pw) at (pt, pl), zeros around.
func padPlane(pp []float32, ph, pw int, plane []float32, g *conv2DGeom) {
	pp = pp[:ph*pw]
	clear(pp)
	n := min(g.w, pw-g.pl)
	if n <= 0 {
		return
	}
	for y := 0; y < g.h && y+g.pt < ph; y++ {
		copy(pp[(y+g.pt)*pw+g.pl:][:n], plane[y*g.w:][:n])
	}
}

// copyRun is copy(d, s[:len(d)]) for the short runs of an unfold: in
// 16-byte moves, which the compiler inlines (larger array assignments
// become memmove calls, as the operands could overlap).
func copyRun(d, s []float32) {
	n := len(d)
	s = s[:n]
	if n >= 48 {
		copy(d, s)
		return
	}
	i := 0
	for ; i+4 <= n; i += 4 {
		*(*[4]float32)(d[i:]) = *(*[4]float32)(s[i:])
	}
	for ; i < n; i++ {
		d[i] = s[i]
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
