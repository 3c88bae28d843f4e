package eval

import (
	"sync"
	"unsafe"
)

// Depthwise convolution on small planes, vectorised across channels. On
// the late stages of mobile nets (2×2 and 4×4 maps, 3×3 and 5×5 kernels)
// a plane holds fewer outputs than one vector register, so the plane
// kernels of depthwise32.go spend their time on per-plane set-up and
// masked tails. Here the channels go through the taps side by side, 16
// to a vector: a group of channels has its weights transposed to a
// tap-major block, each image's inputs to a position-major block (plus
// one zero row, which every padded tap reads), and every output position
// is bias + Σ FMA over the taps in kernel order — the plane kernels'
// order and semantics, padded taps and 0·Inf = NaN included — written
// position-major and transposed back to the channels' planes. (Gathering
// the lanes with VGATHERDPS and scattering them back instead of the
// transposes measured about 2× slower: a 16-lane gather took some 55
// cycles on the Ice Lake Xeon this was tuned on.)

// dwChannelsMaxOut is the plane size (input and output, h·w and oh·ow)
// up to which depthwise2D runs channel-minor: BenchmarkWindowDepthwise,
// which runs both ways on the exported architectures' shapes, has the
// channels 1.1–6.8× faster on 2×2 to 16×16 planes, while on 32×32 ones
// the planes were about 10% ahead single-threaded, so they keep those.
var dwChannelsMaxOut = 256

// dwGroupWidth is how many channels one task transposes and convolves:
// 64 up to 8×8 planes, where a group's blocks fit the L1 cache, and 32 on
// larger ones (16 and 64 measured no better on 16×16).
func dwGroupWidth(hw int) int {
	if hw > 64 {
		return 32
	}
	return 64
}

// depthwiseByChannels reports whether the channel-minor kernel takes a
// depthwise convolution with these sizes.
func depthwiseByChannels(g *conv2DGeom) bool {
	return haveAVX512 && g.oh*g.ow <= dwChannelsMaxOut && g.h*g.w <= dwChannelsMaxOut
}

// channelPlan lists, for every output position q and tap t (kernel
// order), the byte offset in a position-major input block (rows of
// rowBytes) of the row the tap reads: iy·w + ix, or hw (the zero row) in
// the padding. Positions go by groups of 4, each group's rows interleaved
// (for t, for the 4 positions), then one by one for the last ohw mod 4.
func channelPlan(g *conv2DGeom, rowBytes int) []int {
	ohw, ksz := g.oh*g.ow, g.kh*g.kw
	plan := make([]int, 0, ohw*ksz)
	off := func(q, t int) int {
		iy := q/g.ow*g.sh - g.pt + t/g.kw*g.dh
		ix := q%g.ow*g.sw - g.pl + t%g.kw*g.dw
		if iy < 0 || iy >= g.h || ix < 0 || ix >= g.w {
			return rowBytes * g.h * g.w
		}
		return rowBytes * (iy*g.w + ix)
	}
	q := 0
	for ; q+4 <= ohw; q += 4 {
		for t := 0; t < ksz; t++ {
			for j := 0; j < 4; j++ {
				plan = append(plan, off(q+j, t))
			}
		}
	}
	for ; q < ohw; q++ {
		for t := 0; t < ksz; t++ {
			plan = append(plan, off(q, t))
		}
	}
	return plan
}

// transposeF32 sets dst[r·ds + c] = src[c·ss + r] for r < rows, c < cols:
// 8×8 blocks with the AVX2 transposes, the edges one by one, reading
// src's rows (a plane's few positions) whole.
func transposeF32(dst []float32, ds int, src []float32, ss, rows, cols int) {
	if rows == 0 || cols == 0 {
		return
	}
	r8, c8 := 0, 0
	if haveAVX2 && rows >= 8 && cols >= 8 {
		r8, c8 = rows&^7, cols&^7
		_ = dst[(r8-1)*ds+c8-1]
		_ = src[(c8-1)*ss+r8-1]
		transpose32AVX2((*uint32)(unsafe.Pointer(&dst[0])), ds, (*uint32)(unsafe.Pointer(&src[0])), ss, c8/8, r8/8)
	}
	// Rows r8.. of columns ..c8 (row by row: a few rows, many columns),
	// then columns c8.. whole (column by column: each a run of src).
	for r := r8; r < rows; r++ {
		d := dst[r*ds : r*ds+c8]
		for c := range d {
			d[c] = src[c*ss+r]
		}
	}
	for c := c8; c < cols; c++ {
		s := src[c*ss : c*ss+rows]
		d := dst[c:]
		_ = d[(rows-1)*ds]
		for r, v := range s {
			d[r*ds] = v
		}
	}
}

