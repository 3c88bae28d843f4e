package eval

import "unsafe"

// Narrow products: when a block of A has few rows left after its whole
// register tiles (the pixels of a 1×1 convolution on a 2×2 map, the batch
// of a classifier head), the kernel's narrow form multiplies just those
// rows, instead of a full-height edge tile whose FMAs are mostly on zero
// padding. A 1-row product then streams B at load bandwidth.

// narrowWideStrips is how many 32-column strips the wide narrow kernel for
// r rows multiplies at once: enough accumulators (r·2·strips ≤ 16) that
// the FMAs' latency is hidden and each broadcast of A feeds several FMAs
// (gemm_narrow_gen.go generates the kernels for it).
func narrowWideStrips(r int) int {
	if r <= 2 {
		return 4
	}
	return 2
}

// narrowRows is how many of the last rows of an mc-row A block kr's
// narrow kernel takes (none when the last strip is whole or too tall).
func (kr *gemmKernel) narrowRows(mc int) int {
	rem := mc % kr.mr
	if kr.narrow == nil || rem > kr.narrowMax {
		return 0
	}
	return rem
}

// narrowTail runs kr's narrow kernel on the rows rows from row full of a
// packed A block (the block's last strip; its first row is row i of c,
// its K block kc long), over the n columns of the packed B panel bp. It
// runs after the block's whole tiles, so that they stream B from memory
// at their pace and the narrow pass finds it in L2.
func (kr *gemmKernel) narrowTail(kc int, ap, bp, c []float32, ldc, i, full, rows, j0, n int) {
	kr.narrow(kc, ap[(full/kr.mr)*kc*kr.mr:], kr.mr, bp, c[(i+full)*ldc+j0:], ldc, rows, n)
}

// tileRows is the rows of work the kernel does on m rows of A: whole
// mr-row tiles, and the last strip at its own height when the narrow
// kernel takes it.
func (kr *gemmKernel) tileRows(m int) int {
	rem := m % kr.mr
	if rem == 0 || (kr.narrow != nil && rem <= kr.narrowMax) {
		return m
	}
	return m - rem + kr.mr
}

// sgemmNarrow is sgemmKernel for products of at most kr.narrowMax rows:
// every row goes through the narrow kernel, so A is not packed into
// full-height strips (mostly zero padding) but read where it lies when
// its row values of each k are contiguous, or else gathered (or, for an
// unfold, generated) once, tightly (m values per k). The columns are split over the workers in whole
// strips, each packing its own part of B unless B comes pre-packed.
func sgemmNarrow(kr *gemmKernel, m, n, k int, a, b matView, preA, preB *packed, c []float32, ldc int, parallel bool) {
	var ap []float32 // A's K block p0 at ap[p0·lda:], when not pre-packed
	lda := m
	switch {
	case preA != nil:
		lda = kr.mr
	case a.gen != nil:
		// An unfold: generated as one m-wide strip per K block, which is
		// the tight layout.
		s := getScratch(m * k)
		defer putScratch(s)
		ap = *s
		for p0 := 0; p0 < k; p0 += gemmKC {
			kc := min(gemmKC, k-p0)
			a.gen.packStrips(ap[p0*m:][:kc*m], m, p0, kc, a.u0, m)
		}
	case a.rs == 1 && a.cs > 1 && a.contiguous(m):
		// Transposed storage: the m rows of each k side by side.
		ap, lda = a.data[a.offsetA(0, 0):], a.cs
	default:
		s := getScratch(m * k)
		defer putScratch(s)
		ap = *s
		// Row i's element p is at base[i] + p·cs (the blocking, if any,
		// is along the rows).
		var base [16]int
		for i := 0; i < m; i++ {
			base[i] = a.offsetA(i, 0)
		}
		if a.cs == 1 {
			for i := 0; i < m; i++ {
				for p, v := range a.data[base[i]:][:k] {
					ap[p*m+i] = v
				}
			}
		} else {
			for p := 0; p < k; p++ {
				d, o := ap[p*m:][:m], p*a.cs
				for i := range d {
					d[i] = a.data[base[i]+o]
				}
			}
		}
	}
	// Work is split in whole groups of the wide kernel's strips.
	unit := kr.nr
	if m <= 4 {
		unit *= narrowWideStrips(m)
	}
	groups := (n + unit - 1) / unit
	run := func(lo, hi int) {
		j0, j1 := lo*unit, min(hi*unit, n)
		var pb []float32
		if preB == nil {
			s := getScratch((j1 - j0 + kr.nr - 1) / kr.nr * kr.nr * min(gemmKC, k))
			defer putScratch(s)
			pb = *s
		}
		for p0 := 0; p0 < k; p0 += gemmKC {
			kc := min(gemmKC, k-p0)
			bp := pb
			if preB != nil {
				bp = preB.at(p0, kc, j0, kr.nr)
			} else {
				packB(kr, pb, b, p0, kc, j0, j1-j0)
			}
			var as []float32
			if preA != nil {
				as = preA.at(p0, kc, 0, kr.mr)
			} else {
				as = ap[p0*lda:]
			}
			kr.narrow(kc, as, lda, bp, c[j0:], ldc, m, j1-j0)
		}
	}
	if !parallel || groups <= 1 || m*n*k < 2*minChunk {
		run(0, groups)
		return
	}
	parallelFor(groups, max(m*k*unit, 1), run)
}

// offsetA is where element (i, j) of v, an A operand, is in v.data: when
// v is blocked, its blocked index is the row (rows are unit-stride), the
// only blocked A that packA reads.
func (v matView) offsetA(i, j int) int {
	if v.blk == 0 {
		return i*v.rs + j*v.cs
	}
	u := i + v.u0
	return (u/v.blk)*v.bstride + u%v.blk + j*v.cs
}

// contiguous reports whether rows 0..m-1 of v (unit stride along its
// rows) lie side by side, in one block when v is blocked.
func (v matView) contiguous(m int) bool {
	return v.blk == 0 || (v.u0%v.blk)+m <= v.blk
}

// transposeOut writes the transpose of src (rows × cols, row stride
// cols) into dst (cols × rows, row stride rows): a transposed product's
// pixels × channels back to channel planes. The 8×8 blocks go through
// the AVX2 transpose when the CPU has it; element by element, the strided
// stores run into false dependencies on the loads and cost several times
// more.
func transposeOut(dst, src []float32, rows, cols int) {
	dst, src = dst[:rows*cols], src[:rows*cols]
	r8, c8 := 0, 0 // the 8×8-block part is rows < r8, cols < c8
	if haveAVX2 && transposeKernels && rows >= 8 && cols >= 8 {
		r8, c8 = rows/8*8, cols/8*8
		transpose32AVX2((*uint32)(unsafe.Pointer(&dst[0])), rows, (*uint32)(unsafe.Pointer(&src[0])), cols, r8/8, c8/8)
	}
	for c0 := 0; c0 < cols; c0 += 16 {
		c1 := min(c0+16, cols)
		for r := 0; r < rows; r++ {
			from := c0
			if r < r8 {
				from = max(c0, c8)
			}
			if from >= c1 {
				continue
			}
			for ch, v := range src[r*cols+from : r*cols+c1] {
				dst[(from+ch)*rows+r] = v
			}
		}
	}
}
