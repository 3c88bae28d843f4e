package eval

import (
	"fmt"
	"math"
)

func init() {
	register("lpnorm", true, map[string]opFunc{
		"LpPool":          opLpPool,
		"LpNormalization": opLpNormalization,
		"LRN":             opLRN,
	})
}

// opLpPool is (Σ |x|^p)^(1/p) over each window; padding counts as zeros.
func opLpPool(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, kernel, g, err := poolInput(c, in)
	if err != nil {
		return nil, err
	}
	p := float64(c.attrInt("p", 2))
	xv := floatView(x)
	nc := int(x.shape[0] * x.shape[1])
	isz := int(NumElements(g.in))
	ins := stridesOf(g.in)
	o := mustNew(x.dtype, append([]int64{x.shape[0], x.shape[1]}, g.out...))
	sp := len(kernel)
	pos := make([]int64, sp)
	oi := 0
	for q := 0; q < nc; q++ {
		odometer(g.out, func(op []int64) {
			s := 0.0
			odometer(kernel, func(t []int64) {
				off := int64(0)
				for d := 0; d < sp; d++ {
					pos[d] = op[d]*g.s[d] - g.pb[d] + t[d]*g.d[d]
					if pos[d] < 0 || pos[d] >= g.in[d] {
						return
					}
					off += pos[d] * ins[d]
				}
				s += math.Pow(math.Abs(xv[q*isz+int(off)]), p)
			})
			o.setF64(oi, math.Pow(s, 1/p))
			oi++
		})
	}
	return []*Tensor{o}, nil
}

func opLpNormalization(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0]
	axis, err := normAxis(c.attrInt("axis", -1), x.Rank())
	if err != nil {
		return nil, err
	}
	p := c.attrInt("p", 2)
	if p != 1 && p != 2 {
		return nil, fmt.Errorf("p = %d, want 1 or 2", p)
	}
	xv := floatView(x)
	outer := int(NumElements(x.shape[:axis]))
	n := int(x.shape[axis])
	inner := int(NumElements(x.shape[axis+1:]))
	o := mustNew(x.dtype, x.shape)
	for a := 0; a < outer; a++ {
		for b := 0; b < inner; b++ {
			s := 0.0
			for k := 0; k < n; k++ {
				v := xv[(a*n+k)*inner+b]
				if p == 1 {
					s += math.Abs(v)
				} else {
					s += v * v
				}
			}
			if p == 2 {
				s = math.Sqrt(s)
			}
			for k := 0; k < n; k++ {
				i := (a*n+k)*inner + b
				if s == 0 {
					o.setF64(i, 0) // an all-zero vector stays zero
				} else {
					o.setF64(i, xv[i]/s)
				}
			}
		}
	}
	return []*Tensor{o}, nil
}

// opLRN divides each element by (bias + alpha/size · Σ x²)^beta, the sum
// over the size channels around it.
func opLRN(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0]
	if x.Rank() < 3 {
		return nil, fmt.Errorf("X must be (N, C, ...), has shape %v", x.shape)
	}
	size := c.attrInt("size", 0)
	if size <= 0 {
		return nil, fmt.Errorf("size %d must be positive", size)
	}
	alpha := float64(c.attrFloat("alpha", 1e-4))
	beta := float64(c.attrFloat("beta", 0.75))
	bias := float64(c.attrFloat("bias", 1))
	xv := floatView(x)
	n, ch := int(x.shape[0]), int(x.shape[1])
	inner := int(NumElements(x.shape[2:]))
	lo, hi := int((size-1)/2), int((size-1+1)/2)
	o := mustNew(x.dtype, x.shape)
	for b := 0; b < n; b++ {
		for cc := 0; cc < ch; cc++ {
			for k := 0; k < inner; k++ {
				s := 0.0
				for j := max(0, cc-lo); j <= min(ch-1, cc+hi); j++ {
					v := xv[(b*ch+j)*inner+k]
					s += v * v
				}
				i := (b*ch+cc)*inner + k
				o.setF64(i, xv[i]/math.Pow(bias+alpha/float64(size)*s, beta))
			}
		}
	}
	return []*Tensor{o}, nil
}
