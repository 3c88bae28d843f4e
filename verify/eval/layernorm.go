package eval

import (
	"fmt"
	"math"
)

func init() {
	register("layernorm", true, map[string]opFunc{
		"LayerNormalization":    opLayerNorm,
		"RMSNormalization":      opRMSNorm,
		"GroupNormalization":    opGroupNorm,
		"InstanceNormalization": opInstanceNorm,
	})
}

// floatView returns x's elements as float64: x's own data for float64,
// a converted copy otherwise.
func floatView(x *Tensor) []float64 {
	if d, ok := x.data.([]float64); ok {
		return d
	}
	return x.AsFloat64()
}

// broadcastF64 returns t's values broadcast (unidirectionally) to shape.
func broadcastF64(t *Tensor, shape []int64, what string) ([]float64, error) {
	bs, err := broadcastShapes(shape, t.shape)
	if err != nil || !shapeEq(bs, shape) {
		return nil, fmt.Errorf("%s of shape %v does not broadcast to %v", what, t.shape, shape)
	}
	src := floatView(t)
	if shapeEq(t.shape, shape) {
		return src, nil
	}
	out := make([]float64, NumElements(shape))
	bcIndexer(shape, t.shape)(func(o, i int) { out[o] = src[i] })
	return out, nil
}

// rowStats returns the mean and the mean of squared deviations of v (two passes, float64).
func rowStats(v []float64) (mean, variance float64) {
	s := 0.0
	for _, x := range v {
		s += x
	}
	mean = s / float64(len(v))
	q := 0.0
	for _, x := range v {
		d := x - mean
		q += d * d
	}
	return mean, q / float64(len(v))
}

// normalizeRows computes y = (x-mean)/sqrt(var+eps) over consecutive rows of
// length n, then y*scale+bias with scale and bias given for the whole
// tensor (nil bias: none). It returns y and each row's mean and 1/sqrt(var+eps).
func normalizeRows(x []float64, n int, eps float64, rms bool, scale, bias func(i int) float64) (y, means, inv []float64) {
	rows := len(x) / max(n, 1)
	y = make([]float64, len(x))
	means, inv = make([]float64, rows), make([]float64, rows)
	parallelFor(rows, n*4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := x[r*n : (r+1)*n]
			var m, v float64
			if rms {
				for _, a := range row {
					v += a * a
				}
				v /= float64(n)
			} else {
				m, v = rowStats(row)
			}
			is := 1 / math.Sqrt(v+eps)
			means[r], inv[r] = m, is
			for k, a := range row {
				i := r*n + k
				o := (a - m) * is * scale(i)
				if bias != nil {
					o += bias(i)
				}
				y[i] = o
			}
		}
	})
	return y, means, inv
}

func normAttrs(c *opCtx, x *Tensor, defAxis int64) (axis int, eps float64, err error) {
	axis, err = normAxis(c.attrInt("axis", defAxis), x.Rank())
	if err != nil {
		return 0, 0, err
	}
	return axis, float64(c.attrFloat("epsilon", 1e-5)), nil
}

func opLayerNorm(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 3); err != nil {
		return nil, err
	}
	x := in[0]
	axis, eps, err := normAttrs(c, x, -1)
	if err != nil {
		return nil, err
	}
	if res, ok := opLayerNorm32(c, in, axis, eps); ok {
		return res, nil
	}
	sc, err := broadcastF64(in[1], x.shape, "Scale")
	if err != nil {
		return nil, err
	}
	var bias func(int) float64
	if len(in) > 2 && in[2] != nil {
		b, err := broadcastF64(in[2], x.shape, "B")
		if err != nil {
			return nil, err
		}
		bias = func(i int) float64 { return b[i] }
	}
	n := int(NumElements(x.shape[axis:]))
	y, means, inv := normalizeRows(floatView(x), n, eps, false, func(i int) float64 { return sc[i] }, bias)
	o := c.alloc(x.dtype, x.shape)
	for i, v := range y {
		o.setF64(i, v)
	}
	res := []*Tensor{o, nil, nil}
	res[1], res[2] = layerNormStats(c, x.shape, axis, means, inv)
	return res, nil
}

// layerNormStats returns the optional Mean and InvStdDev outputs (nil when
// not wanted): shape x's with the normalized dims set to 1, type stash_type.
func layerNormStats(c *opCtx, shape []int64, axis int, means, inv []float64) (mean, invStd *Tensor) {
	statShape := append([]int64{}, shape...)
	for d := axis; d < len(statShape); d++ {
		statShape[d] = 1
	}
	stash := DType(c.attrInt("stash_type", 1))
	if !stash.isFloat() {
		stash = Float32
	}
	var out [2]*Tensor
	for k, vals := range [][]float64{means, inv} {
		if c.nOut > k+1 && c.want[k+1] {
			t := mustNew(stash, statShape)
			for i, v := range vals {
				t.setF64(i, v)
			}
			out[k] = t
		}
	}
	return out[0], out[1]
}

