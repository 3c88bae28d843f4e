package eval

import (
	"fmt"
	"math"
)

type number interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

func init() {
	register("elementwise", true, map[string]opFunc{
		"Add":   arithOp("Add"),
		"Sub":   arithOp("Sub"),
		"Mul":   arithOp("Mul"),
		"Div":   arithOp("Div"),
		"PRelu": arithOp("PRelu"),
		"Mod":   opMod,
		"Pow":   opPow,
		"Max":   variadicOp("Max"),
		"Min":   variadicOp("Min"),
		"Sum":   variadicOp("Sum"),
		"Mean":  variadicOp("Mean"),

		"Equal":          cmpOp("Equal"),
		"Less":           cmpOp("Less"),
		"Greater":        cmpOp("Greater"),
		"LessOrEqual":    cmpOp("LessOrEqual"),
		"GreaterOrEqual": cmpOp("GreaterOrEqual"),
		"And":            logicOp("And"),
		"Or":             logicOp("Or"),
		"Xor":            logicOp("Xor"),
		"Not":            opNot,
		"IsNaN":          opIsNaN,
		"IsInf":          opIsInf,
		"Where":          opWhere,
		"Clip":           opClip,
		"Identity":       opIdentity,
	})
}

func isFloatType[T number]() bool {
	var z T
	switch any(z).(type) {
	case float32, float64:
		return true
	}
	return false
}

func arithKern[T number](name string) binKern[T, T, T] {
	isF := isFloatType[T]()
	switch name {
	case "Add":
		return binKern[T, T, T]{
			vv: func(o, a, b []T) {
				a, b = a[:len(o)], b[:len(o)]
				for i := range o {
					o[i] = a[i] + b[i]
				}
			},
			vs: func(o, a []T, b T) {
				a = a[:len(o)]
				for i := range o {
					o[i] = a[i] + b
				}
			},
			sv: func(o []T, a T, b []T) {
				b = b[:len(o)]
				for i := range o {
					o[i] = a + b[i]
				}
			},
		}
	case "Sub":
		return binKern[T, T, T]{
			vv: func(o, a, b []T) {
				a, b = a[:len(o)], b[:len(o)]
				for i := range o {
					o[i] = a[i] - b[i]
				}
			},
			vs: func(o, a []T, b T) {
				a = a[:len(o)]
				for i := range o {
					o[i] = a[i] - b
				}
			},
			sv: func(o []T, a T, b []T) {
				b = b[:len(o)]
				for i := range o {
					o[i] = a - b[i]
				}
			},
		}
	case "Mul":
		return binKern[T, T, T]{
			vv: func(o, a, b []T) {
				a, b = a[:len(o)], b[:len(o)]
				for i := range o {
					o[i] = a[i] * b[i]
				}
			},
			vs: func(o, a []T, b T) {
				a = a[:len(o)]
				for i := range o {
					o[i] = a[i] * b
				}
			},
			sv: func(o []T, a T, b []T) {
				b = b[:len(o)]
				for i := range o {
					o[i] = a * b[i]
				}
			},
		}
	case "Div":
		if !isF {
			return kernOf(func(a, b T) T {
				if b == 0 {
					return 0
				}
				if b == T(0)-1 { // avoid overflow trap on MinInt / -1
					return T(0) - a
				}
				return a / b
			})
		}
		return binKern[T, T, T]{
			vv: func(o, a, b []T) {
				a, b = a[:len(o)], b[:len(o)]
				for i := range o {
					o[i] = a[i] / b[i]
				}
			},
			vs: func(o, a []T, b T) {
				a = a[:len(o)]
				for i := range o {
					o[i] = a[i] / b
				}
			},
			sv: func(o []T, a T, b []T) {
				b = b[:len(o)]
				for i := range o {
					o[i] = a / b[i]
				}
			},
		}
	case "Max":
		return kernOf(func(a, b T) T {
			if a != a || a > b {
				return a
			}
			return b
		})
	case "Min":
		return kernOf(func(a, b T) T {
			if a != a || a < b {
				return a
			}
			return b
		})
	case "PRelu":
		return kernOf(func(a, b T) T {
			if a < 0 {
				return a * b
			}
			return a
		})
	}
	panic("unknown arithmetic op " + name)
}

