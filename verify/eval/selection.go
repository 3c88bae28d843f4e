package eval

import (
	"bytes"
	"fmt"
	"sort"
)

func init() {
	register("selection", false, map[string]opFunc{
		"Compress":        opCompress,
		"Unique":          opUnique,
		"ReverseSequence": opReverseSequence,
	})
}

// opCompress keeps the slices along axis (of the flattened input without
// an axis) whose condition entry is true.
func opCompress(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 2); err != nil {
		return nil, err
	}
	x, cond := in[0], in[1]
	if cond.dtype != Bool || cond.Rank() != 1 {
		return nil, fmt.Errorf("condition must be a 1-D bool tensor, is %v%v", cond.dtype, cond.shape)
	}
	if !c.hasAttr("axis") {
		x = x.reshaped([]int64{int64(x.Len())})
	}
	axis, err := normAxis(c.attrInt("axis", 0), max(x.Rank(), 1))
	if err != nil {
		return nil, err
	}
	cv := cond.Bools()
	n := int(x.shape[axis])
	if len(cv) > n {
		return nil, fmt.Errorf("condition has %d entries for an axis of length %d", len(cv), n)
	}
	var keep []int
	for i, b := range cv {
		if b {
			keep = append(keep, i)
		}
	}
	shape := append([]int64{}, x.shape...)
	shape[axis] = int64(len(keep))
	o := mustNew(x.dtype, shape)
	es := x.dtype.Size()
	outer := int(NumElements(x.shape[:axis]))
	inner := int(NumElements(x.shape[axis+1:])) * es
	ob, xb := o.bytes(), x.bytes()
	for a := 0; a < outer; a++ {
		for j, k := range keep {
			copy(ob[(a*len(keep)+j)*inner:][:inner], xb[(a*n+k)*inner:][:inner])
		}
	}
	return []*Tensor{o}, nil
}

// opUnique finds the distinct elements (or slices along axis): sorted
// ascending, or in order of first occurrence with sorted=0; with the index
// of each first occurrence, the inverse mapping and the counts.
func opUnique(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0]
	hasAxis := c.hasAttr("axis")
	if !hasAxis {
		x = x.reshaped([]int64{int64(x.Len())})
	}
	axis, err := normAxis(c.attrInt("axis", 0), max(x.Rank(), 1))
	if err != nil {
		return nil, err
	}
	n := int(x.shape[axis])
	outer := int(NumElements(x.shape[:axis]))
	inner := int(NumElements(x.shape[axis+1:]))
	es := x.dtype.Size()
	xb := x.bytes()
	// Slice j as comparable values and raw bytes.
	vals := make([][]float64, n)
	raw := make([][]byte, n)
	for j := 0; j < n; j++ {
		for a := 0; a < outer; a++ {
			for b := 0; b < inner; b++ {
				p := (a*n+j)*inner + b
				vals[j] = append(vals[j], x.f64At(p))
				raw[j] = append(raw[j], xb[p*es:(p+1)*es]...)
			}
		}
	}
	var first []int
	inverse := make([]int64, n)
	group := map[string]int{}
	for j := 0; j < n; j++ {
		k := string(raw[j])
		if g, ok := group[k]; ok {
			inverse[j] = int64(g)
			continue
		}
		group[k] = len(first)
		inverse[j] = int64(len(first))
		first = append(first, j)
	}
	order := make([]int, len(first)) // output position -> group
	for i := range order {
		order[i] = i
	}
	if c.attrInt("sorted", 1) != 0 {
		less := func(a, b int) bool {
			va, vb := vals[first[a]], vals[first[b]]
			for i := range va {
				if va[i] != vb[i] {
					return va[i] < vb[i]
				}
			}
			return bytes.Compare(raw[first[a]], raw[first[b]]) < 0
		}
		sort.SliceStable(order, func(i, j int) bool { return less(order[i], order[j]) })
	}
	pos := make([]int64, len(first))
	for i, g := range order {
		pos[g] = int64(i)
	}
	u := len(first)
	shape := append([]int64{}, x.shape...)
	shape[axis] = int64(u)
	y := mustNew(x.dtype, shape)
	yb := y.bytes()
	idx := make([]int64, u)
	cnt := make([]int64, u)
	for i, g := range order {
		j := first[g]
		idx[i] = int64(j)
		for a := 0; a < outer; a++ {
			copy(yb[((a*u+i)*inner)*es:][:inner*es], xb[((a*n+j)*inner)*es:][:inner*es])
		}
	}
	inv := make([]int64, n)
	for j := range inverse {
		inv[j] = pos[inverse[j]]
		cnt[inv[j]]++
	}
	return []*Tensor{y, NewInt64([]int64{int64(u)}, idx), NewInt64([]int64{int64(n)}, inv), NewInt64([]int64{int64(u)}, cnt)}, nil
}

func opReverseSequence(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 2); err != nil {
		return nil, err
	}
	x, lens := in[0], in[1]
	if x.Rank() < 2 {
		return nil, fmt.Errorf("input must have rank >= 2, has shape %v", x.shape)
	}
	bAxis, err := normAxis(c.attrInt("batch_axis", 1), x.Rank())
	if err != nil {
		return nil, err
	}
	tAxis, err := normAxis(c.attrInt("time_axis", 0), x.Rank())
	if err != nil {
		return nil, err
	}
	if bAxis == tAxis || lens.Len() != int(x.shape[bAxis]) {
		return nil, fmt.Errorf("batch_axis %d, time_axis %d and sequence_lens %v do not fit input %v", bAxis, tAxis, lens.shape, x.shape)
	}
	o := x.Clone()
	es := x.dtype.Size()
	xs := stridesOf(x.shape)
	ob, xb := o.bytes(), x.bytes()
	var ierr error
	odometer(x.shape, func(p []int64) {
		l := lens.i64At(int(p[bAxis]))
		if l < 0 || l > x.shape[tAxis] {
			ierr = fmt.Errorf("sequence length %d out of range [0, %d]", l, x.shape[tAxis])
			return
		}
		t := p[tAxis]
		if t >= l {
			return
		}
		dst := int64(0)
		src := int64(0)
		for d, v := range p {
			dst += v * xs[d]
			if d == tAxis {
				v = l - 1 - t
			}
			src += v * xs[d]
		}
		copy(ob[dst*int64(es):(dst+1)*int64(es)], xb[src*int64(es):])
	})
	if ierr != nil {
		return nil, ierr
	}
	return []*Tensor{o}, nil
}