func opRMSNorm(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 2); err != nil {
		return nil, err
	}
	x := in[0]
	axis, eps, err := normAttrs(c, x, -1)
	if err != nil {
		return nil, err
	}
	sc, err := broadcastF64(in[1], x.shape, "scale")
	if err != nil {
		return nil, err
	}
	n := int(NumElements(x.shape[axis:]))
	y, _, _ := normalizeRows(floatView(x), n, eps, true, func(i int) float64 { return sc[i] }, nil)
	o := c.alloc(x.dtype, x.shape)
	for i, v := range y {
		o.setF64(i, v)
	}
	return []*Tensor{o}, nil
}

// channelParam checks a per-channel parameter of length want.
func channelParam(t *Tensor, want int64, what string) ([]float64, error) {
	if t.Len() != int(want) {
		return nil, fmt.Errorf("%s has shape %v, want [%d]", what, t.shape, want)
	}
	return floatView(t), nil
}

func opGroupNorm(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 3, 3); err != nil {
		return nil, err
	}
	x := in[0]
	if x.Rank() < 2 {
		return nil, fmt.Errorf("X must be (N, C, ...), has shape %v", x.shape)
	}
	groups := c.attrInt("num_groups", 0)
	ch := x.shape[1]
	if groups <= 0 || ch%groups != 0 {
		return nil, fmt.Errorf("num_groups %d must be positive and divide the %d channels", groups, ch)
	}
	eps := float64(c.attrFloat("epsilon", 1e-5))
	inner := int(NumElements(x.shape[2:]))
	perGroup := int(ch/groups) * inner
	// Opset 18 gives scale and bias per group, opset 21 per channel.
	plen := ch
	if c.opset < 21 {
		plen = groups
	}
	sc, err := channelParam(in[1], plen, "scale")
	if err != nil {
		return nil, err
	}
	bs, err := channelParam(in[2], plen, "bias")
	if err != nil {
		return nil, err
	}
	if xd, ok := x.data.([]float32); ok && len(xd) > 0 && inner > 0 {
		sc32, ok1 := params32(in[1], plen)
		bs32, ok2 := params32(in[2], plen)
		if ok1 && ok2 {
			o := c.output(0, Float32, x.shape, in)
			perCh := int(ch / groups)
			normSegments32(o.Float32s(), xd, perGroup, inner, eps, func(r, k int) (float32, float32) {
				g := r % int(groups)
				p := g*perCh + k
				if plen == groups {
					p = g
				}
				return sc32[p], bs32[p]
			})
			return []*Tensor{o}, nil
		}
	}
	param := func(i int) int {
		cc := (i / inner) % int(ch)
		if plen == groups {
			return cc / int(ch/groups)
		}
		return cc
	}
	y, _, _ := normalizeRows(floatView(x), perGroup, eps, false,
		func(i int) float64 { return sc[param(i)] }, func(i int) float64 { return bs[param(i)] })
	o := c.alloc(x.dtype, x.shape)
	for i, v := range y {
		o.setF64(i, v)
	}
	return []*Tensor{o}, nil
}

func opInstanceNorm(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 3, 3); err != nil {
		return nil, err
	}
	x := in[0]
	if x.Rank() < 3 {
		return nil, fmt.Errorf("input must be (N, C, D1, ...), has shape %v", x.shape)
	}
	ch := x.shape[1]
	sc, err := channelParam(in[1], ch, "scale")
	if err != nil {
		return nil, err
	}
	bs, err := channelParam(in[2], ch, "B")
	if err != nil {
		return nil, err
	}
	inner := int(NumElements(x.shape[2:]))
	if xd, ok := x.data.([]float32); ok && len(xd) > 0 && inner > 0 {
		sc32, ok1 := params32(in[1], ch)
		bs32, ok2 := params32(in[2], ch)
		if ok1 && ok2 {
			o := c.output(0, Float32, x.shape, in)
			normSegments32(o.Float32s(), xd, inner, inner, float64(c.attrFloat("epsilon", 1e-5)), func(r, k int) (float32, float32) {
				return sc32[r%int(ch)], bs32[r%int(ch)]
			})
			return []*Tensor{o}, nil
		}
	}
	cc := func(i int) int { return (i / inner) % int(ch) }
	y, _, _ := normalizeRows(floatView(x), inner, float64(c.attrFloat("epsilon", 1e-5)), false,
		func(i int) float64 { return sc[cc(i)] }, func(i int) float64 { return bs[cc(i)] })
	o := c.alloc(x.dtype, x.shape)
	for i, v := range y {
		o.setF64(i, v)
	}
	return []*Tensor{o}, nil
}
