package eval

import (
	"fmt"
	"math"
	"unsafe"
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
	return []*Tensor{castTensorCtx(c, in[0], to)}, nil
}

func opCastLike(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 2); err != nil {
		return nil, err
	}
	return []*Tensor{castTensorCtx(c, in[0], in[1].dtype)}, nil
}

// castTensor converts t to type to (a copy; t itself if the type already matches).
func castTensor(t *Tensor, to DType) *Tensor { return castTensorCtx(nil, t, to) }

// castTensorCtx is castTensor with the output from c.alloc.
func castTensorCtx(c *opCtx, t *Tensor, to DType) *Tensor {
	if t.dtype == to {
		return t
	}
	out := c.alloc(to, t.shape)
	if castFast(t, out) {
		return out
	}
	n := t.Len()
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

// castFast converts the common cases with typed loops, in parallel: bool to
// numbers and numbers to bool, integers to integers (wrapping) and to floats,
// float32 and float64 to each other. It reports false for the others
// (float16/bfloat16, float to integer), which castTensor converts element by
// element.
func castFast(t, out *Tensor) bool {
	if t.dtype == Float16 || t.dtype == BFloat16 || out.dtype == Float16 || out.dtype == BFloat16 {
		return false
	}
	switch s := t.data.(type) {
	case []bool:
		// The hot case (one-hot masks): a tight loop, no call per element.
		b := unsafe.Slice((*uint8)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
		switch d := out.data.(type) {
		case []float32:
			parallelFor(len(d), 1, func(lo, hi int) { boolF32(d[lo:hi], s[lo:hi]) })
			return true
		case []float64:
			parallelFor(len(d), 1, func(lo, hi int) {
				dd, bb := d[lo:hi], b[lo:hi]
				for i := range dd {
					dd[i] = float64(bb[i])
				}
			})
			return true
		}
		return castFrom(s, out, func(v bool) int8 {
			if v {
				return 1
			}
			return 0
		})
	case []float32:
		return castFloat(s, out)
	case []float64:
		return castFloat(s, out)
	case []int64:
		return castInt(s, out)
	case []int32:
		return castInt(s, out)
	case []int16:
		return castInt(s, out)
	case []int8:
		return castInt(s, out)
	case []uint64:
		return castInt(s, out)
	case []uint32:
		return castInt(s, out)
	case []uint16:
		return castInt(s, out)
	case []uint8:
		return castInt(s, out)
	}
	return false
}

// castFrom converts src, mapped by f to an integer first, into out.
func castFrom[S any, I number](src []S, out *Tensor, f func(S) I) bool {
	switch d := out.data.(type) {
	case []float32:
		convert(d, src, func(v S) float32 { return float32(f(v)) })
	case []float64:
		convert(d, src, func(v S) float64 { return float64(f(v)) })
	case []int64:
		convert(d, src, func(v S) int64 { return int64(f(v)) })
	case []int32:
		convert(d, src, func(v S) int32 { return int32(f(v)) })
	case []int16:
		convert(d, src, func(v S) int16 { return int16(f(v)) })
	case []int8:
		convert(d, src, func(v S) int8 { return int8(f(v)) })
	case []uint64:
		convert(d, src, func(v S) uint64 { return uint64(f(v)) })
	case []uint32:
		convert(d, src, func(v S) uint32 { return uint32(f(v)) })
	case []uint16:
		convert(d, src, func(v S) uint16 { return uint16(f(v)) })
	case []uint8:
		convert(d, src, func(v S) uint8 { return uint8(f(v)) })
	case []bool:
		convert(d, src, func(v S) bool { return f(v) != 0 })
	default:
		return false
	}
	return true
}

// castInt converts integers: wrapping to integers, rounding to floats.
func castInt[S number](src []S, out *Tensor) bool {
	return castFrom(src, out, func(v S) S { return v })
}

// castFloat converts float32/float64 to floats and bool; the rest (integer
// targets, whose NaN and overflow rules castTensor implements) report false.
func castFloat[S float32 | float64](src []S, out *Tensor) bool {
	switch d := out.data.(type) {
	case []float32:
		convert(d, src, func(v S) float32 { return float32(v) })
	case []float64:
		convert(d, src, func(v S) float64 { return float64(v) })
	case []bool:
		convert(d, src, func(v S) bool { return v != 0 })
	default:
		return false
	}
	return true
}

// convert sets dst[i] = f(src[i]) in parallel.
func convert[S, D any](dst []D, src []S, f func(S) D) {
	parallelFor(len(dst), 1, func(lo, hi int) {
		d, s := dst[lo:hi], src[lo:hi]
		for i := range d {
			d[i] = f(s[i])
		}
	})
}
