package eval

import "fmt"

func init() {
	register("scatter", false, map[string]opFunc{
		"ScatterND":       opScatterND,
		"ScatterElements": opScatterElements,
		"Scatter":         opScatterElements,
		"GatherND":        opGatherND,
	})
}

// combiner writes update element u of upd into element d of out under a
// reduction (none, add, mul, max, min): integers exactly, floats in float64.
type combiner func(out *Tensor, d int, upd *Tensor, u int)

func reductionOf(c *opCtx, dt DType) (combiner, error) {
	red := c.attrString("reduction", "none")
	es := dt.Size()
	if red == "none" {
		return func(out *Tensor, d int, upd *Tensor, u int) {
			copy(out.bytes()[d*es:(d+1)*es], upd.bytes()[u*es:(u+1)*es])
		}, nil
	}
	if dt == Bool {
		return nil, fmt.Errorf("reduction %q is not defined for bool", red)
	}
	var ff func(a, b float64) float64
	var fi func(a, b int64) int64
	switch red {
	case "add":
		ff, fi = func(a, b float64) float64 { return a + b }, func(a, b int64) int64 { return a + b }
	case "mul":
		ff, fi = func(a, b float64) float64 { return a * b }, func(a, b int64) int64 { return a * b }
	case "max":
		ff, fi = func(a, b float64) float64 { return max(a, b) }, func(a, b int64) int64 { return max(a, b) }
	case "min":
		ff, fi = func(a, b float64) float64 { return min(a, b) }, func(a, b int64) int64 { return min(a, b) }
	default:
		return nil, fmt.Errorf("unknown reduction %q (want none, add, mul, max or min)", red)
	}
	if dt.isFloat() {
		return func(out *Tensor, d int, upd *Tensor, u int) { out.setF64(d, ff(out.f64At(d), upd.f64At(u))) }, nil
	}
	return func(out *Tensor, d int, upd *Tensor, u int) { out.setI64(d, fi(out.i64At(d), upd.i64At(u))) }, nil
}

func opScatterND(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 3, 3); err != nil {
		return nil, err
	}
	x, idx, upd := in[0], in[1], in[2]
	if idx.dtype != Int64 {
		return nil, fmt.Errorf("indices must be int64, are %v", idx.dtype)
	}
	if upd.dtype != x.dtype {
		return nil, fmt.Errorf("updates are %v, data is %v", upd.dtype, x.dtype)
	}
	if idx.Rank() == 0 {
		return nil, fmt.Errorf("indices must have rank >= 1")
	}
	k := int(idx.shape[idx.Rank()-1])
	if k > x.Rank() {
		return nil, fmt.Errorf("indices' last dim %d exceeds data rank %d", k, x.Rank())
	}
	want := append(append([]int64{}, idx.shape[:idx.Rank()-1]...), x.shape[k:]...)
	if !shapeEq(upd.shape, want) {
		return nil, fmt.Errorf("updates have shape %v, want %v", upd.shape, want)
	}
	comb, err := reductionOf(c, x.dtype)
	if err != nil {
		return nil, err
	}
	o := x.Clone()
	xs := stridesOf(x.shape)
	slice := int(NumElements(x.shape[k:]))
	n := idx.Len() / max(k, 1)
	if k == 0 {
		n = int(NumElements(idx.shape[:idx.Rank()-1]))
	}
	for j := 0; j < n; j++ {
		off := int64(0)
		for d := 0; d < k; d++ {
			v, err := indexAt(idx, j*k+d, x.shape[d])
			if err != nil {
				return nil, err
			}
			off += v * xs[d]
		}
		for e := 0; e < slice; e++ {
			comb(o, int(off)+e, upd, j*slice+e)
		}
	}
	return []*Tensor{o}, nil
}

func opScatterElements(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 3, 3); err != nil {
		return nil, err
	}
	x, idx, upd := in[0], in[1], in[2]
	if err := checkIndexType(idx); err != nil {
		return nil, err
	}
	if upd.dtype != x.dtype {
		return nil, fmt.Errorf("updates are %v, data is %v", upd.dtype, x.dtype)
	}
	if !shapeEq(idx.shape, upd.shape) || idx.Rank() != x.Rank() {
		return nil, fmt.Errorf("indices %v and updates %v must have the same shape, of data's rank %d", idx.shape, upd.shape, x.Rank())
	}
	if x.Rank() == 0 {
		return nil, fmt.Errorf("data must have rank >= 1")
	}
	axis, err := normAxis(c.attrInt("axis", 0), x.Rank())
	if err != nil {
		return nil, err
	}
	comb, err := reductionOf(c, x.dtype)
	if err != nil {
		return nil, err
	}
	o := x.Clone()
	xs := stridesOf(x.shape)
	i := 0
	var ierr error
	odometer(idx.shape, func(p []int64) {
		if ierr != nil {
			return
		}
		off := int64(0)
		for d, v := range p {
			if d == axis {
				v, ierr = indexAt(idx, i, x.shape[axis])
				if ierr != nil {
					return
				}
			} else if v >= x.shape[d] {
				ierr = fmt.Errorf("indices shape %v exceeds data shape %v", idx.shape, x.shape)
				return
			}
			off += v * xs[d]
		}
		comb(o, int(off), upd, i)
		i++
	})
	if ierr != nil {
		return nil, ierr
	}
	return []*Tensor{o}, nil
}

func opGatherND(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 2); err != nil {
		return nil, err
	}
	x, idx := in[0], in[1]
	if idx.dtype != Int64 {
		return nil, fmt.Errorf("indices must be int64, are %v", idx.dtype)
	}
	b := int(c.attrInt("batch_dims", 0))
	if idx.Rank() < 1 || b < 0 || b >= idx.Rank() || b >= x.Rank() {
		return nil, fmt.Errorf("batch_dims %d does not fit data %v and indices %v", b, x.shape, idx.shape)
	}
	for d := 0; d < b; d++ {
		if x.shape[d] != idx.shape[d] {
			return nil, fmt.Errorf("batch dims of data %v and indices %v differ", x.shape, idx.shape)
		}
	}
	k := int(idx.shape[idx.Rank()-1])
	if b+k > x.Rank() {
		return nil, fmt.Errorf("indices' last dim %d with batch_dims %d exceeds data rank %d", k, b, x.Rank())
	}
	shape := append(append([]int64{}, idx.shape[:idx.Rank()-1]...), x.shape[b+k:]...)
	o := mustNew(x.dtype, shape)
	es := x.dtype.Size()
	slice := int(NumElements(x.shape[b+k:])) * es
	batch := int(NumElements(x.shape[:b]))
	perBatch := int(NumElements(idx.shape[b : idx.Rank()-1]))
	xbatch := int(NumElements(x.shape[b:]))
	xs := stridesOf(x.shape[b:])
	ob, xb := o.bytes(), x.bytes()
	for bi := 0; bi < batch; bi++ {
		for j := 0; j < perBatch; j++ {
			q := bi*perBatch + j
			off := int64(bi * xbatch)
			for d := 0; d < k; d++ {
				v, err := indexAt(idx, q*k+d, x.shape[b+d])
				if err != nil {
					return nil, err
				}
				off += v * xs[d]
			}
			copy(ob[q*slice:(q+1)*slice], xb[off*int64(es):off*int64(es)+int64(slice)])
		}
	}
	return []*Tensor{o}, nil
}