// binaryNumeric broadcasts a and b (same type) into a result of their type.
func binaryNumeric(c *opCtx, in []*Tensor, a, b *Tensor, kern func(dt DType) func(p bcPlan, a, b, o any) bool) (*Tensor, error) {
	shape, err := broadcastSameType(a, b)
	if err != nil {
		return nil, err
	}
	reuse := -1
	if in != nil {
		if shapeEq(shape, a.shape) && len(in) > 0 && in[0] == a {
			reuse = 0
		} else if shapeEq(shape, b.shape) && len(in) > 1 && in[1] == b {
			reuse = 1
		}
	}
	var o *Tensor
	if c != nil && in != nil {
		o = c.output(reuse, a.dtype, shape, in)
	} else {
		o = mustNew(a.dtype, shape)
	}
	p := planBinary(shape, a.shape, b.shape)
	run := kern(a.dtype)
	if run == nil || !run(p, a.data, b.data, o.data) {
		return nil, fmt.Errorf("unsupported input type %v", a.dtype)
	}
	return o, nil
}

// numericKern adapts a generic kernel factory into a type-dispatched runner.
func numericKern(name string) func(dt DType) func(p bcPlan, a, b, o any) bool {
	return func(dt DType) func(p bcPlan, a, b, o any) bool {
		return func(p bcPlan, a, b, o any) bool {
			switch ad := a.(type) {
			case []float32:
				if !binaryShortRows32(name, p, ad, b.([]float32), o.([]float32)) {
					runBinary(p, ad, b.([]float32), o.([]float32), arithKern32(name))
				}
			case []float64:
				runBinary(p, ad, b.([]float64), o.([]float64), arithKern[float64](name))
			case []int64:
				runBinary(p, ad, b.([]int64), o.([]int64), arithKern[int64](name))
			case []int32:
				runBinary(p, ad, b.([]int32), o.([]int32), arithKern[int32](name))
			case []int16:
				runBinary(p, ad, b.([]int16), o.([]int16), arithKern[int16](name))
			case []int8:
				runBinary(p, ad, b.([]int8), o.([]int8), arithKern[int8](name))
			case []uint64:
				runBinary(p, ad, b.([]uint64), o.([]uint64), arithKern[uint64](name))
			case []uint32:
				runBinary(p, ad, b.([]uint32), o.([]uint32), arithKern[uint32](name))
			case []uint16:
				runBinary(p, ad, b.([]uint16), o.([]uint16), arithKern[uint16](name))
			case []uint8:
				runBinary(p, ad, b.([]uint8), o.([]uint8), arithKern[uint8](name))
			default:
				return false
			}
			return true
		}
	}
}

func arithOp(name string) opFunc {
	k := numericKern(name)
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		if err := needInputs(in, 2, 2); err != nil {
			return nil, err
		}
		if name == "PRelu" {
			// slope broadcasts unidirectionally to X
			if s, err := broadcastShapes(in[0].shape, in[1].shape); err != nil || !shapeEq(s, in[0].shape) {
				return nil, fmt.Errorf("slope shape %v does not broadcast to %v", in[1].shape, in[0].shape)
			}
		}
		o, err := binaryNumeric(c, in, in[0], in[1], k)
		if err != nil {
			return nil, err
		}
		return []*Tensor{o}, nil
	}
}

