package eval

import (
	"fmt"
	"math"
)

func init() {
	register("quantize", true, map[string]opFunc{
		"QuantizeLinear":        opQuantizeLinear,
		"DequantizeLinear":      opDequantizeLinear,
		"DynamicQuantizeLinear": opDynamicQuantizeLinear,
	})
}

// intRange is the representable range of an integer type.
func intRange(dt DType) (lo, hi float64, ok bool) {
	switch dt {
	case Uint8:
		return 0, 255, true
	case Int8:
		return -128, 127, true
	case Uint16:
		return 0, 65535, true
	case Int16:
		return -32768, 32767, true
	case Int32:
		return math.MinInt32, math.MaxInt32, true
	}
	return 0, 0, false
}

// paramIndex maps element i of x to the element of a scale / zero point
// that applies: per tensor (one element), per axis (1-D along axis) or
// blocked (x's rank, axis dim divided into blocks of block_size).
func paramIndex(c *opCtx, x, p *Tensor, what string) (func(i int) int, error) {
	if p.Len() == 1 && p.Rank() <= 1 {
		return func(int) int { return 0 }, nil
	}
	axis, err := normAxis(c.attrInt("axis", 1), max(x.Rank(), 1))
	if err != nil {
		return nil, err
	}
	inner := int(NumElements(x.shape[axis+1:]))
	dim := int(x.shape[axis])
	block := int(c.attrInt("block_size", 0))
	if block <= 0 {
		if p.Rank() != 1 || int(p.shape[0]) != dim {
			return nil, fmt.Errorf("%s has shape %v; per-axis needs [%d] (axis %d of %v)", what, p.shape, dim, axis, x.shape)
		}
		return func(i int) int { return (i / inner) % dim }, nil
	}
	want := append([]int64{}, x.shape...)
	want[axis] = int64((dim + block - 1) / block)
	if !shapeEq(p.shape, want) {
		return nil, fmt.Errorf("%s has shape %v; block_size %d needs %v", what, p.shape, block, want)
	}
	nb := int(want[axis])
	return func(i int) int {
		o, rest := i/(dim*inner), i%(dim*inner)
		a, b := rest/inner, rest%inner
		return (o*nb+a/block)*inner + b
	}, nil
}

func opQuantizeLinear(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 3); err != nil {
		return nil, err
	}
	x, sc := in[0], in[1]
	var zp *Tensor
	if len(in) > 2 && in[2] != nil {
		zp = in[2]
	}
	dt := Uint8
	if zp != nil {
		dt = zp.dtype
	} else if c.hasAttr("output_dtype") && c.attrInt("output_dtype", 0) != 0 {
		dt = DType(c.attrInt("output_dtype", 0))
	}
	lo, hi, ok := intRange(dt)
	if !ok {
		return nil, fmt.Errorf("unsupported output type %v", dt)
	}
	si, err := paramIndex(c, x, sc, "y_scale")
	if err != nil {
		return nil, err
	}
	zi := si
	if zp != nil {
		if zi, err = paramIndex(c, x, zp, "y_zero_point"); err != nil {
			return nil, err
		}
	}
	o := mustNew(dt, x.shape)
	for i := 0; i < x.Len(); i++ {
		q := x.f64At(i) / sc.f64At(si(i))
		if x.dtype == Float32 {
			// Divide in float32, as runtimes do: a quotient just below .5
			// in float64 may round to .5 in float32.
			q = float64(float32(x.f64At(i)) / float32(sc.f64At(si(i))))
		}
		v := math.RoundToEven(q)
		if zp != nil {
			v += zp.f64At(zi(i))
		}
		o.setF64(i, min(max(v, lo), hi))
	}
	return []*Tensor{o}, nil
}

func opDequantizeLinear(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 3); err != nil {
		return nil, err
	}
	x, sc := in[0], in[1]
	if _, _, ok := intRange(x.dtype); !ok {
		return nil, fmt.Errorf("unsupported input type %v", x.dtype)
	}
	var zp *Tensor
	if len(in) > 2 && in[2] != nil {
		zp = in[2]
		if zp.dtype != x.dtype {
			return nil, fmt.Errorf("x_zero_point is %v, x is %v", zp.dtype, x.dtype)
		}
	}
	si, err := paramIndex(c, x, sc, "x_scale")
	if err != nil {
		return nil, err
	}
	zi := si
	if zp != nil {
		if zi, err = paramIndex(c, x, zp, "x_zero_point"); err != nil {
			return nil, err
		}
	}
	dt := sc.dtype
	if c.hasAttr("output_dtype") && c.attrInt("output_dtype", 0) != 0 {
		dt = DType(c.attrInt("output_dtype", 0))
	}
	o := mustNew(dt, x.shape)
	for i := 0; i < x.Len(); i++ {
		v := x.f64At(i)
		if zp != nil {
			v -= zp.f64At(zi(i))
		}
		// The product is rounded to the scale's type as the reference computes it.
		o.setF64(i, float64(float32(v)*float32(sc.f64At(si(i)))))
	}
	return []*Tensor{o}, nil
}

// opDynamicQuantizeLinear quantizes to uint8 with the scale and zero point
// that map [min(0, min x), max(0, max x)] onto [0, 255].
func opDynamicQuantizeLinear(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0]
	lo, hi := 0.0, 0.0
	for i := 0; i < x.Len(); i++ {
		v := x.f64At(i)
		lo, hi = min(lo, v), max(hi, v)
	}
	scale := float32((hi - lo) / 255)
	zp := 0.0
	if scale != 0 {
		zp = min(max(math.RoundToEven(float64(float32(0-lo)/scale)), 0), 255)
	}
	y := mustNew(Uint8, x.shape)
	for i := 0; i < x.Len(); i++ {
		v := zp
		if scale != 0 {
			v += math.RoundToEven(float64(float32(x.f64At(i)) / scale))
		}
		y.setF64(i, min(max(v, 0), 255))
	}
	s := mustNew(Float32, nil)
	s.setF64(0, float64(scale))
	z := mustNew(Uint8, nil)
	z.setF64(0, zp)
	return []*Tensor{y, s, z}, nil
}
