package eval

import (
	"fmt"
	"math"
	"unsafe"
)

func init() {
	register("norm", true, map[string]opFunc{
		"BatchNormalization": opBatchNorm,
		"Dropout":            opDropout,
	})
}

// bnArgs are a BatchNormalization node's checked inputs and mode.
type bnArgs struct {
	x            *Tensor
	params       []*Tensor // scale, B, mean, var
	eps, mom     float64
	training     bool
	n, ch, inner int
}

// batchNormArgs checks a BatchNormalization node's inputs and reads its
// attributes (every opset's form: is_test before 7, extra outputs meaning
// training in 9-13, training_mode from 14).
func batchNormArgs(c *opCtx, in []*Tensor) (*bnArgs, error) {
	if err := needInputs(in, 5, 5); err != nil {
		return nil, err
	}
	return batchNormArgsOf(c, in[0], in[1:])
}

// batchNormArgsOf is batchNormArgs for X (only its shape is read) and the
// four parameters.
func batchNormArgsOf(c *opCtx, x *Tensor, params []*Tensor) (*bnArgs, error) {
	in := append([]*Tensor{x}, params...)
	for i, t := range in {
		if t == nil {
			return nil, fmt.Errorf("required input %d is missing", i)
		}
	}
	if x.Rank() < 2 {
		return nil, fmt.Errorf("X must be (N, C, ...), has shape %v", x.shape)
	}
	ch := x.shape[1]
	for i := 1; i < 5; i++ {
		if in[i].Len() != int(ch) {
			return nil, fmt.Errorf("input %d has shape %v, want [%d]", i, in[i].shape, ch)
		}
	}
	training := c.opset >= 14 && c.attrInt("training_mode", 0) != 0
	if c.opset < 14 && c.nOut > 1 {
		training = true // opsets 9-13: extra outputs mean training
	}
	if c.opset < 7 && c.attrInt("is_test", 0) != 0 {
		training = false
	}
	return &bnArgs{x: x, params: params,
		eps: float64(c.attrFloat("epsilon", 1e-5)), mom: float64(c.attrFloat("momentum", 0.9)), training: training,
		n: int(x.shape[0]), ch: int(ch), inner: int(NumElements(x.shape[2:]))}, nil
}

// bnFoldKey identifies a folded BatchNormalization: its parameters' buffers
// and epsilon.
type bnFoldKey struct {
	p   [4]unsafe.Pointer
	eps float64
}

// bnFold is the per-channel y = x·a + b of inference.
type bnFold struct{ a, b []float32 }

// folded returns the per-channel y = x·a + b of inference: a and b folded
// in float64 then rounded, as runtimes fold BatchNorm. With initializer
// parameters (a model's usual case) they are folded once per session.
func (b *bnArgs) folded(c *opCtx) bnFold {
	build := func() any {
		sc, bs, mean, vr := b.params[0].AsFloat64(), b.params[1].AsFloat64(), b.params[2].AsFloat64(), b.params[3].AsFloat64()
		f := bnFold{make([]float32, b.ch), make([]float32, b.ch)}
		for cc := range f.a {
			a := sc[cc] / math.Sqrt(vr[cc]+b.eps)
			f.a[cc], f.b[cc] = float32(a), float32(bs[cc]-mean[cc]*a)
		}
		return f
	}
	key := bnFoldKey{eps: b.eps}
	for i, t := range b.params {
		if c == nil || c.sess == nil || !c.sess.isInit[bufKey(t)] {
			return build().(bnFold)
		}
		key.p[i] = bufKey(t)
	}
	return c.sessionDerived(key, build).(bnFold)
}

// batchNormPlanes32 writes od = x·a[c] + b[c] plane by plane (then Relu's
// max(·, 0) on each plane while it is in cache, when relu is set): the
// kernels of the BatchNormalization and Relu nodes, so the values are theirs
// bit for bit.
func batchNormPlanes32(od, x32 []float32, f bnFold, n, ch, inner int, relu bool) {
	batchNormPlanesFrom32(od, func(b, c int) []float32 { return x32[(b*ch+c)*inner:][:inner] }, f, n, ch, inner, relu)
}

