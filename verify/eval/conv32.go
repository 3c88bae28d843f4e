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
// unfolded matrix of such a product (never stored whole, but its size
// bounds the product's padded planes and output buffer).
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
	var planes *[]float32 // the padded planes of the unfold
	if !direct {
		planes = getScratch(0)
		defer putScratch(planes)
	}
	tmp := getScratch(0) // the product's output, when it is not od's layout
	defer putScratch(tmp)
	for n0 := 0; n0 < nb; n0 += nf {
		for gi := 0; gi < g.grps; gi++ {
			convGroup(c, xd, w, ct, bias, od, planes, tmp, g, n0, min(nf, nb-n0), gi, direct)
		}
	}
}

// convGroup computes group gi of images n0..n0+nf-1 (see convGEMM), with
// planes (the unfold's padded planes) and tmp as scratch, each grown only
// when used.
func convGroup(c *opCtx, xd []float32, w *Tensor, ct convTaps, bias, od []float32, planes, tmp *[]float32, g *conv2DGeom, n0, nf, gi int, direct bool) {
	ohw, hw := g.oh*g.ow, g.h*g.w
	cin := g.c * g.grps
	kdim := g.c * len(ct.taps)
	cols := nf * ohw
	trans := tileCost(cols, g.mg) < tileCost(g.mg, cols)*4/5
	if !direct {
		// Transpose only when the tiles saved outweigh its own costs
		// (transUnfoldCost).
		trans = tileCost(g.mg, cols)-tileCost(cols, g.mg) > transUnfoldCost*cols
	}
	// bm (taps × cols): the images' unfolded columns side by side, read in
	// place (image i's block of ohw columns at its own offset).
	bm := rowMajor(xd[(n0*cin+gi*g.c)*hw:], ohw).blocked(ohw, cin*hw)
	at := matView{data: bm.data, rs: 1, cs: bm.rs, blk: bm.blk, bstride: bm.bstride}
	if !direct {
		// Unfold inside the GEMM, as it packs: B of the product, or A of
		// the transposed one.
		bm = generated(newIm2col(xd, g, ct.taps, n0, nf, gi, planes))
		at = bm
	}
	wm := ct.wd[gi*g.mg*kdim:][:g.mg*kdim]
	// out(ch, i) is output channel ch of image n0+i.
	out := func(ch, i int) []float32 { return od[((n0+i)*g.m+gi*g.mg+ch)*ohw:][:ohw] }
	if trans {
		// tmp (cols × mg) = col^T · W^T, starting from the bias; on 1×1
		// maps its rows are the images' outputs, written in place.
		dst, ldd := od[n0*g.m+gi*g.mg:], g.m
		if ohw > 1 {
			*tmp = grow(*tmp, cols*g.mg)
			dst, ldd = *tmp, g.mg
		}
		for j := 0; j < cols; j++ {
			row := dst[j*ldd:][:g.mg]
			if bias != nil {
				copy(row, bias[gi*g.mg:][:g.mg])
			} else {
				clear(row)
			}
		}
		wv := transposed(wm, kdim)
		sgemmPacked(cols, g.mg, kdim, at, wv, nil, c.packedWeight(w, wv, kdim, g.mg, false), dst, ldd)
		if ohw == 1 {
			return
		}
		for i := 0; i < nf; i++ {
			transposeOut(od[((n0+i)*g.m+gi*g.mg)*ohw:], dst[i*ohw*g.mg:], ohw, g.mg)
		}
		return
	}
	wv := rowMajor(wm, kdim)
	preA := c.packedWeight(w, wv, g.mg, kdim, true)
	// dst (mg × cols): one image's output planes are the product's rows
	// as they lie in od; several images' go through tmp.
	var dst []float32
	if nf == 1 {
		dst = od[(n0*g.m+gi*g.mg)*ohw:][:g.mg*ohw]
	} else {
		*tmp = grow(*tmp, g.mg*cols)
		dst = *tmp
	}
	for ch := 0; ch < g.mg; ch++ {
		fillBias(dst[ch*cols:][:cols], bias, gi*g.mg+ch)
	}
	sgemmPacked(g.mg, cols, kdim, wv, bm, preA, nil, dst, cols)
	if nf == 1 {
		return
	}
	for ch := 0; ch < g.mg; ch++ {
		for i := 0; i < nf; i++ {
			copy(out(ch, i), dst[ch*cols+i*ohw:][:ohw])
		}
	}
}

