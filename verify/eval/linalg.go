package eval

import (
	"fmt"
	"math"
)

func init() {
	register("linalg", true, map[string]opFunc{
		"Det": opDet,
	})
}

// opDet computes the determinant of each square matrix in the last two
// dims by LU decomposition with partial pivoting, in float64.
func opDet(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0]
	r := x.Rank()
	if r < 2 || x.shape[r-1] != x.shape[r-2] {
		return nil, fmt.Errorf("input must end in a square matrix, has shape %v", x.shape)
	}
	n := int(x.shape[r-1])
	xv := floatView(x)
	mats := int(NumElements(x.shape[:r-2]))
	o := mustNew(x.dtype, x.shape[:r-2])
	a := make([]float64, n*n)
	for m := 0; m < mats; m++ {
		copy(a, xv[m*n*n:(m+1)*n*n])
		det := 1.0
		for k := 0; k < n; k++ {
			p := k
			for i := k + 1; i < n; i++ {
				if math.Abs(a[i*n+k]) > math.Abs(a[p*n+k]) {
					p = i
				}
			}
			if a[p*n+k] == 0 {
				det = 0
				break
			}
			if p != k {
				for j := 0; j < n; j++ {
					a[k*n+j], a[p*n+j] = a[p*n+j], a[k*n+j]
				}
				det = -det
			}
			det *= a[k*n+k]
			for i := k + 1; i < n; i++ {
				f := a[i*n+k] / a[k*n+k]
				for j := k; j < n; j++ {
					a[i*n+j] -= f * a[k*n+j]
				}
			}
		}
		o.setF64(m, det)
	}
	return []*Tensor{o}, nil
}
