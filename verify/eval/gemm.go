package eval

import (
	"unsafe"
)

// Cache-blocked float32 matrix multiply (the GotoBLAS scheme): B is packed
// in KC×16 column strips, A in MC×KC blocks of 6-row strips, and a 6×16
// register-tile micro-kernel (AVX2/FMA assembly; a Go loop elsewhere)
// accumulates each tile. Work is split over column (or row) blocks across
// the cores. Accumulation is float32 with FMA, as ONNX Runtime's MLAS.
const (
	gemmMR = 6
	gemmNR = 16
	gemmKC = 256
	gemmMC = 72
)

// matView addresses a row-major matrix, possibly transposed: element (i,
// j) is data[i*rs + j*cs].
type matView struct {
	data   []float32
	rs, cs int
}

func rowMajor(d []float32, cols int) matView   { return matView{d, cols, 1} }
func transposed(d []float32, cols int) matView { return matView{d, 1, cols} }

// packA copies rows [i0, i0+mc) × cols [p0, p0+kc) of a into 6-row strips
// (zero-padded): strip s holds, for each p, rows 6s..6s+5.
func packA(dst []float32, a matView, i0, mc, p0, kc int) {
	n := 0
	for s := 0; s < mc; s += gemmMR {
		rows := min(gemmMR, mc-s)
		for p := 0; p < kc; p++ {
			base := (p0 + p) * a.cs
			for r := 0; r < rows; r++ {
				dst[n+r] = a.data[(i0+s+r)*a.rs+base]
			}
			for r := rows; r < gemmMR; r++ {
				dst[n+r] = 0
			}
			n += gemmMR
		}
	}
}

// packB copies rows [p0, p0+kc) × cols [j0, j0+nc) of b into 16-column
// strips (zero-padded).
func packB(dst []float32, b matView, p0, kc, j0, nc int) {
	n := 0
	for s := 0; s < nc; s += gemmNR {
		cols := min(gemmNR, nc-s)
		for p := 0; p < kc; p++ {
			row := (p0 + p) * b.rs
			d := dst[n : n+gemmNR]
			if b.cs == 1 {
				copy(d, b.data[row+j0+s:row+j0+s+cols])
			} else {
				for c := 0; c < cols; c++ {
					d[c] = b.data[row+(j0+s+c)*b.cs]
				}
			}
			for c := cols; c < gemmNR; c++ {
				d[c] = 0
			}
			n += gemmNR
		}
	}
}

// kernelGo is the micro-kernel in Go (for CPUs without AVX2/FMA).
func kernelGo(k int, a, b []float32, c []float32, ldc int) {
	var acc [gemmMR][gemmNR]float32
	for p := 0; p < k; p++ {
		bp := b[p*gemmNR : (p+1)*gemmNR]
		for r := 0; r < gemmMR; r++ {
			av := a[p*gemmMR+r]
			row := &acc[r]
			for j, bv := range bp {
				row[j] += av * bv
			}
		}
	}
	for r := 0; r < gemmMR; r++ {
		row := c[r*ldc : r*ldc+gemmNR]
		for j := range row {
			row[j] += acc[r][j]
		}
	}
}

// packed is a whole operand packed once (weights, reused across runs):
// for each KC block of K, every 6-row strip of A (or 16-column strip of B)
// in turn, so that a block's strips are contiguous.
type packed struct {
	data []float32
	pad  int // rows (A) or columns (B) rounded up to the strip width
}

// at returns the packed strips of K block p0 (length kc) starting at row
// (A) or column (B) r, a multiple of the strip width w.
func (p *packed) at(p0, kc, r, w int) []float32 {
	return p.data[p0*p.pad+(r/w)*w*kc:]
}

func packWholeA(a matView, m, k int) *packed {
	p := &packed{pad: (m + gemmMR - 1) / gemmMR * gemmMR}
	p.data = make([]float32, p.pad*k)
	for p0 := 0; p0 < k; p0 += gemmKC {
		kc := min(gemmKC, k-p0)
		packA(p.data[p0*p.pad:], a, 0, m, p0, kc)
	}
	return p
}

