package eval

import "fmt"

func init() {
	register("trilu", false, map[string]opFunc{
		"Trilu":   opTrilu,
		"EyeLike": opEyeLike,
	})
}

// opTrilu keeps the upper (j - i >= k) or lower (j - i <= k) triangle of
// every matrix in the last two dims and zeroes the rest.
func opTrilu(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 2); err != nil {
		return nil, err
	}
	x := in[0]
	if x.Rank() < 2 {
		return nil, fmt.Errorf("input must have rank >= 2, has shape %v", x.shape)
	}
	k := int64(0)
	if len(in) > 1 && in[1] != nil {
		var err error
		if k, err = scalarInt(in[1], "k"); err != nil {
			return nil, err
		}
	}
	upper := c.attrInt("upper", 1) != 0
	rows, cols := x.shape[x.Rank()-2], x.shape[x.Rank()-1]
	o := x.Clone()
	es := x.dtype.Size()
	ob := o.bytes()
	mats := int(NumElements(x.shape[:x.Rank()-2]))
	for m := 0; m < mats; m++ {
		for i := int64(0); i < rows; i++ {
			for j := int64(0); j < cols; j++ {
				keep := j-i >= k
				if !upper {
					keep = j-i <= k
				}
				if !keep {
					p := (int64(m)*rows*cols + i*cols + j) * int64(es)
					clear(ob[p : p+int64(es)])
				}
			}
		}
	}
	return []*Tensor{o}, nil
}

func opEyeLike(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0]
	if x.Rank() != 2 {
		return nil, fmt.Errorf("input must be 2-D, has shape %v", x.shape)
	}
	dt := x.dtype
	if c.hasAttr("dtype") {
		dt = DType(c.attrInt("dtype", 0))
		if !dt.Supported() {
			return nil, fmt.Errorf("unsupported dtype %v", dt)
		}
	}
	o := mustNew(dt, x.shape)
	k := c.attrInt("k", 0)
	for i := int64(0); i < x.shape[0]; i++ {
		if j := i + k; j >= 0 && j < x.shape[1] {
			o.setF64(int(i*x.shape[1]+j), 1)
		}
	}
	return []*Tensor{o}, nil
}