func variadicOp(name string) opFunc {
	kname := name
	if name == "Sum" || name == "Mean" {
		kname = "Add"
	}
	k := numericKern(kname)
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		if len(in) == 0 {
			return nil, fmt.Errorf("expects at least one input")
		}
		for i, t := range in {
			if t == nil {
				return nil, fmt.Errorf("input %d is missing", i)
			}
		}
		acc := in[0]
		if len(in) == 1 {
			acc = acc.Clone()
		}
		for i := 1; i < len(in); i++ {
			var err error
			if i == 1 {
				acc, err = binaryNumeric(c, in, in[0], in[1], k)
			} else {
				acc, err = binaryNumeric(nil, nil, acc, in[i], k)
			}
			if err != nil {
				return nil, err
			}
		}
		if name == "Mean" {
			n := float64(len(in))
			if !acc.dtype.isFloat() {
				return nil, fmt.Errorf("Mean of %v is not supported", acc.dtype)
			}
			for i := 0; i < acc.Len(); i++ {
				acc.setF64(i, acc.f64At(i)/n)
			}
		}
		return []*Tensor{acc}, nil
	}
}

func opMod(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 2); err != nil {
		return nil, err
	}
	a, b := in[0], in[1]
	fmod := c.attrInt("fmod", 0) != 0
	if a.dtype.isFloat() && !fmod {
		return nil, fmt.Errorf("fmod must be 1 for floating-point inputs")
	}
	shape, err := broadcastSameType(a, b)
	if err != nil {
		return nil, err
	}
	o := mustNew(a.dtype, shape)
	ia, ib := bcIndexer(shape, a.shape), bcIndexer(shape, b.shape)
	av := make([]int, o.Len())
	ia(func(o, i int) { av[o] = i })
	if a.dtype.isFloat() {
		ib(func(k, j int) { o.setF64(k, math.Mod(a.f64At(av[k]), b.f64At(j))) })
	} else if a.dtype == Uint64 {
		ad, bd, od := a.data.([]uint64), b.data.([]uint64), o.data.([]uint64)
		ib(func(k, j int) {
			if bd[j] != 0 {
				od[k] = ad[av[k]] % bd[j]
			}
		})
	} else {
		ib(func(k, j int) {
			x, y := a.i64At(av[k]), b.i64At(j)
			if y == 0 {
				o.setI64(k, 0)
				return
			}
			r := x % y
			if !fmod && r != 0 && (r < 0) != (y < 0) {
				r += y
			}
			o.setI64(k, r)
		})
	}
	return []*Tensor{o}, nil
}

func ipow(x, e int64) int64 {
	if e < 0 {
		switch x {
		case 1:
			return 1
		case -1:
			if e%2 == 0 {
				return 1
			}
			return -1
		}
		return 0
	}
	r := int64(1)
	for e > 0 {
		if e&1 == 1 {
			r *= x
		}
		x *= x
		e >>= 1
	}
	return r
}

func opPow(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 2); err != nil {
		return nil, err
	}
	a, b := in[0], in[1]
	shape, err := broadcastShapes(a.shape, b.shape)
	if err != nil {
		return nil, err
	}
	reuse := -1
	if shapeEq(shape, a.shape) {
		reuse = 0
	}
	o := c.output(reuse, a.dtype, shape, in)
	if af, ok := a.data.([]float32); ok {
		if bf, ok := b.data.([]float32); ok && b.Len() == 1 {
			e := bf[0]
			od := o.data.([]float32)
			stream := len(od)*4 >= streamMinBytes
			parallelFor(len(od), 4, func(lo, hi int) {
				switch e {
				case 2:
					if haveAVX512 { // the same x·x, 16 at a time
						mulVV512(od[lo:hi], af[lo:hi], af[lo:hi], stream)
						if stream {
							sfence512()
						}
						return
					}
					for i := lo; i < hi; i++ {
						od[i] = af[i] * af[i]
					}
				case 1:
					copy(od[lo:hi], af[lo:hi])
				case 0.5:
					for i := lo; i < hi; i++ {
						od[i] = float32(math.Sqrt(float64(af[i])))
					}
				default:
					for i := lo; i < hi; i++ {
						od[i] = float32(math.Pow(float64(af[i]), float64(e)))
					}
				}
			})
			return []*Tensor{o}, nil
		}
	}
	ia, ib := bcIndexer(shape, a.shape), bcIndexer(shape, b.shape)
	av := make([]int, o.Len())
	ia(func(o, i int) { av[o] = i })
	if a.dtype.isFloat() || b.dtype.isFloat() {
		ib(func(k, j int) {
			r := math.Pow(a.f64At(av[k]), b.f64At(j))
			if a.dtype.isFloat() {
				o.setF64(k, r)
			} else {
				o.setI64(k, int64(r))
			}
		})
	} else {
		ib(func(k, j int) { o.setI64(k, ipow(a.i64At(av[k]), b.i64At(j))) })
	}
	return []*Tensor{o}, nil
}

