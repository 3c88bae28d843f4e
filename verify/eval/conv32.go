package eval

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

// im2colChannel unfolds one channel's plane (h×w) into rows r0.. (one per
// kernel tap) of col, row stride ld: row (ky, kx) holds the tap's input
// for every output pixel, zero outside the image.
func im2colChannel(plane, col []float32, ld, r0 int, g *conv2DGeom) {
	ohw := g.oh * g.ow
	r := r0
	for ky := 0; ky < g.kh; ky++ {
		for kx := 0; kx < g.kw; kx++ {
			dst := col[r*ld : r*ld+ohw]
			r++
			for oy := 0; oy < g.oh; oy++ {
				row := dst[oy*g.ow : (oy+1)*g.ow]
				iy := oy*g.sh - g.pt + ky*g.dh
				if iy < 0 || iy >= g.h {
					clear(row)
					continue
				}
				src := plane[iy*g.w : (iy+1)*g.w]
				x0 := kx*g.dw - g.pl
				if g.sw == 1 && g.ow < 64 {
					// Narrow maps: plain loops beat three calls per row.
					lo, hi := min(max(0, -x0), g.ow), max(min(g.ow, g.w-x0), 0)
					hi = max(hi, lo)
					for ox := 0; ox < lo; ox++ {
						row[ox] = 0
					}
					for ox := lo; ox < hi; ox++ {
						row[ox] = src[ox+x0]
					}
					for ox := hi; ox < g.ow; ox++ {
						row[ox] = 0
					}
					continue
				}
				if g.ow < 16 {
					for ox := range row {
						if ix := ox*g.sw + x0; uint(ix) < uint(g.w) {
							row[ox] = src[ix]
						} else {
							row[ox] = 0
						}
					}
					continue
				}
				if g.sw == 1 {
					lo, hi := max(0, -x0), min(g.ow, g.w-x0)
					if hi <= lo {
						clear(row)
						continue
					}
					clear(row[:lo])
					copy(row[lo:hi], src[lo+x0:hi+x0])
					clear(row[hi:])
					continue
				}
				for ox := range row {
					ix := ox*g.sw + x0
					if ix >= 0 && ix < g.w {
						row[ox] = src[ix]
					} else {
						row[ox] = 0
					}
				}
			}
		}
	}
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
	for i := 0; i < nb*g.m; i++ {
		v := float32(0)
		if bias != nil {
			v = bias[i%g.m]
		}
		row := od[i*ohw : (i+1)*ohw]
		for j := range row {
			row[j] = v
		}
	}
	if g.c == 1 && g.mg == 1 && g.pt >= 0 && g.pl >= 0 {
		depthwise2D(xd, wd, bias, od, nb, g) // depthwise32.go
		return o, true
	}
	convGEMM(c, xd, wd, w, bias, od, g, nb)
	return o, true
}

// foldBelow is the output size (pixels per image) below which the images
// of a batch are multiplied side by side in one product: a 2×2 map alone
// would fill 4 of a 16- or 32-wide register tile. foldFloats caps the
// unfolded matrix of such a product.
const (
	foldBelow  = 1024
	foldFloats = 4 << 20
)

// convGEMM computes the convolution od (bias already in place) through
// im2col and the blocked GEMM, per group. The product is W (mg × taps) ·
// col (taps × pixels), or, when that pads the kernel's tiles much more,
// its transpose col^T · W^T.
func convGEMM(c *opCtx, xd, wd []float32, w *Tensor, bias, od []float32, g *conv2DGeom, nb int) {
	ohw := g.oh * g.ow
	kdim := g.c * g.kh * g.kw
	nf := 1 // images per product
	if ohw < foldBelow {
		nf = max(1, min(nb, foldFloats/max(kdim*ohw, 1)))
	}
	direct := g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 && g.oh == g.h && g.ow == g.w
	var col, tmp []float32
	if !direct {
		// The im2col matrix, or its packed form (columns padded to strips).
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
			convGroup(c, xd, wd, w, bias, od, col, tmp, g, n0, min(nf, nb-n0), gi, direct)
		}
	}
}