// shortTransposeProg is the program of permBlocksAVX512 that transposes
// a block of 16 rows of n contiguous floats (16 channels' planes of n
// positions) into n vectors of 16 lanes rowBytes apart (toVectors), or
// back: each destination vector merges the lanes it takes from each of
// the n source vectors with one masked VPERMPS. For the planes below 8
// positions, where the 8×8 transposes do not apply.
func shortTransposeProg(n, rowBytes int, toVectors bool) (prog []int, idx []int32) {
	idx = make([]int32, 16*n)
	for v := 0; v < n; v++ {
		var masks [16]int
		for j := 0; j < 16; j++ {
			if toVectors {
				// Vector v is position v: lane j is row j's element v, at
				// flat j·n + v of the 16·n contiguous floats.
				f := j*n + v
				idx[16*v+j] = int32(f % 16)
				masks[f/16] |= 1 << j
			} else {
				// Vector v is flat 16v..16v+15: lane j is row l's element
				// q, lane l of the vector of position q.
				f := 16*v + j
				idx[16*v+j] = int32(f / n)
				masks[f%n] |= 1 << j
			}
		}
		dst := v * rowBytes
		if !toVectors {
			dst = 64 * v
		}
		prog = append(prog, dst, 64*v, 0)
		cnt := len(prog) - 1
		for k := 0; k < n; k++ {
			if masks[k] != 0 {
				src := 64 * k
				if !toVectors {
					src = k * rowBytes
				}
				prog = append(prog, src, masks[k])
				prog[cnt]++
			}
		}
	}
	return prog, idx
}

// dwLayout is what depthwiseChannels' kernels read for a group of gc
// channels: the taps' plan and, for planes below 8 positions, the
// transposes' VPERMPS programs (nil otherwise).
type dwLayout struct {
	plan         []int
	xprog, oprog []int
	xidx, oidx   []int32
}

// dwLayouts keeps the layouts of the geometries seen (a model has a few
// dozen), up to dwLayoutsMax; building one costs as much as running a
// 2×2 plane's convolution.
var (
	dwLayoutsMu sync.Mutex
	dwLayouts   = map[dwLayoutKey]*dwLayout{}
)

const dwLayoutsMax = 512

type dwLayoutKey struct {
	g  conv2DGeom
	gc int
}

// dwLayoutOf returns the (shared, read-only) layout of g for groups of gc
// channels.
func dwLayoutOf(g *conv2DGeom, gc int) *dwLayout {
	key := dwLayoutKey{*g, gc}
	dwLayoutsMu.Lock()
	defer dwLayoutsMu.Unlock()
	if l := dwLayouts[key]; l != nil {
		return l
	}
	if len(dwLayouts) >= dwLayoutsMax {
		clear(dwLayouts)
	}
	l := newDWLayout(g, gc)
	dwLayouts[key] = l
	return l
}

func newDWLayout(g *conv2DGeom, gc int) *dwLayout {
	l := &dwLayout{plan: channelPlan(g, 4*gc)}
	if hw := g.h * g.w; hw < 8 {
		l.xprog, l.xidx = shortTransposeProg(hw, 4*gc, true)
	}
	if ohw := g.oh * g.ow; ohw < 8 {
		l.oprog, l.oidx = shortTransposeProg(ohw, 4*gc, false)
	}
	return l
}

// dwScratch holds the blocks of depthwiseChannels' tasks for reuse.
var dwScratch = sync.Pool{New: func() any { return new([]float32) }}

