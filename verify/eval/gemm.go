package eval

import (
	"sync"
	"unsafe"
)

// Cache-blocked float32 matrix multiply (the GotoBLAS scheme): B is packed
// in KC×NR column strips, A in MC×KC blocks of MR-row strips, and an
// MR×NR register-tile micro-kernel accumulates each tile. The kernel is
// chosen once for the CPU: 14×32 with AVX-512 (28 zmm accumulators), 6×16
// with AVX2/FMA, or a Go loop elsewhere. Work is split over column (or
// row) blocks across the cores. Accumulation is float32 with FMA, as ONNX
// Runtime's MLAS.
const gemmKC = 256

// gemmKernel is one micro-kernel: c (mr×nr, row stride ldc) += the packed
// A strip (k groups of mr row values) · the packed B strip (k groups of nr
// column values).
type gemmKernel struct {
	name   string
	mr, nr int
	mc     int // rows of A packed per block (a multiple of mr, sized for L2)
	run    func(k int, a, b, c []float32, ldc int)
	// edge, when set, is run storing only the first rows×cols of the
	// tile (for the tails); otherwise tails go through a scratch tile.
	edge func(k int, a, b, c []float32, ldc, rows, cols int)
}

// maxTile bounds mr·nr over every kernel (the edge-tile buffer).
const maxTile = 14 * 32

var (
	kernelGo6x16 = &gemmKernel{name: "go6x16", mr: 6, nr: 16, mc: 72, run: kernelGo}
	kernelAVX2   = &gemmKernel{name: "avx2_6x16", mr: 6, nr: 16, mc: 72, run: func(k int, a, b, c []float32, ldc int) {
		sgemmKernel6x16(k, unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c), ldc)
	}}
	kernelAVX512 = &gemmKernel{name: "avx512_14x32", mr: 14, nr: 32, mc: 140, run: func(k int, a, b, c []float32, ldc int) {
		sgemmKernel14x32(k, unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c), ldc)
	}, edge: func(k int, a, b, c []float32, ldc, rows, cols int) {
		sgemmKernel14x32Edge(k, unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c), ldc, rows, cols)
	}}
)

// gemmKernels lists the kernels this CPU can run, fastest first.
func gemmKernels() []*gemmKernel {
	var ks []*gemmKernel
	if haveAVX512 {
		ks = append(ks, kernelAVX512)
	}
	if haveAVX2 {
		ks = append(ks, kernelAVX2)
	}
	return append(ks, kernelGo6x16)
}

// kern is the kernel every product uses.
var kern = gemmKernels()[0]

// matView addresses a row-major matrix, possibly transposed: element (i,
// j) is data[i*rs + j*cs]. With blk > 0 the unit-stride index u (j when
// cs is 1, i when rs is 1) is cut into blocks of blk, block b starting
// bstride further on: its offset is (u/blk)·bstride + u%blk. That reads a
// batch of images side by side without copying them together.
type matView struct {
	data         []float32
	rs, cs       int
	blk, bstride int
	u0           int // added to the blocked index (or the generated one)
	// gen, when set, produces the operand's packed strips itself (data,
	// rs, cs and blk are unused): an im2col unfold done K block by K
	// block inside the product, into the cache-resident packing buffer.
	gen stripPacker
}

// stripPacker is an operand computed while it is packed. Its unfolded
// index u runs along the strips: the columns of a B operand, the rows of
// an A operand.
type stripPacker interface {
	// packStrips writes K rows [p0, p0+kc) × positions [u, u+n) of the
	// unfolded index as w-wide strips (strip s, kc·w values at s·kc·w,
	// zero-padded past n), the layout packA and packB give.
	packStrips(dst []float32, w, p0, kc, u, n int)
}

// generated returns the operand that g packs on demand.
func generated(g stripPacker) matView { return matView{gen: g} }

func rowMajor(d []float32, cols int) matView   { return matView{data: d, rs: cols, cs: 1} }
func transposed(d []float32, cols int) matView { return matView{data: d, rs: 1, cs: cols} }

// blocked returns v (unit stride along its columns, or along its rows when
// transposed) with that index cut into blocks of blk, bstride apart.
func (v matView) blocked(blk, bstride int) matView {
	v.blk, v.bstride = blk, bstride
	return v
}