func packWholeB(b matView, k, n int) *packed {
	p := &packed{pad: (n + gemmNR - 1) / gemmNR * gemmNR}
	p.data = make([]float32, p.pad*k)
	for p0 := 0; p0 < k; p0 += gemmKC {
		kc := min(gemmKC, k-p0)
		packB(p.data[p0*p.pad:], b, p0, kc, 0, n)
	}
	return p
}

// gemmBlock computes c[i0:i0+m, j0:j0+n] += a·b over the whole K, packing
// into pa and pb unless the operand comes pre-packed (preA, preB).
func gemmBlock(a, b matView, preA, preB *packed, c []float32, ldc, i0, m, j0, n, k int, pa, pb []float32) {
	var edge [gemmMR * gemmNR]float32
	for p0 := 0; p0 < k; p0 += gemmKC {
		kc := min(gemmKC, k-p0)
		bpanel := pb
		if preB != nil {
			bpanel = preB.at(p0, kc, j0, gemmNR)
		} else {
			packB(pb, b, p0, kc, j0, n)
		}
		for ic := 0; ic < m; ic += gemmMC {
			mc := min(gemmMC, m-ic)
			apanel := pa
			if preA != nil {
				apanel = preA.at(p0, kc, i0+ic, gemmMR)
			} else {
				packA(pa, a, i0+ic, mc, p0, kc)
			}
			for js := 0; js < n; js += gemmNR {
				cols := min(gemmNR, n-js)
				bp := bpanel[(js/gemmNR)*kc*gemmNR:]
				for is := 0; is < mc; is += gemmMR {
					rows := min(gemmMR, mc-is)
					ap := apanel[(is/gemmMR)*kc*gemmMR:]
					ci := (i0+ic+is)*ldc + j0 + js
					if rows == gemmMR && cols == gemmNR {
						runKernel(kc, ap, bp, c[ci:], ldc)
						continue
					}
					clear(edge[:])
					runKernel(kc, ap, bp, edge[:], gemmNR)
					for r := 0; r < rows; r++ {
						row := c[ci+r*ldc : ci+r*ldc+cols]
						for j := range row {
							row[j] += edge[r*gemmNR+j]
						}
					}
				}
			}
		}
	}
}

func runKernel(k int, a, b, c []float32, ldc int) {
	if haveAVX2 {
		sgemmKernel6x16(k, unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c), ldc)
		return
	}
	kernelGo(k, a, b, c, ldc)
}

// sgemm computes c (m×n, row stride ldc) += a (m×k) · b (k×n).
func sgemm(m, n, k int, a, b matView, c []float32, ldc int) {
	sgemmPacked(m, n, k, a, b, nil, nil, c, ldc)
}

// sgemmPacked is sgemm with optionally pre-packed operands.
func sgemmPacked(m, n, k int, a, b matView, preA, preB *packed, c []float32, ldc int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	// Split the larger side into blocks for the workers.
	alongN := n >= m
	side, unit := m, gemmMR
	if alongN {
		side, unit = n, gemmNR
	}
	blocks := (side + unit - 1) / unit
	// The operand every worker reads whole is packed once, up front.
	if blocks > 1 {
		if alongN && preA == nil {
			preA = packWholeA(a, m, k)
		}
		if !alongN && preB == nil {
			preB = packWholeB(b, k, n)
		}
	}
	parallelFor(blocks, max(m*n*k/max(blocks, 1), 1), func(lo, hi int) {
		s0, s1 := lo*unit, min(hi*unit, side)
		kc := min(gemmKC, k)
		var pa, pb []float32
		if preA == nil {
			pa = make([]float32, gemmMC*kc)
		}
		if alongN {
			if preB == nil {
				pb = make([]float32, ((s1-s0+gemmNR-1)/gemmNR)*gemmNR*kc)
			}
			gemmBlock(a, b, preA, preB, c, ldc, 0, m, s0, s1-s0, k, pa, pb)
		} else {
			if preB == nil {
				pb = make([]float32, ((n+gemmNR-1)/gemmNR)*gemmNR*kc)
			}
			gemmBlock(a, b, preA, preB, c, ldc, s0, s1-s0, 0, n, k, pa, pb)
		}
	})
}
