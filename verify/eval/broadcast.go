package eval

import (
	"fmt"
	"unsafe"
)

// broadcastShapes returns the multidirectional (numpy) broadcast of shapes.
func broadcastShapes(shapes ...[]int64) ([]int64, error) {
	r := 0
	for _, s := range shapes {
		if len(s) > r {
			r = len(s)
		}
	}
	out := make([]int64, r)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := r - len(s)
		for i, d := range s {
			o := out[off+i]
			switch {
			case d == o || d == 1:
			case o == 1:
				out[off+i] = d
			default:
				return nil, fmt.Errorf("shapes %v are not broadcastable", fmtShapes(shapes))
			}
		}
	}
	return out, nil
}

func fmtShapes(shapes [][]int64) string {
	s := ""
	for i, sh := range shapes {
		if i > 0 {
			s += " and "
		}
		s += fmt.Sprint(sh)
	}
	return s
}

// bcPlan describes a binary broadcast after merging dims: outer dims are
// walked with an odometer, the innermost dim is handled by a slice kernel.
type bcPlan struct {
	outer        []int64 // sizes of outer (coalesced) dims
	aStr, bStr   []int64 // element strides of a and b in the outer dims (0 = broadcast)
	inner        int     // length of the innermost run
	aVar, bVar   bool    // whether a / b vary along the inner run
	rows         int     // product of outer
	aSize, bSize int
}

func planBinary(out, as, bs []int64) bcPlan {
	r := len(out)
	pad := func(s []int64) []int64 {
		p := make([]int64, r)
		for i := range p {
			p[i] = 1
		}
		copy(p[r-len(s):], s)
		return p
	}
	a, b := pad(as), pad(bs)
	// Keep dims with out > 1, merge neighbours with equal broadcast status.
	type dim struct {
		n            int64
		aFull, bFull bool
	}
	var dims []dim
	for i := 0; i < r; i++ {
		if out[i] == 1 {
			continue
		}
		d := dim{out[i], a[i] != 1, b[i] != 1}
		if k := len(dims); k > 0 && dims[k-1].aFull == d.aFull && dims[k-1].bFull == d.bFull {
			dims[k-1].n *= d.n
			continue
		}
		dims = append(dims, d)
	}
	p := bcPlan{inner: 1, rows: 1, aVar: true, bVar: true, aSize: int(NumElements(as)), bSize: int(NumElements(bs))}
	if len(dims) == 0 {
		return p
	}
	last := dims[len(dims)-1]
	p.inner, p.aVar, p.bVar = int(last.n), last.aFull, last.bFull
	dims = dims[:len(dims)-1]
	p.outer = make([]int64, len(dims))
	p.aStr = make([]int64, len(dims))
	p.bStr = make([]int64, len(dims))
	sa, sb := int64(1), int64(1)
	if p.aVar {
		sa = int64(p.inner)
	}
	if p.bVar {
		sb = int64(p.inner)
	}
	for i := len(dims) - 1; i >= 0; i-- {
		p.outer[i] = dims[i].n
		if dims[i].aFull {
			p.aStr[i] = sa
			sa *= dims[i].n
		}
		if dims[i].bFull {
			p.bStr[i] = sb
			sb *= dims[i].n
		}
		p.rows *= int(dims[i].n)
	}
	return p
}

// binKern holds slice kernels of a binary op: vv for two full runs, vs with b
// a scalar, sv with a a scalar.
type binKern[A, B, O any] struct {
	vv func(o []O, a []A, b []B)
	vs func(o []O, a []A, b B)
	sv func(o []O, a A, b []B)
	// streamed, if set, returns the kernels writing with non-temporal
	// stores, which runBinary uses for outputs of streamMinBytes or more
	// (calling sfence512 after each chunk).
	streamed func() binKern[A, B, O]
}

