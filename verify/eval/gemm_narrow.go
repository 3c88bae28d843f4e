package eval

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

// narrowTail runs kr's narrow kernel on the last strip of a packed A
// block (mc rows from row i of c, K block of kc) when it holds few rows,
// over the n columns of the packed B panel bp, and returns the rows left
// for the regular tiles (mc itself when the narrow kernel does not
// apply).
func (kr *gemmKernel) narrowTail(kc int, ap, bp, c []float32, ldc, i, mc, j0, n int) int {
	rem := mc % kr.mr
	if kr.narrow == nil || rem == 0 || rem > kr.narrowMax {
		return mc
	}
	full := mc - rem
	kr.narrow(kc, ap[(full/kr.mr)*kc*kr.mr:], kr.mr, bp, c[(i+full)*ldc+j0:], ldc, rem, n)
	return full
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
