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

// im2col2D unfolds one group of one image (c×h×w) into col, a
// (c·kh·kw) × (oh·ow) matrix; taps outside the image are zero.
func im2col2D(x []float32, col []float32, g *conv2DGeom) {
	ohw := g.oh * g.ow
	r := 0
	for c := 0; c < g.c; c++ {
		plane := x[c*g.h*g.w : (c+1)*g.h*g.w]
		for ky := 0; ky < g.kh; ky++ {
			for kx := 0; kx < g.kw; kx++ {
				dst := col[r*ohw : (r+1)*ohw]
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
	hw := g.h * g.w
	cin := g.c * g.grps
	ksz := g.kh * g.kw
	if g.c == 1 && g.mg == 1 && g.pt >= 0 && g.pl >= 0 {
		depthwise2D(xd, wd, bias, od, nb, g) // depthwise32.go
		return o, true
	}
	direct := g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 && g.oh == g.h && g.ow == g.w
	var col []float32
	if !direct {
		col = make([]float32, g.c*ksz*ohw)
	}
	kdim := g.c * ksz
	for n := 0; n < nb; n++ {
		for gi := 0; gi < g.grps; gi++ {
			img := xd[(n*cin+gi*g.c)*hw:][:g.c*hw]
			bm := rowMajor(img, ohw)
			if !direct {
				im2col2D(img, col, g)
				bm = rowMajor(col, ohw)
			}
			out := od[(n*g.m+gi*g.mg)*ohw:][:g.mg*ohw]
			wv := rowMajor(wd[gi*g.mg*kdim:][:g.mg*kdim], kdim)
			sgemmPacked(g.mg, ohw, kdim, wv, bm, c.packedWeight(w, wv, g.mg, kdim, true), nil, out, ohw)
		}
	}
	return o, true
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
	for q := range ai {
		sgemm(m, n, k, rowMajor(a[ai[q]*m*k:][:m*k], k), rowMajor(b[bi[q]*k*n:][:k*n], n), o[q*m*n:][:m*n], n)
	}
}