// kernOf builds slice kernels from a per-element function.
func kernOf[A, B, O any](f func(a A, b B) O) binKern[A, B, O] {
	return binKern[A, B, O]{
		vv: func(o []O, a []A, b []B) {
			b = b[:len(o)]
			a = a[:len(o)]
			for i := range o {
				o[i] = f(a[i], b[i])
			}
		},
		vs: func(o []O, a []A, b B) {
			a = a[:len(o)]
			for i := range o {
				o[i] = f(a[i], b)
			}
		},
		sv: func(o []O, a A, b []B) {
			b = b[:len(o)]
			for i := range o {
				o[i] = f(a, b[i])
			}
		},
	}
}

// runBinary applies k over the broadcast described by p.
func runBinary[A, B, O any](p bcPlan, a []A, b []B, o []O, k binKern[A, B, O]) {
	if len(o) == 0 {
		return
	}
	inner := p.inner
	stream := k.streamed != nil && len(o)*int(unsafe.Sizeof(o[0])) >= streamMinBytes
	if stream {
		k = k.streamed()
	}
	do := func(o []O, a []A, b []B) {
		switch {
		case p.aVar && p.bVar:
			k.vv(o, a, b)
		case p.aVar:
			k.vs(o, a, b[0])
		case p.bVar:
			k.sv(o, a[0], b)
		default:
			k.vs(o, a[:1], b[0]) // both constant along the run
		}
	}
	if p.rows == 1 {
		parallelFor(inner, 1, func(lo, hi int) {
			aa, bb := a, b
			if p.aVar {
				aa = a[lo:hi]
			}
			if p.bVar {
				bb = b[lo:hi]
			}
			if !p.aVar && !p.bVar {
				v := make([]A, hi-lo)
				for i := range v {
					v[i] = a[0]
				}
				k.vs(o[lo:hi], v, b[0])
				if stream {
					sfence512()
				}
				return
			}
			do(o[lo:hi], aa, bb)
			if stream {
				sfence512()
			}
		})
		return
	}
	nd := len(p.outer)
	parallelFor(p.rows, inner, func(lo, hi int) {
		idx := make([]int64, nd)
		rem := int64(lo)
		var ao, bo int64
		for d := nd - 1; d >= 0; d-- {
			idx[d] = rem % p.outer[d]
			rem /= p.outer[d]
			ao += idx[d] * p.aStr[d]
			bo += idx[d] * p.bStr[d]
		}
		aLen, bLen := 1, 1
		if p.aVar {
			aLen = inner
		}
		if p.bVar {
			bLen = inner
		}
		var tmp []A
		if !p.aVar && !p.bVar {
			tmp = make([]A, inner)
		}
		for r := lo; r < hi; r++ {
			oo := o[r*inner : (r+1)*inner]
			if tmp != nil {
				for i := range tmp {
					tmp[i] = a[ao]
				}
				k.vs(oo, tmp, b[bo])
			} else {
				do(oo, a[ao:ao+int64(aLen)], b[bo:bo+int64(bLen)])
			}
			for d := nd - 1; d >= 0; d-- {
				idx[d]++
				ao += p.aStr[d]
				bo += p.bStr[d]
				if idx[d] < p.outer[d] {
					break
				}
				ao -= p.aStr[d] * idx[d]
				bo -= p.bStr[d] * idx[d]
				idx[d] = 0
			}
		}
		if stream {
			sfence512()
		}
	})
}

// bcIndex maps every output element of a broadcast to the flat index of an
// input with shape in; used by the less common n-ary ops.
func bcIndexer(out, in []int64) func(visit func(o, i int)) {
	r := len(out)
	str := make([]int64, r)
	s := int64(1)
	for i := len(in) - 1; i >= 0; i-- {
		j := r - len(in) + i
		if in[i] != 1 {
			str[j] = s
		}
		s *= in[i]
	}
	return func(visit func(o, i int)) {
		n := int(NumElements(out))
		if n == 0 {
			return
		}
		idx := make([]int64, r)
		off := int64(0)
		for o := 0; o < n; o++ {
			visit(o, int(off))
			for d := r - 1; d >= 0; d-- {
				idx[d]++
				off += str[d]
				if idx[d] < out[d] {
					break
				}
				off -= str[d] * idx[d]
				idx[d] = 0
			}
		}
	}
}

