package eval

import "fmt"

func init() {
	register("matmul", true, map[string]opFunc{
		"MatMul": opMatMul,
		"Gemm":   opGemm,
	})
}

// matmulT computes o (m×n) += a (m×k) · b (k×n), all row-major.
func matmulT[T number](a, b, o []T, m, k, n int) {
	parallelFor(m, k*n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			orow := o[i*n : (i+1)*n]
			for p := 0; p < k; p++ {
				av := a[i*k+p]
				if av == 0 {
					continue
				}
				brow := b[p*n : (p+1)*n]
				for j := range orow {
					orow[j] += av * brow[j]
				}
			}
		}
	})
}

func matmulAny(a, b, o any, aoff, boff, ooff, m, k, n int) bool {
	switch ad := a.(type) {
	case []float32:
		matmulT(ad[aoff:aoff+m*k], b.([]float32)[boff:boff+k*n], o.([]float32)[ooff:ooff+m*n], m, k, n)
	case []float64:
		matmulT(ad[aoff:aoff+m*k], b.([]float64)[boff:boff+k*n], o.([]float64)[ooff:ooff+m*n], m, k, n)
	case []int32:
		matmulT(ad[aoff:aoff+m*k], b.([]int32)[boff:boff+k*n], o.([]int32)[ooff:ooff+m*n], m, k, n)
	case []int64:
		matmulT(ad[aoff:aoff+m*k], b.([]int64)[boff:boff+k*n], o.([]int64)[ooff:ooff+m*n], m, k, n)
	case []uint32:
		matmulT(ad[aoff:aoff+m*k], b.([]uint32)[boff:boff+k*n], o.([]uint32)[ooff:ooff+m*n], m, k, n)
	case []uint64:
		matmulT(ad[aoff:aoff+m*k], b.([]uint64)[boff:boff+k*n], o.([]uint64)[ooff:ooff+m*n], m, k, n)
	default:
		return false
	}
	return true
}

func opMatMul(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 2); err != nil {
		return nil, err
	}
	a, b := in[0], in[1]
	if a.dtype != b.dtype {
		return nil, fmt.Errorf("input types differ: %v and %v", a.dtype, b.dtype)
	}
	if a.Rank() == 0 || b.Rank() == 0 {
		return nil, fmt.Errorf("inputs must have rank >= 1, have shapes %v and %v", a.shape, b.shape)
	}
	as, bs := a.shape, b.shape
	if len(as) == 1 {
		as = []int64{1, as[0]}
	}
	if len(bs) == 1 {
		bs = []int64{bs[0], 1}
	}
	m, k := as[len(as)-2], as[len(as)-1]
	k2, n := bs[len(bs)-2], bs[len(bs)-1]
	if k != k2 {
		return nil, fmt.Errorf("shapes %v and %v cannot be multiplied", a.shape, b.shape)
	}
	batch, err := broadcastShapes(as[:len(as)-2], bs[:len(bs)-2])
	if err != nil {
		return nil, err
	}
	full := append(append([]int64{}, batch...), m, n)
	o := mustNew(a.dtype, full)
	nb := int(NumElements(batch))
	ai := make([]int, nb)
	bi := make([]int, nb)
	bcIndexer(batch, as[:len(as)-2])(func(o, i int) { ai[o] = i })
	bcIndexer(batch, bs[:len(bs)-2])(func(o, i int) { bi[o] = i })
	if len(batch) == 0 {
		ai, bi = []int{0}, []int{0}
		nb = 1
	}
	mi, ki, ni := int(m), int(k), int(n)
	if ad, ok := a.data.([]float32); ok {
		matmulFloat32(c, b, ad, b.data.([]float32), o.data.([]float32), ai, bi, mi, ki, ni)
		nb = 0
	}
	for q := 0; q < nb; q++ {
		if !matmulAny(a.data, b.data, o.data, ai[q]*mi*ki, bi[q]*ki*ni, q*mi*ni, mi, ki, ni) {
			return nil, fmt.Errorf("unsupported type %v", a.dtype)
		}
	}
	// Drop the promoted dims.
	out := append([]int64{}, batch...)
	if a.Rank() > 1 {
		out = append(out, m)
	}
	if b.Rank() > 1 {
		out = append(out, n)
	}
	return []*Tensor{o.reshaped(out)}, nil
}