func cmpFn[T number](name string) func(a, b T) bool {
	switch name {
	case "Equal":
		return func(a, b T) bool { return a == b }
	case "Less":
		return func(a, b T) bool { return a < b }
	case "Greater":
		return func(a, b T) bool { return a > b }
	case "LessOrEqual":
		return func(a, b T) bool { return a <= b }
	case "GreaterOrEqual":
		return func(a, b T) bool { return a >= b }
	}
	panic("unknown comparison " + name)
}

// cmpKern returns slice kernels of a comparison, loops without a call per element.
func cmpKern[T number](name string) binKern[T, T, bool] {
	switch name {
	case "Equal":
		return binKern[T, T, bool]{
			vv: func(o []bool, a, b []T) {
				a, b = a[:len(o)], b[:len(o)]
				for i := range o {
					o[i] = a[i] == b[i]
				}
			},
			vs: func(o []bool, a []T, b T) {
				a = a[:len(o)]
				for i := range o {
					o[i] = a[i] == b
				}
			},
			sv: func(o []bool, a T, b []T) {
				b = b[:len(o)]
				for i := range o {
					o[i] = a == b[i]
				}
			},
		}
	case "Less":
		return binKern[T, T, bool]{
			vv: func(o []bool, a, b []T) {
				a, b = a[:len(o)], b[:len(o)]
				for i := range o {
					o[i] = a[i] < b[i]
				}
			},
			vs: func(o []bool, a []T, b T) {
				a = a[:len(o)]
				for i := range o {
					o[i] = a[i] < b
				}
			},
			sv: func(o []bool, a T, b []T) {
				b = b[:len(o)]
				for i := range o {
					o[i] = a < b[i]
				}
			},
		}
	case "Greater":
		return binKern[T, T, bool]{
			vv: func(o []bool, a, b []T) {
				a, b = a[:len(o)], b[:len(o)]
				for i := range o {
					o[i] = a[i] > b[i]
				}
			},
			vs: func(o []bool, a []T, b T) {
				a = a[:len(o)]
				for i := range o {
					o[i] = a[i] > b
				}
			},
			sv: func(o []bool, a T, b []T) {
				b = b[:len(o)]
				for i := range o {
					o[i] = a > b[i]
				}
			},
		}
	case "LessOrEqual":
		return binKern[T, T, bool]{
			vv: func(o []bool, a, b []T) {
				a, b = a[:len(o)], b[:len(o)]
				for i := range o {
					o[i] = a[i] <= b[i]
				}
			},
			vs: func(o []bool, a []T, b T) {
				a = a[:len(o)]
				for i := range o {
					o[i] = a[i] <= b
				}
			},
			sv: func(o []bool, a T, b []T) {
				b = b[:len(o)]
				for i := range o {
					o[i] = a <= b[i]
				}
			},
		}
	case "GreaterOrEqual":
		return binKern[T, T, bool]{
			vv: func(o []bool, a, b []T) {
				a, b = a[:len(o)], b[:len(o)]
				for i := range o {
					o[i] = a[i] >= b[i]
				}
			},
			vs: func(o []bool, a []T, b T) {
				a = a[:len(o)]
				for i := range o {
					o[i] = a[i] >= b
				}
			},
			sv: func(o []bool, a T, b []T) {
				b = b[:len(o)]
				for i := range o {
					o[i] = a >= b[i]
				}
			},
		}
	}
	return kernOf(cmpFn[T](name))
}