// broadcastSameType checks that a and b have one element type and returns
// the shape they broadcast to.
func broadcastSameType(a, b *Tensor) ([]int64, error) {
	if a.dtype != b.dtype {
		return nil, fmt.Errorf("input types differ: %v and %v", a.dtype, b.dtype)
	}
	return broadcastShapes(a.shape, b.shape)
}

// Short-row broadcasts. A per-channel operand — the squeeze-excitation
// scale x·s with s of shape [N, C, 1, 1], a bias [C, 1, 1] — leaves
// runBinary rows as short as the feature map (4 elements for a 2×2 map),
// and a kernel call per row then costs more than the arithmetic. Rows
// shorter than shortRow run in one loop here instead, with the operation
// inline. Add, Sub, Mul and Div are IEEE operations, so the values are the
// kernels' bit for bit.

// shortRow is the row length from which runBinary's kernel call per row
// pays for itself.
const shortRow = 32

// binaryShortRows32 applies op ("Add", "Sub", "Mul" or "Div") over the
// broadcast p when its rows are short; false (nothing done) otherwise.
func binaryShortRows32(op string, p bcPlan, a, b, o []float32) bool {
	if p.rows <= 1 || p.inner >= shortRow || len(o) == 0 {
		return false
	}
	var code int
	switch op {
	case "Add":
		code = 0
	case "Sub":
		code = 1
	case "Mul":
		code = 2
	case "Div":
		code = 3
	default:
		return false
	}
	inner, nd := p.inner, len(p.outer)
	parallelFor(p.rows, inner, func(lo, hi int) {
		idx := make([]int64, nd)
		rem := int64(lo)
		var ao, bo int64
		for d := nd - 1; d >= 0; d-- {
			idx[d] = rem % p.outer[d]
			rem /= p.outer[d]
			ao += idx[d] * p.aStr[d]
			bo += idx[d] * p.bStr[d]
		}
		for r := lo; r < hi; r++ {
			oo := o[r*inner : (r+1)*inner]
			switch {
			case p.aVar && p.bVar:
				shortRowVV(code, oo, a[ao:ao+int64(inner)], b[bo:bo+int64(inner)])
			case p.aVar:
				shortRowVS(code, oo, a[ao:ao+int64(inner)], b[bo])
			default:
				shortRowSV(code, oo, a[ao], b[bo:bo+int64(inner)])
			}
			for d := nd - 1; d >= 0; d-- {
				idx[d]++
				ao += p.aStr[d]
				bo += p.bStr[d]
				if idx[d] < p.outer[d] {
					break
				}
				ao -= p.aStr[d] * idx[d]
				bo -= p.bStr[d] * idx[d]
				idx[d] = 0
			}
		}
	})
	return true
}

// shortRowVV sets o[i] = a[i] op b[i] (op: 0 Add, 1 Sub, 2 Mul, 3 Div).
func shortRowVV(op int, o, a, b []float32) {
	a, b = a[:len(o)], b[:len(o)]
	switch op {
	case 0:
		for i := range o {
			o[i] = a[i] + b[i]
		}
	case 1:
		for i := range o {
			o[i] = a[i] - b[i]
		}
	case 2:
		for i := range o {
			o[i] = a[i] * b[i]
		}
	case 3:
		for i := range o {
			o[i] = a[i] / b[i]
		}
	}
}

// shortRowVS sets o[i] = a[i] op b.
func shortRowVS(op int, o, a []float32, b float32) {
	a = a[:len(o)]
	switch op {
	case 0:
		for i := range o {
			o[i] = a[i] + b
		}
	case 1:
		for i := range o {
			o[i] = a[i] - b
		}
	case 2:
		for i := range o {
			o[i] = a[i] * b
		}
	case 3:
		for i := range o {
			o[i] = a[i] / b
		}
	}
}

// shortRowSV sets o[i] = a op b[i].
func shortRowSV(op int, o []float32, a float32, b []float32) {
	b = b[:len(o)]
	switch op {
	case 0:
		for i := range o {
			o[i] = a + b[i]
		}
	case 1:
		for i := range o {
			o[i] = a - b[i]
		}
	case 2:
		for i := range o {
			o[i] = a * b[i]
		}
	case 3:
		for i := range o {
			o[i] = a / b[i]
		}
	}
}
