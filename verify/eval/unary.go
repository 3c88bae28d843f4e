package eval

import (
	"fmt"
	"math"
)

// unaryDef describes a float unary op: f computes one element in float64
// (attributes read from the node), f32 optionally processes float32 slices
// fast, and intF (if set) handles integer inputs.
//
// f32c, when set, builds the float32 kernel from the node's attributes
// (instead of f32). cost is the work of one float32 element in parallelFor
// units: the vector kernels are cheap enough that only tensors of tens of
// thousands of elements are worth splitting over the cores.
type unaryDef struct {
	f    func(c *opCtx) func(float64) float64
	f32  func(o, x []float32)
	f32c func(c *opCtx) func(o, x []float32)
	intF func(int64) int64
	cost int
}

func plain(f func(float64) float64) func(c *opCtx) func(float64) float64 {
	return func(*opCtx) func(float64) float64 { return f }
}

func init() {
	defs := map[string]unaryDef{
		"Neg": {f: plain(func(x float64) float64 { return -x }), intF: func(x int64) int64 { return -x },
			f32: negF32},
		"Abs": {f: plain(math.Abs), intF: func(x int64) int64 {
			if x < 0 {
				return -x
			}
			return x
		}, f32: absF32},
		"Sign": {f: plain(func(x float64) float64 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return x
		}), intF: func(x int64) int64 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return 0
		}},
		"Relu": {f: plain(func(x float64) float64 {
			if x > 0 {
				return x
			}
			return 0 * x
		}), intF: func(x int64) int64 { return max(x, 0) },
			f32: reluF32},
		"Exp": {f: plain(math.Exp), f32: expSlice32},
		"Log": {f: plain(math.Log), f32: logSlice32},
		"Sigmoid": {f: plain(func(x float64) float64 {
			if x >= 0 {
				return 1 / (1 + math.Exp(-x))
			}
			e := math.Exp(x)
			return e / (1 + e)
		}), f32: sigmoidSlice32, cost: 4},
		"Sqrt":       {f: plain(math.Sqrt), f32: sqrtSlice32, cost: 1},
		"Reciprocal": {f: plain(func(x float64) float64 { return 1 / x }), f32: reciprocalSlice32, cost: 1},
		"Floor":      {f: plain(math.Floor)},
		"Ceil":       {f: plain(math.Ceil)},
		"Round":      {f: plain(math.RoundToEven)},
		"Tanh":       {f: plain(math.Tanh), f32: tanhSlice32, cost: 4},
		"Erf":        {f: plain(math.Erf), f32: erfSlice32, cost: 4},
		"Sin":        {f: plain(math.Sin)},
		"Cos":        {f: plain(math.Cos)},
		"Tan":        {f: plain(math.Tan)},
		"Asin":       {f: plain(math.Asin)},
		"Acos":       {f: plain(math.Acos)},
		"Atan":       {f: plain(math.Atan)},
		"Sinh":       {f: plain(math.Sinh)},
		"Cosh":       {f: plain(math.Cosh)},
		"Asinh":      {f: plain(math.Asinh)},
		"Acosh":      {f: plain(math.Acosh)},
		"Atanh":      {f: plain(math.Atanh)},
		"Softsign":   {f: plain(func(x float64) float64 { return x / (1 + math.Abs(x)) })},
		"Softplus": {f: plain(softplus), f32: func(o, x []float32) {
			for i := range o {
				o[i] = softplus32(x[i])
			}
		}},
		"Mish": {f: plain(mish), f32: mishSlice32, cost: 4},
		"LeakyRelu": {f: func(c *opCtx) func(float64) float64 {
			a := float64(c.attrFloat("alpha", 0.01))
			return func(x float64) float64 {
				if x < 0 {
					return a * x
				}
				return x
			}
		}, f32c: func(c *opCtx) func(o, x []float32) { return leakyReluSlice32(c.attrFloat("alpha", 0.01)) }, cost: 1},
		"Elu": {f: func(c *opCtx) func(float64) float64 {
			a := float64(c.attrFloat("alpha", 1))
			return func(x float64) float64 {
				if x < 0 {
					return a * math.Expm1(x)
				}
				return x
			}
		}, f32c: func(c *opCtx) func(o, x []float32) { return eluSlice32(float64(c.attrFloat("alpha", 1))) }, cost: 2},
		"Celu": {f: func(c *opCtx) func(float64) float64 {
			a := float64(c.attrFloat("alpha", 1))
			return func(x float64) float64 { return celu(x, a) }
		}, f32c: func(c *opCtx) func(o, x []float32) { return celuSlice32(float64(c.attrFloat("alpha", 1))) }, cost: 2},
		"Selu": {f: func(c *opCtx) func(float64) float64 {
			a := float64(c.attrFloat("alpha", 1.67326319217681884765625))
			g := float64(c.attrFloat("gamma", 1.05070102214813232421875))
			return func(x float64) float64 {
				if x <= 0 {
					return g * a * math.Expm1(x)
				}
				return g * x
			}
		}, f32c: func(c *opCtx) func(o, x []float32) {
			return seluSlice32(float64(c.attrFloat("alpha", 1.67326319217681884765625)),
				float64(c.attrFloat("gamma", 1.05070102214813232421875)))
		}, cost: 2},
		"ThresholdedRelu": {f: func(c *opCtx) func(float64) float64 {
			a := float64(c.attrFloat("alpha", 1))
			return func(x float64) float64 {
				if x > a {
					return x
				}
				return 0
			}
		}, f32c: func(c *opCtx) func(o, x []float32) { return thresholdedReluSlice32(c.attrFloat("alpha", 1)) }, cost: 1},
		"HardSigmoid": {f: func(c *opCtx) func(float64) float64 {
			a, b := float64(c.attrFloat("alpha", 0.2)), float64(c.attrFloat("beta", 0.5))
			return func(x float64) float64 { return math.Max(0, math.Min(1, a*x+b)) }
		}, f32c: func(c *opCtx) func(o, x []float32) {
			return hardSigmoidSlice32(float64(c.attrFloat("alpha", 0.2)), float64(c.attrFloat("beta", 0.5)))
		}, cost: 1},
		"HardSwish": {f: plain(func(x float64) float64 { return x * math.Max(0, math.Min(1, x/6+0.5)) }),
			f32: hardSwishSlice32, cost: 1},
		"Gelu": {f: func(c *opCtx) func(float64) float64 {
			if c.attrString("approximate", "none") == "tanh" {
				return geluTanh
			}
			return geluErf
		}, f32c: func(c *opCtx) func(o, x []float32) {
			if c.attrString("approximate", "none") == "tanh" {
				return geluTanhSlice32
			}
			return geluErfSlice32
		}, cost: 4},
		"Shrink": {f: func(c *opCtx) func(float64) float64 {
			bias, lambd := float64(c.attrFloat("bias", 0)), float64(c.attrFloat("lambd", 0.5))
			return func(x float64) float64 {
				switch {
				case x < -lambd:
					return x + bias
				case x > lambd:
					return x - bias
				}
				return 0
			}
		}},
	}
	fns := map[string]opFunc{}
	for name, d := range defs {
		fns[name] = unaryOp(name, d)
	}
	register("unary", true, fns)
	unaryDefs = defs
}