// im2col is the unfolded matrix of images n0..n0+nf-1 of group gi (K
// rows ch·len(taps)+t, tap taps[t] of channel ch, by nf·ohw columns),
// produced strip by strip as the GEMM packs it (stripPacker), never
// whole: the product unfolds one K block of its workers' columns at a
// time into its packing buffer and multiplies it while it is in cache.
// A strip row is a few contiguous copies (one per output row it holds)
// from the channel planes padded with zeros, built once per product, or,
// when padding them would cost more than the unfold (dilated kernels on
// small maps), copies between zero fills.
type im2col struct {
	xd     []float32
	g      *conv2DGeom
	taps   []int
	tapOff []int // where tap t's reads start in a padded plane
	// rowOff[r] is where K row r reads in the padded planes (channel
	// ch's plane of image 0, moved on to tap t's first read), rowMax the
	// largest; set when the rows are gathered at unit stride.
	rowOff     []int
	rowMax     int
	n0, nf, gi int
	cols       int       // nf·ohw
	pp         []float32 // padded planes: (ch, i) at (ch·nf + i)·pps; nil when not padded
	pps, pw    int
}

// newIm2col prepares the unfold of images n0..n0+nf-1 of group gi, its
// padded planes (in parallel) in buf when they pay.
func newIm2col(xd []float32, g *conv2DGeom, taps []int, n0, nf, gi int, buf *[]float32) *im2col {
	hw := g.h * g.w
	cin := g.c * g.grps
	nt := len(taps)
	u := &im2col{xd: xd, g: g, taps: taps, n0: n0, nf: nf, gi: gi, cols: nf * g.oh * g.ow}
	// The padded planes span every position a tap reads.
	ph, pw := (g.oh-1)*g.sh+(g.kh-1)*g.dh+1, (g.ow-1)*g.sw+(g.kw-1)*g.dw+1
	u.pps, u.pw = ph*pw, pw
	if g.pt >= 0 && g.pl >= 0 && u.pps <= nt*g.oh*g.ow {
		pps := u.pps
		*buf = grow(*buf, g.c*nf*pps)
		u.pp = *buf
		parallelFor(g.c*nf, pps, func(lo, hi int) {
			for q := lo; q < hi; q++ {
				ch, i := q/nf, q%nf
				padPlane(u.pp[q*pps:][:pps], ph, pw, xd[((n0+i)*cin+gi*g.c+ch)*hw:][:hw], g)
			}
		})
		u.tapOff = make([]int, nt)
		for t, tap := range taps {
			u.tapOff[t] = tap/g.kw*g.dh*pw + tap%g.kw*g.dw
		}
		if g.sw == 1 {
			u.rowOff = make([]int, 0, g.c*nt)
			for ch := range g.c {
				for _, o := range u.tapOff {
					u.rowOff = append(u.rowOff, ch*nf*pps+o)
					u.rowMax = max(u.rowMax, ch*nf*pps+o)
				}
			}
		}
	}
	return u
}

// unfoldPiece is a run of a strip's columns within one output row of one
// image: n columns from strip position d, image i, output (oy, ox), its
// reads starting at off in the padded planes.
type unfoldPiece struct{ d, n, i, oy, ox, off int }

