package eval

import (
	"fmt"
	"math"
	"sort"
)

func init() {
	register("topk", true, map[string]opFunc{
		"TopK":    opTopK,
		"NonZero": opNonZero,
	})
}

// opTopK returns the k largest (or smallest) elements along an axis and
// their indices; equal values keep the lower index first, NaN counts as
// larger than every number (as the reference implementation's sort).
func opTopK(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, fmt.Errorf("X is missing")
	}
	x := in[0]
	if x.Rank() == 0 {
		return nil, fmt.Errorf("X must have rank >= 1")
	}
	var k int64
	if c.opset < 10 {
		k = c.attrInt("k", -1)
	} else {
		if len(in) < 2 || in[1] == nil {
			return nil, fmt.Errorf("K input is missing")
		}
		var err error
		if k, err = scalarInt(in[1], "K"); err != nil {
			return nil, err
		}
	}
	axis, err := normAxis(c.attrInt("axis", -1), x.Rank())
	if err != nil {
		return nil, err
	}
	n := x.shape[axis]
	if k < 0 || k > n {
		return nil, fmt.Errorf("K = %d out of range for axis of length %d", k, n)
	}
	largest := c.attrInt("largest", 1) != 0
	outer := int(NumElements(x.shape[:axis]))
	inner := int(NumElements(x.shape[axis+1:]))
	shape := append([]int64{}, x.shape...)
	shape[axis] = k
	vals, idx := mustNew(x.dtype, shape), mustNew(Int64, shape)
	id := idx.data.([]int64)
	isFloat := x.dtype.isFloat()
	order := make([]int, n)
	key := make([]float64, n)
	ikey := make([]int64, n)
	for a := 0; a < outer; a++ {
		for b := 0; b < inner; b++ {
			for j := range order {
				order[j] = j
				p := (a*int(n)+j)*inner + b
				if isFloat {
					key[j] = x.f64At(p)
				} else {
					ikey[j] = x.i64At(p)
				}
			}
			less := func(i, j int) bool { // "comes first"
				if isFloat {
					u, v := key[i], key[j]
					un, vn := math.IsNaN(u), math.IsNaN(v)
					switch {
					case un || vn:
						if un && vn {
							return i < j
						}
						return un == largest
					case u != v:
						return (u > v) == largest
					}
				} else if ikey[i] != ikey[j] {
					return (ikey[i] > ikey[j]) == largest
				}
				return i < j
			}
			sort.Slice(order, func(i, j int) bool { return less(order[i], order[j]) })
			for j := 0; j < int(k); j++ {
				src := (a*int(n)+order[j])*inner + b
				dst := (a*int(k)+j)*inner + b
				es := x.dtype.Size()
				copy(vals.bytes()[dst*es:(dst+1)*es], x.bytes()[src*es:(src+1)*es])
				id[dst] = int64(order[j])
			}
		}
	}
	return []*Tensor{vals, idx}, nil
}

// opNonZero returns the indices of the non-zero elements, one row per
// axis, in row-major order.
func opNonZero(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0]
	var hits []int
	for i := 0; i < x.Len(); i++ {
		if v := x.f64At(i); v != 0 {
			hits = append(hits, i)
		}
	}
	r := x.Rank()
	if r == 0 {
		// A scalar is treated as a 1-element 1-D tensor.
		o := mustNew(Int64, []int64{1, int64(len(hits))})
		return []*Tensor{o}, nil
	}
	o := mustNew(Int64, []int64{int64(r), int64(len(hits))})
	od := o.data.([]int64)
	st := stridesOf(x.shape)
	for j, h := range hits {
		rem := int64(h)
		for d := 0; d < r; d++ {
			od[d*len(hits)+j] = rem / st[d]
			rem %= st[d]
		}
	}
	return []*Tensor{o}, nil
}