// span is a run of n consecutive elements of a view's unit-stride index:
// at data offset off (plus the other index's offset), going to position
// d of a packed strip.
type span struct{ off, d, n int }

// spans appends the runs covering n elements of the unit-stride index
// from u on: one unless the view is blocked and u..u+n crosses blocks.
func (v matView) spans(sp []span, u, n int) []span {
	if v.blk == 0 {
		return append(sp, span{u, 0, n})
	}
	u += v.u0
	b, o, d := u/v.blk, u%v.blk, 0
	for d < n {
		m := min(n-d, v.blk-o)
		sp = append(sp, span{b*v.bstride + o, d, m})
		d, b, o = d+m, b+1, 0
	}
	return sp
}

// copyShort is copy(dst, src) for len(dst) == len(src), without the call
// for short runs.
func copyShort(dst, src []float32) {
	if len(dst) >= 8 {
		copy(dst, src)
		return
	}
	src = src[:len(dst)]
	for i := range dst {
		dst[i] = src[i]
	}
}

// packA copies rows [i0, i0+mc) × cols [p0, p0+kc) of a into mr-row strips
// (zero-padded): strip s holds, for each p, rows mr·s..mr·s+mr-1.
func packA(kr *gemmKernel, dst []float32, a matView, i0, mc, p0, kc int) {
	mr := kr.mr
	if a.gen != nil {
		a.gen.packStrips(dst, mr, p0, kc, a.u0+i0, mc)
		return
	}
	n := 0
	for s := 0; s < mc; s += mr {
		rows := min(mr, mc-s)
		if a.rs == 1 {
			// Transposed storage: the strip's rows are contiguous per p.
			var buf [32]span
			sp := a.spans(buf[:0], i0+s, rows)
			for p := 0; p < kc; p++ {
				d := dst[n : n+mr]
				base := (p0 + p) * a.cs
				for _, q := range sp {
					copyShort(d[q.d:q.d+q.n], a.data[base+q.off:][:q.n])
				}
				clear(d[rows:])
				n += mr
			}
			continue
		}
		d := dst[n : n+kc*mr]
		if a.cs == 1 {
			// Row-major: read each row in order, scatter into the strip.
			for r := 0; r < rows; r++ {
				src := a.data[(i0+s+r)*a.rs+p0:][:kc]
				for p, v := range src {
					d[p*mr+r] = v
				}
			}
			if rows < mr {
				for p := 0; p < kc; p++ {
					clear(d[p*mr+rows : (p+1)*mr])
				}
			}
			n += kc * mr
			continue
		}
		for p := 0; p < kc; p++ {
			base := (p0 + p) * a.cs
			for r := 0; r < rows; r++ {
				d[p*mr+r] = a.data[(i0+s+r)*a.rs+base]
			}
			clear(d[p*mr+rows : (p+1)*mr])
		}
		n += kc * mr
	}
}

// packB copies rows [p0, p0+kc) × cols [j0, j0+nc) of b into nr-column
// strips (zero-padded).
func packB(kr *gemmKernel, dst []float32, b matView, p0, kc, j0, nc int) {
	nr := kr.nr
	if b.gen != nil {
		b.gen.packStrips(dst, nr, p0, kc, b.u0+j0, nc)
		return
	}
	n := 0
	for s := 0; s < nc; s += nr {
		cols := min(nr, nc-s)
		var buf [32]span
		var sp []span
		if b.cs == 1 {
			sp = b.spans(buf[:0], j0+s, cols)
		}
		for p := 0; p < kc; p++ {
			row := (p0 + p) * b.rs
			d := dst[n : n+nr]
			if b.cs == 1 {
				for _, q := range sp {
					copyShort(d[q.d:q.d+q.n], b.data[row+q.off:][:q.n])
				}
			} else {
				for c := 0; c < cols; c++ {
					d[c] = b.data[row+(j0+s+c)*b.cs]
				}
			}
			clear(d[cols:])
			n += nr
		}
	}
}

// kernelGo is the 6×16 micro-kernel in Go (for CPUs without AVX2/FMA).
func kernelGo(k int, a, b []float32, c []float32, ldc int) {
	const mr, nr = 6, 16
	var acc [mr][nr]float32
	for p := 0; p < k; p++ {
		bp := b[p*nr : (p+1)*nr]
		for r := 0; r < mr; r++ {
			av := a[p*mr+r]
			row := &acc[r]
			for j, bv := range bp {
				row[j] += av * bv
			}
		}
	}
	for r := 0; r < mr; r++ {
		row := c[r*ldc : r*ldc+nr]
		for j := range row {
			row[j] += acc[r][j]
		}
	}
}

