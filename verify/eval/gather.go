package eval

import (
	"fmt"
	"sync/atomic"
)

func init() {
	register("gather", false, map[string]opFunc{
		"Gather":         opGather,
		"GatherElements": opGatherElements,
		"OneHot":         opOneHot,
	})
}

func indexAt(idx *Tensor, i int, dim int64) (int64, error) {
	v := idx.i64At(i)
	if v < 0 {
		v += dim
	}
	if v < 0 || v >= dim {
		return 0, fmt.Errorf("index %d out of range for dim %d", idx.i64At(i), dim)
	}
	return v, nil
}

func checkIndexType(t *Tensor) error {
	if t.dtype != Int64 && t.dtype != Int32 {
		return fmt.Errorf("indices must be int32 or int64, are %v", t.dtype)
	}
	return nil
}

func opGather(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 2); err != nil {
		return nil, err
	}
	x, idx := in[0], in[1]
	if err := checkIndexType(idx); err != nil {
		return nil, err
	}
	if x.Rank() == 0 {
		return nil, fmt.Errorf("data must have rank >= 1")
	}
	axis, err := normAxis(c.attrInt("axis", 0), x.Rank())
	if err != nil {
		return nil, err
	}
	shape := append(append(append([]int64{}, x.shape[:axis]...), idx.shape...), x.shape[axis+1:]...)
	o := mustNew(x.dtype, shape)
	outer := int(NumElements(x.shape[:axis]))
	dim := x.shape[axis]
	es := x.dtype.Size()
	inner := int(NumElements(x.shape[axis+1:])) * es
	ni := idx.Len()
	ob, xb := o.bytes(), x.bytes()
	pos := make([]int64, ni)
	for j := range pos {
		if pos[j], err = indexAt(idx, j, dim); err != nil {
			return nil, err
		}
	}
	if inner == 4 {
		od, xd := viewAs[uint32](ob), viewAs[uint32](xb)
		for i := 0; i < outer; i++ {
			for j, p := range pos {
				od[i*ni+j] = xd[int64(i)*dim+p]
			}
		}
		return []*Tensor{o}, nil
	}
	for i := 0; i < outer; i++ {
		for j, p := range pos {
			d := (i*ni + j) * inner
			s := (int64(i)*dim + p) * int64(inner)
			copy(ob[d:d+inner], xb[s:s+int64(inner)])
		}
	}
	return []*Tensor{o}, nil
}

func opGatherElements(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 2); err != nil {
		return nil, err
	}
	x, idx := in[0], in[1]
	if err := checkIndexType(idx); err != nil {
		return nil, err
	}
	if x.Rank() != idx.Rank() || x.Rank() == 0 {
		return nil, fmt.Errorf("data %v and indices %v must have the same rank >= 1", x.shape, idx.shape)
	}
	axis, err := normAxis(c.attrInt("axis", 0), x.Rank())
	if err != nil {
		return nil, err
	}
	for d := range x.shape {
		if d != axis && idx.shape[d] > x.shape[d] {
			return nil, fmt.Errorf("indices shape %v exceeds data shape %v on axis %d", idx.shape, x.shape, d)
		}
	}
	o := mustNew(x.dtype, idx.shape)
	es := x.dtype.Size()
	ob, xb := o.bytes(), x.bytes()
	if ok, err := gatherElementsLastAxis(x, idx, o, axis); ok || err != nil {
		return []*Tensor{o}, err
	}
	xs := stridesOf(x.shape)
	r := idx.Rank()
	cnt := make([]int64, r)
	dim := x.shape[axis]
	for k := 0; k < idx.Len(); k++ {
		p, err := indexAt(idx, k, dim)
		if err != nil {
			return nil, err
		}
		off := int64(0)
		for d := 0; d < r; d++ {
			if d == axis {
				off += p * xs[d]
			} else {
				off += cnt[d] * xs[d]
			}
		}
		copy(ob[k*es:(k+1)*es], xb[off*int64(es):])
		for d := r - 1; d >= 0; d-- {
			cnt[d]++
			if cnt[d] < idx.shape[d] {
				break
			}
			cnt[d] = 0
		}
	}
	return []*Tensor{o}, nil
}