// packStrips unfolds K rows [p0, p0+kc) of columns [u, u+n) into w-wide
// strips (stripPacker).
func (u *im2col) packStrips(dst []float32, w, p0, kc, u0, n int) {
	g := u.g
	ohw := g.oh * g.ow
	nt := len(u.taps)
	var offs []int
	if u.rowOff != nil {
		offs = u.rowOff[p0 : p0+kc]
	}
	var pcs [maxStrip]unfoldPiece
	for st := 0; st*w < n; st++ {
		js := u0 + st*w
		j1 := min(js+w, u0+n, u.cols)
		np := 0
		for j := js; j < j1; {
			i, pix := j/ohw, j%ohw
			oy, ox := pix/g.ow, pix%g.ow
			m := min(g.ow-ox, j1-j)
			pcs[np] = unfoldPiece{d: j - js, n: m, i: i, oy: oy, ox: ox, off: i*u.pps + oy*g.sh*u.pw + ox*g.sw}
			np++
			j += m
		}
		d := dst[st*kc*w:][:kc*w]
		if width := max(j1-js, 0); width < w {
			clearCols(d, w, width)
		}
		if len(offs) > 0 {
			gatherRows(d, w, u.pp, offs, u.rowMax, pcs[:np])
			continue
		}
		u.packStrip(d, w, p0, nt, pcs[:np])
	}
}

// gatherAVX2 enables the assembly row gather (gatherPiece) where the CPU
// has AVX2; tests switch it off to run the Go moves.
var gatherAVX2 = haveAVX2

// gatherRows is the unfold of one strip from the padded planes at unit
// stride: row r of dst (w wide) gets, for each piece, its n values from
// src at offs[r] (at most hi) + the piece's offset. The bounds are
// checked once, up front, so that the moves (in assembly, or 16-byte
// units in Go, piece by piece down the rows, one loop per width) go
// unchecked: this runs for every element a convolution multiplies.
func gatherRows(dst []float32, w int, src []float32, offs []int, hi int, pcs []unfoldPiece) {
	if len(offs)*w > len(dst) {
		panic("eval: im2col strip beyond its buffer")
	}
	for _, pc := range pcs {
		if pc.d < 0 || pc.off < 0 || pc.d+pc.n > w || hi+pc.off+pc.n > len(src) {
			panic("eval: im2col read beyond its planes")
		}
	}
	if len(offs) == 0 {
		return
	}
	d0, s0 := unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(unsafe.SliceData(src))
	type v4 = [4]float32
	at := func(p unsafe.Pointer, i int) *v4 { return (*v4)(unsafe.Add(p, 4*i)) }
	for _, pc := range pcs {
		dp, sp := unsafe.Add(d0, 4*pc.d), unsafe.Add(s0, 4*pc.off)
		if gatherPiece(dp, sp, w, offs, pc.n) {
			continue
		}
		switch n := pc.n; n {
		case 32:
			for r, o := range offs {
				d, s := unsafe.Add(dp, 4*r*w), unsafe.Add(sp, 4*o)
				for k := 0; k < 32; k += 4 {
					*at(d, k) = *at(s, k)
				}
			}
		case 16:
			for r, o := range offs {
				d, s := unsafe.Add(dp, 4*r*w), unsafe.Add(sp, 4*o)
				*at(d, 0) = *at(s, 0)
				*at(d, 4) = *at(s, 4)
				*at(d, 8) = *at(s, 8)
				*at(d, 12) = *at(s, 12)
			}
		case 8:
			for r, o := range offs {
				d, s := unsafe.Add(dp, 4*r*w), unsafe.Add(sp, 4*o)
				*at(d, 0) = *at(s, 0)
				*at(d, 4) = *at(s, 4)
			}
		case 4:
			for r, o := range offs {
				*at(unsafe.Add(dp, 4*r*w), 0) = *at(unsafe.Add(sp, 4*o), 0)
			}
		case 2:
			for r, o := range offs {
				*(*[2]float32)(unsafe.Add(dp, 4*r*w)) = *(*[2]float32)(unsafe.Add(sp, 4*o))
			}
		case 1:
			for r, o := range offs {
				*(*float32)(unsafe.Add(dp, 4*r*w)) = *(*float32)(unsafe.Add(sp, 4*o))
			}
		default:
			n4 := n &^ 3
			for r, o := range offs {
				d, s := unsafe.Add(dp, 4*r*w), unsafe.Add(sp, 4*o)
				k := 0
				for ; k < n4; k += 4 {
					*at(d, k) = *at(s, k)
				}
				for ; k < n; k++ {
					*(*float32)(unsafe.Add(d, 4*k)) = *(*float32)(unsafe.Add(s, 4*k))
				}
			}
		}
	}
}

