package eval

import (
	"fmt"
	"math"
)

func init() {
	register("loss", true, map[string]opFunc{
		"SoftmaxCrossEntropyLoss":   opSCE,
		"NegativeLogLikelihoodLoss": opNLL,
	})
}

// nllLoss computes NegativeLogLikelihoodLoss of log-probabilities x (N, C, d...)
// with integer targets (N, d...) and optional class weights.
func nllLoss(c *opCtx, x, target, weight *Tensor) (*Tensor, error) {
	if x.Rank() < 2 {
		return nil, fmt.Errorf("input must have shape (N, C, ...), has %v", x.shape)
	}
	if target.dtype != Int64 && target.dtype != Int32 {
		return nil, fmt.Errorf("target must be int32 or int64, is %v", target.dtype)
	}
	n, cls := x.shape[0], x.shape[1]
	want := append([]int64{n}, x.shape[2:]...)
	if !shapeEq(target.shape, want) {
		return nil, fmt.Errorf("target shape %v, want %v for input %v", target.shape, want, x.shape)
	}
	if weight != nil && (weight.Rank() != 1 || weight.shape[0] != cls) {
		return nil, fmt.Errorf("weight shape %v, want [%d]", weight.shape, cls)
	}
	red := c.attrString("reduction", "mean")
	if red != "mean" && red != "sum" && red != "none" {
		return nil, fmt.Errorf("unknown reduction %q", red)
	}
	ignore, hasIgnore := c.attrInt("ignore_index", 0), c.hasAttr("ignore_index")
	inner := int(NumElements(x.shape[2:]))
	var xd []float64
	xf, is32 := x.data.([]float32)
	if !is32 {
		xd = x.AsFloat64()
	}
	var wd []float64
	if weight != nil {
		wd = weight.AsFloat64()
	}
	per := mustNew(x.dtype, target.shape)
	sum, wsum := 0.0, 0.0
	for i := 0; i < int(n); i++ {
		for k := 0; k < inner; k++ {
			q := i*inner + k
			t := target.i64At(q)
			if hasIgnore && t == ignore {
				per.setF64(q, 0)
				continue
			}
			if t < 0 || t >= cls {
				return nil, fmt.Errorf("target %d out of range [0, %d)", t, cls)
			}
			w := 1.0
			if wd != nil {
				w = wd[t]
			}
			p := (i*int(cls)+int(t))*inner + k
			var v float64
			if is32 {
				v = float64(xf[p])
			} else {
				v = xd[p]
			}
			l := -v * w
			per.setF64(q, l)
			sum += l
			wsum += w
		}
	}
	switch red {
	case "none":
		return per, nil
	case "sum":
		o := mustNew(x.dtype, []int64{})
		o.setF64(0, sum)
		return o, nil
	}
	o := mustNew(x.dtype, []int64{})
	if wsum == 0 {
		o.setF64(0, math.NaN())
	} else {
		o.setF64(0, sum/wsum)
	}
	return o, nil
}

func opNLL(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 3); err != nil {
		return nil, err
	}
	var w *Tensor
	if len(in) > 2 {
		w = in[2]
	}
	o, err := nllLoss(c, in[0], in[1], w)
	if err != nil {
		return nil, err
	}
	return []*Tensor{o}, nil
}

func opSCE(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 3); err != nil {
		return nil, err
	}
	x := in[0]
	if x.Rank() < 2 || !x.dtype.isFloat() {
		return nil, fmt.Errorf("scores must be float of shape (N, C, ...), are %v%v", x.dtype, x.shape)
	}
	lp := mustNew(x.dtype, x.shape)
	softmaxInto("LogSoftmax", x, lp, int(x.shape[0]), int(x.shape[1]), int(NumElements(x.shape[2:])))
	var w *Tensor
	if len(in) > 2 {
		w = in[2]
	}
	o, err := nllLoss(c, lp, in[1], w)
	if err != nil {
		return nil, err
	}
	return []*Tensor{o, lp}, nil
}