func opOneHot(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 3, 3); err != nil {
		return nil, err
	}
	idx, dt, vals := in[0], in[1], in[2]
	if dt.Len() != 1 {
		return nil, fmt.Errorf("depth must have one element, has shape %v", dt.shape)
	}
	depth := int64(dt.f64At(0))
	if depth <= 0 {
		return nil, fmt.Errorf("depth must be positive, is %d", depth)
	}
	if vals.Len() != 2 {
		return nil, fmt.Errorf("values must have two elements, has shape %v", vals.shape)
	}
	r := idx.Rank() + 1
	axis, err := normAxis(c.attrInt("axis", -1), r)
	if err != nil {
		return nil, err
	}
	shape := append(append(append([]int64{}, idx.shape[:axis]...), depth), idx.shape[axis:]...)
	o := mustNew(vals.dtype, shape)
	es := vals.dtype.Size()
	ob, vb := o.bytes(), vals.bytes()
	off, on := vb[:es], vb[es:2*es]
	fillBytes(ob, off, es)
	outer := int(NumElements(idx.shape[:axis]))
	inner := int(NumElements(idx.shape[axis:]))
	for i := 0; i < outer; i++ {
		for k := 0; k < inner; k++ {
			v := int64(idx.f64At(i*inner + k))
			if v < 0 {
				v += depth
			}
			if v < 0 || v >= depth {
				continue
			}
			p := ((int64(i)*depth+v)*int64(inner) + int64(k)) * int64(es)
			copy(ob[p:p+int64(es)], on)
		}
	}
	return []*Tensor{o}, nil
}

// gatherElementsLastAxis is GatherElements along the last axis when the
// indices cover the leading dims of x exactly (the label pick of a loss:
// logp [N, C], labels [N, 1]) and elements are 4 or 8 bytes: a flat loop
// per row over both cores, so that the row reads (cache misses on a large
// x) overlap. Reports false when the case does not apply.
func gatherElementsLastAxis(x, idx, o *Tensor, axis int) (bool, error) {
	r := x.Rank()
	if axis != r-1 || idx.dtype != Int64 && idx.dtype != Int32 {
		return false, nil
	}
	for d := 0; d < r-1; d++ {
		if idx.shape[d] != x.shape[d] {
			return false, nil
		}
	}
	switch x.dtype.Size() {
	case 4:
		return true, gatherLast(viewAs[uint32](o.bytes()), viewAs[uint32](x.bytes()), idx, x.shape[r-1])
	case 8:
		return true, gatherLast(viewAs[uint64](o.bytes()), viewAs[uint64](x.bytes()), idx, x.shape[r-1])
	}
	return false, nil
}

// gatherLast sets o[i·k+j] = x[i·dim + idx[i·k+j]] (negative indices count
// from the end) for rows of k = len(idx)/rows indices.
func gatherLast[T any](o, x []T, idx *Tensor, dim int64) error {
	n := idx.Len()
	if n == 0 {
		return nil
	}
	k := int(idx.shape[len(idx.shape)-1])
	if k == 0 {
		return nil
	}
	rows := n / k
	bad := newFirstPos()
	pick := func(i, j int, v int64) bool {
		if v < 0 {
			v += dim
		}
		if v < 0 || v >= dim {
			bad.keep(int64(i*k + j)) // the first bad position in order, as the general path reports
			return false
		}
		o[i*k+j] = x[int64(i)*dim+v]
		return true
	}
	parallelFor(rows, 16*k, func(lo, hi int) {
		switch id := idx.data.(type) {
		case []int64:
			for i := lo; i < hi; i++ {
				for j, v := range id[i*k : (i+1)*k] {
					if !pick(i, j, v) {
						return
					}
				}
			}
		case []int32:
			for i := lo; i < hi; i++ {
				for j, v := range id[i*k : (i+1)*k] {
					if !pick(i, j, int64(v)) {
						return
					}
				}
			}
		}
	})
	if b := bad.get(); b >= 0 {
		_, err := indexAt(idx, int(b), dim)
		return err
	}
	return nil
}

// firstPos records the smallest position reported to it by concurrent
// workers (-1 until one is): parallel index checks report the error the
// sequential loop would have met first.
type firstPos struct{ v atomic.Int64 }

func newFirstPos() *firstPos {
	p := &firstPos{}
	p.v.Store(-1)
	return p
}

func (p *firstPos) keep(pos int64) {
	for {
		cur := p.v.Load()
		if cur >= 0 && cur <= pos || p.v.CompareAndSwap(cur, pos) {
			return
		}
	}
}

func (p *firstPos) get() int64 { return p.v.Load() }