func runCmp[T number](p bcPlan, a, b any, o []bool, name string) {
	runBinary(p, a.([]T), b.([]T), o, cmpKern[T](name))
}

func cmpOp(name string) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		if err := needInputs(in, 2, 2); err != nil {
			return nil, err
		}
		a, b := in[0], in[1]
		shape, err := broadcastSameType(a, b)
		if err != nil {
			return nil, err
		}
		o := c.alloc(Bool, shape)
		od := o.data.([]bool)
		p := planBinary(shape, a.shape, b.shape)
		switch a.data.(type) {
		case []float32:
			runCmp[float32](p, a.data, b.data, od, name)
		case []float64:
			runCmp[float64](p, a.data, b.data, od, name)
		case []int64:
			if name == "Equal" {
				runBinary(p, a.data.([]int64), b.data.([]int64), od, equalKern64())
				break
			}
			runCmp[int64](p, a.data, b.data, od, name)
		case []int32:
			runCmp[int32](p, a.data, b.data, od, name)
		case []int16:
			runCmp[int16](p, a.data, b.data, od, name)
		case []int8:
			runCmp[int8](p, a.data, b.data, od, name)
		case []uint64:
			runCmp[uint64](p, a.data, b.data, od, name)
		case []uint32:
			runCmp[uint32](p, a.data, b.data, od, name)
		case []uint16:
			runCmp[uint16](p, a.data, b.data, od, name)
		case []uint8:
			runCmp[uint8](p, a.data, b.data, od, name)
		case []bool:
			if name != "Equal" {
				return nil, fmt.Errorf("%s of bool tensors is not supported", name)
			}
			runBinary(p, a.data.([]bool), b.data.([]bool), od, kernOf(func(x, y bool) bool { return x == y }))
		default:
			return nil, fmt.Errorf("unsupported input type %v", a.dtype)
		}
		return []*Tensor{o}, nil
	}
}

func logicOp(name string) opFunc {
	var f func(a, b bool) bool
	switch name {
	case "And":
		f = func(a, b bool) bool { return a && b }
	case "Or":
		f = func(a, b bool) bool { return a || b }
	case "Xor":
		f = func(a, b bool) bool { return a != b }
	}
	k := kernOf(f)
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		if err := needInputs(in, 2, 2); err != nil {
			return nil, err
		}
		a, b := in[0], in[1]
		if a.dtype != Bool || b.dtype != Bool {
			return nil, fmt.Errorf("inputs must be bool, got %v and %v", a.dtype, b.dtype)
		}
		shape, err := broadcastShapes(a.shape, b.shape)
		if err != nil {
			return nil, err
		}
		o := mustNew(Bool, shape)
		runBinary(planBinary(shape, a.shape, b.shape), a.data.([]bool), b.data.([]bool), o.data.([]bool), k)
		return []*Tensor{o}, nil
	}
}

func opNot(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, err
	}
	if in[0].dtype != Bool {
		return nil, fmt.Errorf("input must be bool, got %v", in[0].dtype)
	}
	o := c.output(0, Bool, in[0].shape, in)
	x, od := in[0].data.([]bool), o.data.([]bool)
	for i := range od {
		od[i] = !x[i]
	}
	return []*Tensor{o}, nil
}

func opIsNaN(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, err
	}
	o := mustNew(Bool, in[0].shape)
	od := o.data.([]bool)
	for i := range od {
		v := in[0].f64At(i)
		od[i] = v != v
	}
	return []*Tensor{o}, nil
}

func opIsInf(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, err
	}
	neg, pos := c.attrInt("detect_negative", 1) != 0, c.attrInt("detect_positive", 1) != 0
	o := mustNew(Bool, in[0].shape)
	od := o.data.([]bool)
	for i := range od {
		v := in[0].f64At(i)
		od[i] = (pos && math.IsInf(v, 1)) || (neg && math.IsInf(v, -1))
	}
	return []*Tensor{o}, nil
}

func opIdentity(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, err
	}
	return []*Tensor{in[0]}, nil
}

