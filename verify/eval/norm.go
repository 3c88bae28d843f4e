package eval

import (
	"fmt"
	"math"
)

func init() {
	register("norm", true, map[string]opFunc{
		"BatchNormalization": opBatchNorm,
		"Dropout":            opDropout,
	})
}

func opBatchNorm(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 5, 5); err != nil {
		return nil, err
	}
	x := in[0]
	if x.Rank() < 2 {
		return nil, fmt.Errorf("X must be (N, C, ...), has shape %v", x.shape)
	}
	ch := x.shape[1]
	for i := 1; i < 5; i++ {
		if in[i].Len() != int(ch) {
			return nil, fmt.Errorf("input %d has shape %v, want [%d]", i, in[i].shape, ch)
		}
	}
	eps := float64(c.attrFloat("epsilon", 1e-5))
	mom := float64(c.attrFloat("momentum", 0.9))
	training := c.opset >= 14 && c.attrInt("training_mode", 0) != 0
	if c.opset < 14 && c.nOut > 1 {
		training = true // opsets 9-13: extra outputs mean training
	}
	if c.opset < 7 && c.attrInt("is_test", 0) != 0 {
		training = false
	}
	sc, bs, mean, vr := in[1].AsFloat64(), in[2].AsFloat64(), in[3].AsFloat64(), in[4].AsFloat64()
	n := int(x.shape[0])
	inner := int(NumElements(x.shape[2:]))
	if x32 := x.Float32s(); x32 != nil && !training {
		// Inference on float32: y = x·a + b per channel, a and b folded in
		// float64 then rounded, as runtimes fold BatchNorm.
		// Each element depends on itself only: a dead input is overwritten.
		o := c.output(0, Float32, x.shape, in)
		od := o.Float32s()
		parallelFor(n*int(ch), inner, func(lo, hi int) {
			for q := lo; q < hi; q++ {
				cc := q % int(ch)
				a := sc[cc] / math.Sqrt(vr[cc]+eps)
				av, bv := float32(a), float32(bs[cc]-mean[cc]*a)
				scaleShift(od[q*inner:(q+1)*inner], x32[q*inner:(q+1)*inner], av, bv) // depthwise32.go
			}
		})
		return []*Tensor{o}, nil
	}
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
