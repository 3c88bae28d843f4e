package eval

import "fmt"

func init() {
	register("cumulative", true, map[string]opFunc{
		"CumSum":  cumulativeOp(false),
		"CumProd": cumulativeOp(true),
	})
}

// cumulate runs a running sum or product along the middle axis of an
// (outer, n, inner) layout. Floating types accumulate in float64 (so a
// long float32 axis does not drift), integers in their own type.
func cumulate[T number](x, o []T, outer, n, inner int, prod, exclusive, reverse bool) {
	float := isFloatType[T]()
	for a := 0; a < outer; a++ {
		for b := 0; b < inner; b++ {
			var acc T
			var accF float64
			if prod {
				acc, accF = 1, 1
			}
			for s := 0; s < n; s++ {
				k := s
				if reverse {
					k = n - 1 - s
				}
				i := (a*n+k)*inner + b
				v := x[i]
				if exclusive {
					if float {
						o[i] = T(accF)
					} else {
						o[i] = acc
					}
				}
				switch {
				case float && prod:
					accF *= float64(v)
				case float:
					accF += float64(v)
				case prod:
					acc *= v
				default:
					acc += v
				}
				if !exclusive {
					if float {
						o[i] = T(accF)
					} else {
						o[i] = acc
					}
				}
			}
		}
	}
}

func cumulativeOp(prod bool) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		if err := needInputs(in, 2, 2); err != nil {
			return nil, err
		}
		x := in[0]
		if x.Rank() == 0 {
			return nil, fmt.Errorf("x must have rank >= 1")
		}
		if in[1].dtype != Int64 && in[1].dtype != Int32 {
			return nil, fmt.Errorf("axis must be int32 or int64, is %v", in[1].dtype)
		}
		a, err := scalarInt(in[1], "axis")
		if err != nil {
			return nil, err
		}
		axis, err := normAxis(a, x.Rank())
		if err != nil {
			return nil, err
		}
		outer := int(NumElements(x.shape[:axis]))
		n := int(x.shape[axis])
		inner := int(NumElements(x.shape[axis+1:]))
		ex, rev := c.attrInt("exclusive", 0) != 0, c.attrInt("reverse", 0) != 0
		o := c.alloc(x.dtype, x.shape)
		switch d := x.data.(type) {
		case []float32:
			cumulate(d, o.data.([]float32), outer, n, inner, prod, ex, rev)
		case []float64:
			cumulate(d, o.data.([]float64), outer, n, inner, prod, ex, rev)
		case []int32:
			cumulate(d, o.data.([]int32), outer, n, inner, prod, ex, rev)
		case []int64:
			cumulate(d, o.data.([]int64), outer, n, inner, prod, ex, rev)
		case []uint32:
			cumulate(d, o.data.([]uint32), outer, n, inner, prod, ex, rev)
		case []uint64:
			cumulate(d, o.data.([]uint64), outer, n, inner, prod, ex, rev)
		default:
			return nil, fmt.Errorf("unsupported type %v", x.dtype)
		}
		return []*Tensor{o}, nil
	}
}