func opGemm(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 3); err != nil {
		return nil, err
	}
	a, b := in[0], in[1]
	if a.Rank() != 2 || b.Rank() != 2 {
		return nil, fmt.Errorf("A and B must be 2-D, have shapes %v and %v", a.shape, b.shape)
	}
	if o, ok, err := gemmFloat32(c, in); ok || err != nil {
		return []*Tensor{o}, err
	}
	if c.attrInt("transA", 0) != 0 {
		a = transposeTensor(a, []int{1, 0})
	}
	if c.attrInt("transB", 0) != 0 {
		b = transposeTensor(b, []int{1, 0})
	}
	m, k, n := a.shape[0], a.shape[1], b.shape[1]
	if b.shape[0] != k {
		return nil, fmt.Errorf("A %v and B %v (after transposes) cannot be multiplied", a.shape, b.shape)
	}
	alpha, beta := float64(c.attrFloat("alpha", 1)), float64(c.attrFloat("beta", 1))
	ad, bd := a.AsFloat64(), b.AsFloat64()
	mustFit(Float64, m, n)
	acc := make([]float64, m*n)
	matmulT(ad, bd, acc, int(m), int(k), int(n))
	o := mustNew(a.dtype, []int64{m, n})
	var cv []float64
	var ci []int
	if len(in) > 2 && in[2] != nil {
		cs, err := broadcastShapes(in[2].shape, []int64{m, n})
		if err != nil || !shapeEq(cs, []int64{m, n}) {
			return nil, fmt.Errorf("C shape %v does not broadcast to [%d %d]", in[2].shape, m, n)
		}
		cv = in[2].AsFloat64()
		ci = make([]int, m*n)
		bcIndexer([]int64{m, n}, in[2].shape)(func(o, i int) { ci[o] = i })
	}
	for i, v := range acc {
		r := alpha * v
		if cv != nil {
			r += beta * cv[ci[i]]
		}
		o.setF64(i, r)
	}
	return []*Tensor{o}, nil
}

// gemmFloat32 is Gemm on float32 operands through the blocked GEMM:
// Y = alpha·op(A)·op(B) + beta·C, transposes read in place.
func gemmFloat32(c *opCtx, in []*Tensor) (*Tensor, bool, error) {
	a, b := in[0], in[1]
	ad, bd := a.Float32s(), b.Float32s()
	if ad == nil || bd == nil {
		return nil, false, nil
	}
	var cT *Tensor
	if len(in) > 2 && in[2] != nil {
		if in[2].Float32s() == nil {
			return nil, false, nil
		}
		cT = in[2]
	}
	ta, tb := c.attrInt("transA", 0) != 0, c.attrInt("transB", 0) != 0
	m, k := int(a.shape[0]), int(a.shape[1])
	if ta {
		m, k = k, m
	}
	k2, n := int(b.shape[0]), int(b.shape[1])
	if tb {
		k2, n = n, k2
	}
	if k != k2 {
		return nil, true, fmt.Errorf("A %v and B %v (transA %v, transB %v) cannot be multiplied", a.shape, b.shape, ta, tb)
	}
	av, bv := rowMajor(ad, int(a.shape[1])), rowMajor(bd, n)
	if ta {
		av = transposed(ad, m)
	}
	if tb {
		bv = transposed(bd, k)
	}
	alpha, beta := c.attrFloat("alpha", 1), c.attrFloat("beta", 1)
	o := c.alloc(Float32, []int64{int64(m), int64(n)})
	od := o.Float32s()
	clear(od)
	sgemmPacked(m, n, k, av, bv, c.packedWeight(a, av, m, k, true), c.packedWeight(b, bv, k, n, false), od, n)
	if alpha != 1 {
		for i := range od {
			od[i] *= alpha
		}
	}
	if cT != nil && beta != 0 {
		cs, err := broadcastShapes(cT.shape, []int64{int64(m), int64(n)})
		if err != nil || !shapeEq(cs, []int64{int64(m), int64(n)}) {
			return nil, true, fmt.Errorf("C shape %v does not broadcast to [%d %d]", cT.shape, m, n)
		}
		cd := cT.Float32s()
		bcIndexer([]int64{int64(m), int64(n)}, cT.shape)(func(o, i int) { od[o] += beta * cd[i] })
	}
	return o, true, nil
}