// unaryDefs holds the unary ops' definitions by name, for the fused
// elementwise groups (fuse_elementwise.go) to call their float32 kernels.
var unaryDefs map[string]unaryDef

func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

func unaryOp(name string, d unaryDef) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		if err := needInputs(in, 1, 1); err != nil {
			return nil, err
		}
		x := in[0]
		n := x.Len()
		if !x.dtype.isFloat() {
			if d.intF == nil || x.dtype == Bool {
				return nil, fmt.Errorf("%s of %v is not supported", name, x.dtype)
			}
			o := mustNew(x.dtype, x.shape)
			for i := 0; i < n; i++ {
				o.setI64(i, d.intF(x.i64At(i)))
			}
			if x.dtype == Uint64 && name == "Abs" {
				copy(o.bytes(), x.bytes())
			}
			return []*Tensor{o}, nil
		}
		o := c.output(0, x.dtype, x.shape, in)
		switch xd := x.data.(type) {
		case []float32:
			od := o.data.([]float32)
			f32 := d.f32
			if d.f32c != nil {
				f32 = d.f32c(c)
			}
			if f32 != nil {
				cost := d.cost
				if cost == 0 || !haveAVX2 {
					cost = 8
				}
				parallelFor(n, cost, func(lo, hi int) { f32(od[lo:hi], xd[lo:hi]) })
			} else {
				f := d.f(c)
				parallelFor(n, 16, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						od[i] = float32(f(float64(xd[i])))
					}
				})
			}
		case []float64:
			od := o.data.([]float64)
			f := d.f(c)
			parallelFor(n, 16, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					od[i] = f(xd[i])
				}
			})
		default:
			return nil, fmt.Errorf("%s of %v is not supported", name, x.dtype)
		}
		return []*Tensor{o}, nil
	}
}
