package eval

import (
	"fmt"
	"math"
)

func init() {
	register("cast", false, map[string]opFunc{
		"Cast":     opCast,
		"CastLike": opCastLike,
	})
}

func opCast(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, err
	}
	to := DType(c.attrInt("to", 0))
	if !to.Supported() {
		return nil, fmt.Errorf("cast to unsupported type %v", to)
	}
	return []*Tensor{castTensor(in[0], to)}, nil
}

func opCastLike(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 2); err != nil {
		return nil, err
	}
	return []*Tensor{castTensor(in[0], in[1].dtype)}, nil
}

// castTensor converts t to type to (a copy; t itself if the type already matches).
func castTensor(t *Tensor, to DType) *Tensor {
	if t.dtype == to {
		return t
	}
	out := mustNew(to, t.shape)
	n := t.Len()
	if f, ok := t.data.([]float32); ok {
		if d, ok := out.data.([]float64); ok {
			parallelFor(n, 1, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					d[i] = float64(f[i])
				}
			})
			return out
		}
	}
	if t.dtype.isFloat() {
		for i := 0; i < n; i++ {
			out.setF64(i, t.f64At(i))
		}
	} else {
		for i := 0; i < n; i++ {
			out.setI64(i, t.i64At(i))
		}
	}
	return out
}

// setF64 stores v at element i, converting like a C cast (truncation toward zero for integers).
func (t *Tensor) setF64(i int, v float64) {
	switch d := t.data.(type) {
	case []float32:
		d[i] = float32(v)
	case []float64:
		d[i] = v
	case []uint16:
		switch t.dtype {
		case Float16:
			d[i] = f32ToF16(float32(v))
		case BFloat16:
			d[i] = f32ToBF16(float32(v))
		default:
			d[i] = uint16(f2i(v))
		}
	case []bool:
		d[i] = v != 0
	case []uint64:
		if v >= 1<<63 {
			d[i] = uint64(v)
		} else {
			d[i] = uint64(f2i(v))
		}
	default:
		t.setI64(i, f2i(v))
	}
}

func f2i(v float64) int64 {
	if math.IsNaN(v) {
		return math.MinInt64
	}
	if v >= 9.223372036854775807e18 || v < -9.223372036854775808e18 {
		return math.MinInt64
	}
	return int64(v)
}

// setI64 stores integer v at element i with wrap-around for narrower types.
func (t *Tensor) setI64(i int, v int64) {
	switch d := t.data.(type) {
	case []int64:
		d[i] = v
	case []int32:
		d[i] = int32(v)
	case []int16:
		d[i] = int16(v)
	case []int8:
		d[i] = int8(v)
	case []uint64:
		d[i] = uint64(v)
	case []uint32:
		d[i] = uint32(v)
	case []uint8:
		d[i] = uint8(v)
	case []bool:
		d[i] = v != 0
	case []uint16:
		switch t.dtype {
		case Float16:
			d[i] = f32ToF16(float32(v))
		case BFloat16:
			d[i] = f32ToBF16(float32(v))
		default:
			d[i] = uint16(v)
		}
	case []float32:
		d[i] = float32(v)
	case []float64:
		d[i] = float64(v)
	}
}