// packed is a whole operand packed once (weights, reused across runs):
// for each KC block of K, every mr-row strip of A (or nr-column strip of
// B) in turn, so that a block's strips are contiguous.
type packed struct {
	data []float32
	pad  int // rows (A) or columns (B) rounded up to the strip width
	off  int // first row (column) addressed, a multiple of the strip width
}

// at returns the packed strips of K block p0 (length kc) starting at row
// (A) or column (B) r, a multiple of the strip width w.
func (p *packed) at(p0, kc, r, w int) []float32 {
	return p.data[p0*p.pad+((p.off+r)/w)*w*kc:]
}

// packWholeA packs all of a (m×k) into buf (grown as needed), its strips
// spread over the workers.
func packWholeA(kr *gemmKernel, a matView, m, k int, buf []float32) *packed {
	p := &packed{pad: (m + kr.mr - 1) / kr.mr * kr.mr}
	p.data = grow(buf, p.pad*k)
	parallelFor(p.pad/kr.mr, kr.mr*k, func(lo, hi int) {
		r0, r1 := lo*kr.mr, min(hi*kr.mr, m)
		for p0 := 0; p0 < k; p0 += gemmKC {
			kc := min(gemmKC, k-p0)
			packA(kr, p.data[p0*p.pad+r0*kc:], a, r0, r1-r0, p0, kc)
		}
	})
	return p
}

// packWholeB packs all of b (k×n) into buf, as packWholeA.
func packWholeB(kr *gemmKernel, b matView, k, n int, buf []float32) *packed {
	p := &packed{pad: (n + kr.nr - 1) / kr.nr * kr.nr}
	p.data = grow(buf, p.pad*k)
	parallelFor(p.pad/kr.nr, kr.nr*k, func(lo, hi int) {
		c0, c1 := lo*kr.nr, min(hi*kr.nr, n)
		for p0 := 0; p0 < k; p0 += gemmKC {
			kc := min(gemmKC, k-p0)
			packB(kr, p.data[p0*p.pad+c0*kc:], b, p0, kc, c0, c1-c0)
		}
	})
	return p
}

// grow returns buf resized to n elements (contents unspecified),
// allocating only when its capacity is short.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// scratchPool recycles packing buffers across products: a network's
// convolutions ask for the same few sizes over and over.
var scratchPool sync.Pool

func getScratch(n int) *[]float32 {
	if p, ok := scratchPool.Get().(*[]float32); ok {
		*p = grow(*p, n)
		return p
	}
	s := make([]float32, n)
	return &s
}

func putScratch(p *[]float32) { scratchPool.Put(p) }

// gemmBlock computes c[i0:i0+m, j0:j0+n] += a·b over the whole K, packing
// into pa and pb unless the operand comes pre-packed (preA, preB).
func gemmBlock(kr *gemmKernel, a, b matView, preA, preB *packed, c []float32, ldc, i0, m, j0, n, k int, pa, pb []float32) {
	var edge []float32 // the tail tiles' scratch (it escapes: allocated only if used)
	mr, nr := kr.mr, kr.nr
	for p0 := 0; p0 < k; p0 += gemmKC {
		kc := min(gemmKC, k-p0)
		bpanel := pb
		if preB != nil {
			bpanel = preB.at(p0, kc, j0, nr)
		} else {
			packB(kr, pb, b, p0, kc, j0, n)
		}
		for ic := 0; ic < m; ic += kr.mc {
			mc := min(kr.mc, m-ic)
			apanel := pa
			if preA != nil {
				apanel = preA.at(p0, kc, i0+ic, mr)
			} else {
				packA(kr, pa, a, i0+ic, mc, p0, kc)
			}
			for js := 0; js < n; js += nr {
				cols := min(nr, n-js)
				bp := bpanel[(js/nr)*kc*nr:]
				for is := 0; is < mc; is += mr {
					rows := min(mr, mc-is)
					ap := apanel[(is/mr)*kc*mr:]
					ci := (i0+ic+is)*ldc + j0 + js
					if rows == mr && cols == nr {
						kr.run(kc, ap, bp, c[ci:], ldc)
						continue
					}
					if kr.edge != nil {
						kr.edge(kc, ap, bp, c[ci:], ldc, rows, cols)
						continue
					}
					if edge == nil {
						edge = make([]float32, maxTile)
					}
					e := edge[:mr*nr]
					clear(e)
					kr.run(kc, ap, bp, e, nr)
					for r := 0; r < rows; r++ {
						row := c[ci+r*ldc : ci+r*ldc+cols]
						for j := range row {
							row[j] += e[r*nr+j]
						}
					}
				}
			}
		}
	}
}