func opWhere(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 3, 3); err != nil {
		return nil, err
	}
	cond, x, y := in[0], in[1], in[2]
	if cond.dtype != Bool {
		return nil, fmt.Errorf("condition must be bool, got %v", cond.dtype)
	}
	if x.dtype != y.dtype {
		return nil, fmt.Errorf("X and Y types differ: %v and %v", x.dtype, y.dtype)
	}
	shape, err := broadcastShapes(cond.shape, x.shape, y.shape)
	if err != nil {
		return nil, err
	}
	full := func(t *Tensor) *Tensor {
		if t.Len() == 1 || shapeEq(t.shape, shape) {
			return t
		}
		return broadcastTo(t, shape)
	}
	cond, x, y = full(cond), full(x), full(y)
	o := mustNew(x.dtype, shape)
	n := o.Len()
	cd := cond.data.([]bool)
	cs, xs1, ys1 := cond.Len() == 1, x.Len() == 1, y.Len() == 1
	pick := func(k int) (bool, int, int) {
		ci, xi, yi := k, k, k
		if cs {
			ci = 0
		}
		if xs1 {
			xi = 0
		}
		if ys1 {
			yi = 0
		}
		return cd[ci], xi, yi
	}
	if xf, ok := x.data.([]float32); ok {
		yf, of := y.data.([]float32), o.data.([]float32)
		parallelFor(n, 2, func(lo, hi int) {
			for k := lo; k < hi; k++ {
				if c, xi, yi := pick(k); c {
					of[k] = xf[xi]
				} else {
					of[k] = yf[yi]
				}
			}
		})
		return []*Tensor{o}, nil
	}
	es := x.dtype.Size()
	ob, xb, yb := o.bytes(), x.bytes(), y.bytes()
	for k := 0; k < n; k++ {
		if c, xi, yi := pick(k); c {
			copy(ob[k*es:(k+1)*es], xb[xi*es:])
		} else {
			copy(ob[k*es:(k+1)*es], yb[yi*es:])
		}
	}
	return []*Tensor{o}, nil
}

func opClip(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 3); err != nil {
		return nil, err
	}
	x := in[0]
	lo, hi := math.Inf(-1), math.Inf(1)
	var ilo, ihi int64 = math.MinInt64, math.MaxInt64
	if c.opset < 11 {
		lo = float64(c.attrFloat("min", float32(math.Inf(-1))))
		hi = float64(c.attrFloat("max", float32(math.Inf(1))))
	} else {
		if len(in) > 1 && in[1] != nil {
			if in[1].Len() != 1 {
				return nil, fmt.Errorf("min must be a scalar, has shape %v", in[1].shape)
			}
			lo, ilo = in[1].f64At(0), in[1].i64At(0)
		}
		if len(in) > 2 && in[2] != nil {
			if in[2].Len() != 1 {
				return nil, fmt.Errorf("max must be a scalar, has shape %v", in[2].shape)
			}
			hi, ihi = in[2].f64At(0), in[2].i64At(0)
		}
	}
	o := c.output(0, x.dtype, x.shape, in)
	n := x.Len()
	if xf, ok := x.data.([]float32); ok {
		l, h := float32(lo), float32(hi)
		od := o.data.([]float32)
		parallelFor(n, 1, func(a, b int) {
			for i := a; i < b; i++ {
				v := xf[i]
				if v < l {
					v = l
				}
				if v > h {
					v = h
				}
				od[i] = v
			}
		})
		return []*Tensor{o}, nil
	}
	if x.dtype.isFloat() {
		for i := 0; i < n; i++ {
			v := x.f64At(i)
			if v < lo {
				v = lo
			}
			if v > hi {
				v = hi
			}
			o.setF64(i, v)
		}
	} else {
		for i := 0; i < n; i++ {
			v := x.i64At(i)
			if v < ilo {
				v = ilo
			}
			if v > ihi {
				v = ihi
			}
			o.setI64(i, v)
		}
	}
	return []*Tensor{o}, nil
}