// clearCols zeroes columns [from, w) of every w-wide row of d (a strip's
// padding past the last column): inline 16-byte stores where they fit,
// not a clear call per row.
func clearCols(d []float32, w, from int) {
	rows := len(d) / w
	if n := w - from; n%4 != 0 || n > 16 {
		for r := range rows {
			clear(d[r*w+from : (r+1)*w])
		}
		return
	}
	for r := range rows {
		z := d[r*w+from : (r+1)*w]
		for k := 0; k+4 <= len(z); k += 4 {
			*(*[4]float32)(z[k:]) = [4]float32{}
		}
	}
}

// packStrip writes K rows p0.. of one strip (len(dst)/w of them, the
// columns past its pieces already zero) from its pieces where gatherRows
// does not apply: strided reads of the padded planes, or reads of the
// unpadded planes with the padding tested per element.
func (u *im2col) packStrip(dst []float32, w, p0, nt int, pcs []unfoldPiece) {
	g := u.g
	hw := g.h * g.w
	cin := g.c * g.grps
	ch, t := p0/nt, p0%nt
	for r := 0; r < len(dst)/w; r++ {
		d := dst[r*w:][:w]
		if u.pp != nil {
			src := u.pp[ch*u.nf*u.pps+u.tapOff[t]:]
			for _, pc := range pcs {
				s := src[pc.off:][:(pc.n-1)*g.sw+1]
				dd := d[pc.d : pc.d+pc.n]
				for k := range dd {
					dd[k] = s[k*g.sw]
				}
			}
		} else {
			ky, kx := u.taps[t]/g.kw, u.taps[t]%g.kw
			for _, pc := range pcs {
				dd := d[pc.d : pc.d+pc.n]
				iy := pc.oy*g.sh - g.pt + ky*g.dh
				if uint(iy) >= uint(g.h) {
					clear(dd)
					continue
				}
				plane := u.xd[((u.n0+pc.i)*cin+u.gi*g.c+ch)*hw:][:hw]
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
		if t++; t == nt {
			ch, t = ch+1, 0
		}
	}
}

// transUnfoldCost is the extra cost per column of the transposed
// product, in tile elements of the kernel's work: its output transposed
// back, its A strips cut across output rows into more pieces. Tuned on
// BenchmarkConvSmallM (densenet's 32-filter 3×3s: transposed on 2×2 maps,
// where 8 columns would fill a quarter of a 32-wide tile, not on 8×8 or
// larger) and BenchmarkConvShapes.
const transUnfoldCost = 48

// maxStrip bounds the strip width of every kernel (mr and nr).
const maxStrip = 32

// padPlane copies plane (h×w) into pp (ph×pw) at (pt, pl), zeros around.
func padPlane(pp []float32, ph, pw int, plane []float32, g *conv2DGeom) {
	pp = pp[:ph*pw]
	n := min(g.w, pw-g.pl)
	if n <= 0 || ph*pw <= 64 {
		// Tiny planes (the 2×2 and 4×4 maps of a network's last stages,
		// hundreds of them per convolution): element by element, without
		// the clear and copy calls.
		for i := range pp {
			pp[i] = 0
		}
		for y := 0; y < g.h && y+g.pt < ph; y++ {
			for x := 0; x < n; x++ {
				pp[(y+g.pt)*pw+g.pl+x] = plane[y*g.w+x]
			}
		}
		return
	}
	clear(pp)
	for y := 0; y < g.h && y+g.pt < ph; y++ {
		copy(pp[(y+g.pt)*pw+g.pl:][:n], plane[y*g.w:][:n])
	}
}

// tileCost is the work the kernel does on an m×n product, padded to its
// whole register tiles (the last rows at their own height when the narrow
// kernel takes them).
func tileCost(m, n int) int {
	return kern.tileRows(m) * ((n + kern.nr - 1) / kern.nr * kern.nr)
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