// sgemm computes c (m×n, row stride ldc) += a (m×k) · b (k×n).
func sgemm(m, n, k int, a, b matView, c []float32, ldc int) {
	sgemmKernel(kern, m, n, k, a, b, nil, nil, c, ldc)
}

// sgemmPacked is sgemm with optionally pre-packed operands (packed for
// kern).
func sgemmPacked(m, n, k int, a, b matView, preA, preB *packed, c []float32, ldc int) {
	sgemmKernel(kern, m, n, k, a, b, preA, preB, c, ldc)
}

// sgemmKernel is sgemmPacked with the micro-kernel named.
func sgemmKernel(kr *gemmKernel, m, n, k int, a, b matView, preA, preB *packed, c []float32, ldc int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	// Split the larger side into blocks for the workers.
	alongN := n >= m
	side, unit := m, kr.mr
	if alongN {
		side, unit = n, kr.nr
	}
	blocks := (side + unit - 1) / unit
	work := m * n * k
	if blocks <= 1 || work < 2*minChunk {
		sgemmSerial(kr, m, n, k, a, b, preA, preB, c, ldc)
		return
	}
	// The operand every worker reads whole is packed once, up front.
	if alongN && preA == nil {
		s := getScratch((m + kr.mr - 1) / kr.mr * kr.mr * k)
		defer putScratch(s)
		preA = packWholeA(kr, a, m, k, *s)
	}
	if !alongN && preB == nil {
		s := getScratch((n + kr.nr - 1) / kr.nr * kr.nr * k)
		defer putScratch(s)
		preB = packWholeB(kr, b, k, n, *s)
	}
	parallelFor(blocks, max(work/blocks, 1), func(lo, hi int) {
		s0, s1 := lo*unit, min(hi*unit, side)
		if alongN {
			sgemmSerial(kr, m, s1-s0, k, a, b.cols(s0), preA, preB.from(s0), c[s0:], ldc)
		} else {
			sgemmSerial(kr, s1-s0, n, k, a.rows(s0), b, preA.from(s0), preB, c[s0*ldc:], ldc)
		}
	})
}

// rows and cols return the view starting at row (column) r.
func (v matView) rows(r int) matView {
	if v.gen != nil || v.blk > 0 && v.rs == 1 {
		return v.shift(r)
	}
	v.data = v.data[r*v.rs:]
	return v
}

func (v matView) cols(r int) matView {
	if v.gen != nil || v.blk > 0 && v.cs == 1 {
		return v.shift(r)
	}
	v.data = v.data[r*v.cs:]
	return v
}

// shift moves a blocked (or generated) view's unit-stride index on by u.
func (v matView) shift(u int) matView {
	v.u0 += u
	return v
}

// from returns the packed operand starting at row (A) or column (B) r, a
// multiple of the strip width; nil stays nil.
func (p *packed) from(r int) *packed {
	if p == nil {
		return nil
	}
	return &packed{data: p.data, pad: p.pad, off: p.off + r}
}

// sgemmSerial is the product on the calling goroutine alone, with pooled
// packing buffers.
func sgemmSerial(kr *gemmKernel, m, n, k int, a, b matView, preA, preB *packed, c []float32, ldc int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	kc := min(gemmKC, k)
	var pa, pb []float32
	if preA == nil {
		s := getScratch(min(kr.mc, (m+kr.mr-1)/kr.mr*kr.mr) * kc)
		defer putScratch(s)
		pa = *s
	}
	if preB == nil {
		s := getScratch((n + kr.nr - 1) / kr.nr * kr.nr * kc)
		defer putScratch(s)
		pb = *s
	}
	gemmBlock(kr, a, b, preA, preB, c, ldc, 0, m, 0, n, k, pa, pb)
}