// convGroup computes group gi of images n0..n0+nf-1 (see convGEMM), with
// col and tmp as scratch.
func convGroup(c *opCtx, xd, wd []float32, w *Tensor, bias, od, col, tmp []float32, g *conv2DGeom, n0, nf, gi int, direct bool) {
	ohw, hw := g.oh*g.ow, g.h*g.w
	cin := g.c * g.grps
	kdim := g.c * g.kh * g.kw
	cols := nf * ohw
	trans := tileCost(cols, g.mg) < tileCost(g.mg, cols)*4/5
	// bm (taps × cols): the images' unfolded columns side by side, read in
	// place (image i's block of ohw columns at its own offset).
	bm := rowMajor(xd[(n0*cin+gi*g.c)*hw:], ohw).blocked(ohw, cin*hw)
	// Unfold straight into the GEMM's packed layout: B of the product, or
	// A of the transposed one.
	var preA, preB *packed
	if !direct && trans {
		preA = packIm2col(kern.mr, xd, g, n0, nf, gi, col)
	} else if !direct {
		preB = packIm2col(kern.nr, xd, g, n0, nf, gi, col)
	}
	wm := wd[gi*g.mg*kdim:][:g.mg*kdim]
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
				for j := range o {
					o[j] = tmp[(i*ohw+j)*g.mg+ch]
				}
			}
		}
		return
	}
	wv := rowMajor(wm, kdim)
	preA = c.packedWeight(w, wv, g.mg, kdim, true)
	if nf == 1 {
		sgemmPacked(g.mg, ohw, kdim, wv, bm, preA, preB, od[(n0*g.m+gi*g.mg)*ohw:][:g.mg*ohw], ohw)
		return
	}
	for ch := 0; ch < g.mg; ch++ {
		for i := 0; i < nf; i++ {
			copy(tmp[ch*cols+i*ohw:][:ohw], out(ch, i))
		}
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
// strips), into buf, channels in parallel.
func packIm2col(nr int, xd []float32, g *conv2DGeom, n0, nf, gi int, buf []float32) *packed {
	ohw, hw := g.oh*g.ow, g.h*g.w
	cin := g.c * g.grps
	ksz := g.kh * g.kw
	kdim := g.c * ksz
	cols := nf * ohw
	p := &packed{pad: (cols + nr - 1) / nr * nr}
	p.data = grow(buf, p.pad*kdim)
	parallelFor(g.c, nf*ksz*ohw, func(lo, hi int) {
		s := getScratch(ksz * ohw)
		defer putScratch(s)
		rows := *s
		for ch := lo; ch < hi; ch++ {
			for i := 0; i < nf; i++ {
				im2colChannel(xd[((n0+i)*cin+gi*g.c+ch)*hw:][:hw], rows, ohw, 0, g)
				// Strip by strip, so that the writes of the channel's
				// taps to one strip are consecutive.
				for j0 := 0; j0 < ohw; {
					j := i*ohw + j0
					st, o := j/nr, j%nr
					n := min(ohw-j0, nr-o)
					for t := 0; t < ksz; t++ {
						r := ch*ksz + t
						p0 := r / gemmKC * gemmKC
						kc := min(gemmKC, kdim-p0)
						d := p.data[p0*p.pad+st*nr*kc+(r-p0)*nr+o:][:n]
						src := rows[t*ohw+j0:][:n]
						for q := range d {
							d[q] = src[q]
						}
						if i == nf-1 && j0+n == ohw && cols < p.pad {
							clear(p.data[p0*p.pad+st*nr*kc+(r-p0)*nr+o+n:][:nr-o-n])
						}
					}
					j0 += n
				}
			}
		}
	})
	return p
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