// batchNormPlanesFrom32 is batchNormPlanes32 reading the input plane of
// image b, channel c from src(b, c).
func batchNormPlanesFrom32(od []float32, src func(b, c int) []float32, f bnFold, n, ch, inner int, relu bool) {
	whole := haveAVX2 && inner >= 8 && inner%8 == 0
	parallelFor(n*ch, inner, func(lo, hi int) {
		// The image and channel of plane q, stepped without a division per plane.
		b, cc := lo/ch, lo%ch
		for q := lo; q < hi; q++ {
			av, bv := f.a[cc], f.b[cc]
			x := src(b, cc)
			if cc++; cc == ch {
				b, cc = b+1, 0
			}
			o := od[q*inner : (q+1)*inner]
			if whole {
				// The kernels' vector loops, called directly: what scaleShift and
				// reluF32 run for a length with no scalar tail.
				scaleShiftAVX2(o, x, av, bv)
				if relu {
					reluSlice32(o, o)
				}
				continue
			}
			if inner >= 8 {
				scaleShift(o, x, av, bv) // depthwise32.go
				if relu {
					reluF32(o, o)
				}
				continue
			}
			// Planes shorter than a vector (the 2×2 maps of a network's last
			// stage): the kernels' scalar tails, the same expressions, inline
			// instead of two calls per plane.
			x = x[:len(o)]
			for i := range o {
				v := x[i]*av + bv
				if relu && v < 0 {
					v = 0
				}
				o[i] = v
			}
		}
	})
}

func opBatchNorm(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	args, err := batchNormArgs(c, in)
	if err != nil {
		return nil, err
	}
	x := args.x
	if x32 := x.Float32s(); x32 != nil && !args.training {
		// Each element depends on itself only: a dead input is overwritten.
		o := c.output(0, Float32, x.shape, in)
		batchNormPlanes32(o.Float32s(), x32, args.folded(c), args.n, args.ch, args.inner, false)
		return []*Tensor{o}, nil
	}
	sc, bs, mean, vr := in[1].AsFloat64(), in[2].AsFloat64(), in[3].AsFloat64(), in[4].AsFloat64()
	eps, mom, training := args.eps, args.mom, args.training
	n, ch, inner := args.n, int64(args.ch), args.inner
	xd := x.AsFloat64()
	useMean, useVar := mean, vr
	var bm, bv []float64
	if training {
		bm, bv = make([]float64, ch), make([]float64, ch)
		cnt := float64(n * inner)
		for cc := 0; cc < int(ch); cc++ {
			s := 0.0
			for i := 0; i < n; i++ {
				for k := 0; k < inner; k++ {
					s += xd[(i*int(ch)+cc)*inner+k]
				}
			}
			m := s / cnt
			v := 0.0
			for i := 0; i < n; i++ {
				for k := 0; k < inner; k++ {
					d := xd[(i*int(ch)+cc)*inner+k] - m
					v += d * d
				}
			}
			bm[cc], bv[cc] = m, v/cnt
		}
		useMean, useVar = bm, bv
	}
	o := mustNew(x.dtype, x.shape)
	for i := 0; i < n; i++ {
		for cc := 0; cc < int(ch); cc++ {
			a := sc[cc] / math.Sqrt(useVar[cc]+eps)
			for k := 0; k < inner; k++ {
				p := (i*int(ch)+cc)*inner + k
				o.setF64(p, (xd[p]-useMean[cc])*a+bs[cc])
			}
		}
	}
	if !training {
		return []*Tensor{o}, nil
	}
	rm, rv := mustNew(in[3].dtype, in[3].shape), mustNew(in[4].dtype, in[4].shape)
	for cc := 0; cc < int(ch); cc++ {
		rm.setF64(cc, mean[cc]*mom+bm[cc]*(1-mom))
		rv.setF64(cc, vr[cc]*mom+bv[cc]*(1-mom))
	}
	if c.opset >= 14 {
		return []*Tensor{o, rm, rv}, nil
	}
	sm, sv := mustNew(in[3].dtype, in[3].shape), mustNew(in[4].dtype, in[4].shape)
	for cc := 0; cc < int(ch); cc++ {
		sm.setF64(cc, bm[cc])
		sv.setF64(cc, 1/math.Sqrt(bv[cc]+eps))
	}
	return []*Tensor{o, rm, rv, sm, sv}, nil
}

func opDropout(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, fmt.Errorf("data is missing")
	}
	x := in[0]
	ratio := float64(c.attrFloat("ratio", 0.5))
	training := false
	if c.opset >= 12 {
		if len(in) > 1 && in[1] != nil {
			ratio = in[1].f64At(0)
		}
		if len(in) > 2 && in[2] != nil {
			training = in[2].Len() == 1 && in[2].f64At(0) != 0
		}
	} else if c.opset < 7 {
		training = c.attrInt("is_test", 0) == 0
	}
	if training && ratio != 0 && !c.inference {
		return nil, fmt.Errorf("training-mode Dropout with ratio %g is random and cannot be reproduced (evaluate in inference mode)", ratio)
	}
	var mask *Tensor
	if c.nOut > 1 && c.want[1] {
		dt := Bool
		if c.opset < 10 {
			dt = x.dtype
		}
		mask = mustNew(dt, x.shape)
		for i := 0; i < mask.Len(); i++ {
			mask.setI64(i, 1)
		}
	}
	return []*Tensor{x, mask}, nil
}
