package eval

import "fmt"

func init() {
	register("bitwise", false, map[string]opFunc{
		"BitwiseAnd": bitwiseOp("and"),
		"BitwiseOr":  bitwiseOp("or"),
		"BitwiseXor": bitwiseOp("xor"),
		"BitwiseNot": opBitwiseNot,
		"BitShift":   bitwiseOp("shift"),
	})
}

type integer interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

func bitKern[T integer](name string, left bool) binKern[T, T, T] {
	switch name {
	case "and":
		return kernOf(func(a, b T) T { return a & b })
	case "or":
		return kernOf(func(a, b T) T { return a | b })
	case "xor":
		return kernOf(func(a, b T) T { return a ^ b })
	}
	if left {
		return kernOf(func(a, b T) T { return a << uint64(b) })
	}
	return kernOf(func(a, b T) T { return a >> uint64(b) })
}

func runBits[T integer](p bcPlan, a, b, o any, name string, left bool) {
	runBinary(p, a.([]T), b.([]T), o.([]T), bitKern[T](name, left))
}

func bitwiseOp(name string) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		if err := needInputs(in, 2, 2); err != nil {
			return nil, err
		}
		left := false
		if name == "shift" {
			switch dir := c.attrString("direction", ""); dir {
			case "LEFT":
				left = true
			case "RIGHT":
			default:
				return nil, fmt.Errorf("direction %q must be LEFT or RIGHT", dir)
			}
		}
		a, b := in[0], in[1]
		shape, err := broadcastSameType(a, b)
		if err != nil {
			return nil, err
		}
		o := mustNew(a.dtype, shape)
		p := planBinary(shape, a.shape, b.shape)
		switch a.data.(type) {
		case []int8:
			runBits[int8](p, a.data, b.data, o.data, name, left)
		case []int16:
			runBits[int16](p, a.data, b.data, o.data, name, left)
		case []int32:
			runBits[int32](p, a.data, b.data, o.data, name, left)
		case []int64:
			runBits[int64](p, a.data, b.data, o.data, name, left)
		case []uint8:
			runBits[uint8](p, a.data, b.data, o.data, name, left)
		case []uint16:
			if a.dtype != Uint16 {
				return nil, fmt.Errorf("unsupported type %v", a.dtype)
			}
			runBits[uint16](p, a.data, b.data, o.data, name, left)
		case []uint32:
			runBits[uint32](p, a.data, b.data, o.data, name, left)
		case []uint64:
			runBits[uint64](p, a.data, b.data, o.data, name, left)
		default:
			return nil, fmt.Errorf("unsupported type %v (integers only)", a.dtype)
		}
		return []*Tensor{o}, nil
	}
}

func opBitwiseNot(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0]
	if !(x.dtype != Bool && !x.dtype.isFloat()) {
		return nil, fmt.Errorf("unsupported type %v (integers only)", x.dtype)
	}
	o := x.Clone()
	for i, b := range o.bytes() {
		o.bytes()[i] = ^b
	}
	return []*Tensor{o}, nil
}

func init() {
	register("bitwise", false, map[string]opFunc{"BitCast": opBitCast})
}

// opBitCast reinterprets the bytes of each element as another type of the
// same size.
func opBitCast(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0]
	to := DType(c.attrInt("to", 0))
	if !to.Supported() {
		return nil, fmt.Errorf("unsupported target type %v", to)
	}
	if to.Size() != x.dtype.Size() {
		return nil, fmt.Errorf("casting %v to %v changes the element size; only equal sizes are supported", x.dtype, to)
	}
	o := mustNew(to, x.shape)
	copy(o.bytes(), x.bytes())
	if b, ok := o.data.([]bool); ok {
		for i, v := range o.bytes() {
			b[i] = v != 0
		}
	}
	return []*Tensor{o}, nil
}