// depthwiseChannels is depthwise2D for depthwiseByChannels geometries.
func depthwiseChannels(c *opCtx, w *Tensor, xd, wd, bias, od []float32, nb int, g *conv2DGeom) {
	hw, ohw, ksz, m := g.h*g.w, g.oh*g.ow, g.kh*g.kw, g.m
	dwGroup := dwGroupWidth(hw)
	wts := c.derivedWeight(w, dwWeightsKey{unsafe.Pointer(unsafe.SliceData(wd)), len(wd), dwGroup}, func() any {
		return groupTransposed(wd, m, ksz, dwGroup)
	}).([]float32)
	full := dwLayoutOf(g, min(dwGroup, m))
	last := full // that of a narrower last group
	if r := m % dwGroup; r != 0 && m > dwGroup {
		last = dwLayoutOf(g, r)
	}
	groups := (m + dwGroup - 1) / dwGroup
	parallelFor(groups, nb*dwGroup*ohw*ksz, func(lo, hi int) {
		// Position-major blocks of the group's inputs (each image's hw
		// rows and a zero row) and outputs, with a vector of slack after
		// the inputs for the last lanes' reads.
		nx, no := nb*(hw+1)*dwGroup+16, nb*ohw*dwGroup
		sp := dwScratch.Get().(*[]float32)
		defer dwScratch.Put(sp)
		nx = (nx + 15) &^ 15
		if cap(*sp) < nx+no+16 {
			*sp = make([]float32, nx+no+16)
		}
		sc := aligned64((*sp)[:cap(*sp)])
		xt, ot := sc[:nx], sc[nx:nx+no]
		for grp := lo; grp < hi; grp++ {
			c0 := grp * dwGroup
			gc := min(dwGroup, m-c0)
			lay := full
			if gc != min(dwGroup, m) {
				lay = last
			}
			plan, xprog, xidx, oprog, oidx := lay.plan, lay.xprog, lay.xidx, lay.oprog, lay.oidx
			xis := (hw + 1) * gc
			for n := 0; n < nb; n++ {
				src := xd[(n*m+c0)*hw:]
				done := 0
				if xprog != nil && gc >= 16 {
					done = gc &^ 15
					_ = src[done*hw-1]
					_ = xt[n*xis+(hw-1)*gc+done-1]
					permBlocksAVX512(&xt[n*xis], &src[0], &xprog[0], hw, &xidx[0], done/16, 64, 64*hw)
				}
				transposeF32(xt[n*xis+done:], gc, src[done*hw:], hw, hw, gc-done)
				clear(xt[n*xis+hw*gc:][:gc])
			}
			wt := wts[c0*ksz:]
			// Bounds: the kernel reads nb blocks of xis (plus slack) and
			// ksz rows of weights (likewise), writes nb blocks of ohw rows.
			_ = xt[nb*xis+15]
			_ = wt[ksz*gc+15]
			_ = ot[nb*ohw*gc-1]
			for b0 := 0; b0 < gc; b0 += 16 {
				lanes := min(16, gc-b0)
				var bp *float32
				if bias != nil {
					_ = bias[c0+b0+lanes-1]
					bp = &bias[c0+b0]
				}
				dwBlockAVX512(&ot[b0], &xt[b0], &wt[b0], bp, 1<<lanes-1, 4*gc, ohw, ksz, nb, 4*xis, 4*ohw*gc, &plan[0])
			}
			for n := 0; n < nb; n++ {
				dst := od[(n*m+c0)*ohw:]
				done := 0
				if oprog != nil && gc >= 16 {
					done = gc &^ 15
					_ = dst[done*ohw-1]
					_ = ot[n*ohw*gc+(ohw-1)*gc+done-1]
					permBlocksAVX512(&dst[0], &ot[n*ohw*gc], &oprog[0], ohw, &oidx[0], done/16, 64*ohw, 64)
				}
				transposeF32(dst[done*ohw:], ohw, ot[n*ohw*gc+done:], gc, gc-done, ohw)
			}
		}
	})
}

// dwWeightsKey identifies a depthwise weight transposed by groupTransposed.
type dwWeightsKey struct {
	p     unsafe.Pointer
	n     int
	group int
}

// groupTransposed returns the m×ksz weights wd as depthwiseChannels reads
// them: for each group of (up to) group channels, at the group's offset
// c0·ksz, its ksz×gc transpose (tap-major), then a vector of slack; the
// whole starting on a cache line.
func groupTransposed(wd []float32, m, ksz, group int) []float32 {
	wts := aligned64(make([]float32, m*ksz+16+15))[:m*ksz+16]
	for c0 := 0; c0 < m; c0 += group {
		gc := min(group, m-c0)
		transposeF32(wts[c0*ksz:], gc, wd[c0*ksz:], ksz, ksz, gc)
	}
	return wts
}

// aligned64 returns the part of s from its first element on a 64-byte
// boundary (s must have 15 floats to spare): a 64-byte load from an
// unaligned block would straddle two cache lines.
func aligned64(s []float32) []float32 {
	return s[(64-int(uintptr(unsafe.Pointer(unsafe.SliceData(s)))%64))%64/4:]
}
