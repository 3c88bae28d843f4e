package eval

import "math"

// The float32 LayerNormalization. Transformer exports normalize float32
// rows of 96–768 elements with a per-channel Scale and B; the general path
// (layernorm.go) converts everything to float64 and broadcasts Scale to the
// whole tensor, which cost a third of convnext_tiny's run. Here each row's
// mean and variance are still accumulated in float64 (two passes, as the
// general path does), and y = (x-mean)·invstd·scale + bias is computed in
// float32 with AVX2/FMA where the CPU has them.

// layerNormKernels selects the AVX2 row kernels (tests switch it off to
// check the portable loops).
var layerNormKernels = haveAVX2

// rowPattern32 returns t (Scale or B, float32) as one row of the normalized
// dims shape, or false if t is not float32 or varies over the leading dims
// (the general path then handles it, errors included).
func rowPattern32(t *Tensor, shape []int64) ([]float32, bool) {
	d, ok := t.data.([]float32)
	if !ok {
		return nil, false
	}
	ts := t.shape
	for len(ts) > len(shape) {
		if ts[0] != 1 {
			return nil, false
		}
		ts = ts[1:]
	}
	off := len(shape) - len(ts)
	for i, v := range ts {
		if v != 1 && v != shape[off+i] {
			return nil, false
		}
	}
	n := NumElements(shape)
	if int64(len(d)) == n {
		return d, true
	}
	row := make([]float32, n)
	bcIndexer(shape, ts)(func(o, i int) { row[o] = d[i] })
	return row, true
}

// rowMoments returns the mean of x and the mean of its squared deviations
// from it, accumulated in float64.
func rowMoments(x []float32) (mean, variance float64) {
	n := len(x)
	var s float64
	k := 0
	if layerNormKernels {
		k = n &^ 15
		s = sumF32AVX2(x)
	}
	for ; k < n; k++ {
		s += float64(x[k])
	}
	mean = s / float64(n)
	var q float64
	k = 0
	if layerNormKernels {
		k = n &^ 15
		q = sqDevF32AVX2(x, mean)
	}
	for ; k < n; k++ {
		d := float64(x[k]) - mean
		q += d * d
	}
	return mean, q / float64(n)
}

// normAffine32 sets y[i] = (x[i]-mean)·inv·s[i] + b[i] (y may be x) in
// float32. The float64 mean is subtracted as its float32 rounding, then the
// rest: x-m32 is exact when x is near the mean (Sterbenz), so a mean large
// against the spread loses no more than float32 rounding of x-mean.
func normAffine32(y, x, s, b []float32, mean float64, inv float32) {
	m32 := float32(mean)
	resid := float32(mean - float64(m32))
	k := 0
	if layerNormKernels {
		k = len(y) &^ 7
		normAffine32AVX2(y, x, s, b, m32, resid, inv)
	}
	for ; k < len(y); k++ {
		y[k] = ((x[k]-m32)-resid)*inv*s[k] + b[k]
	}
}

// layerNorm32 normalizes the float32 tensor x over its dims from axis on,
// writing y (which may share x's buffer). Each row's mean and 1/sqrt(var+eps)
// go to means and invs when those are not nil.
func layerNorm32(y, x []float32, n int, eps float64, scale, bias []float32, means, invs []float64) {
	rows := len(x) / n
	parallelFor(rows, 3*n, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*n:(r+1)*n], y[r*n:(r+1)*n]
			m, v := rowMoments(xr)
			inv := 1 / math.Sqrt(v+eps)
			normAffine32(yr, xr, scale, bias, m, float32(inv))
			if means != nil {
				means[r], invs[r] = m, inv
			}
		}
	})
}

// opLayerNorm32 is LayerNormalization on float32 data whose Scale and B
// vary only over the normalized dims; ok is false when it does not apply.
func opLayerNorm32(c *opCtx, in []*Tensor, axis int, eps float64) (res []*Tensor, ok bool) {
	x := in[0]
	xd, isF32 := x.data.([]float32)
	if !isF32 {
		return nil, false
	}
	inner := x.shape[axis:]
	n := int(NumElements(inner))
	if n == 0 || len(xd) == 0 {
		return nil, false
	}
	scale, ok := rowPattern32(in[1], inner)
	if !ok {
		return nil, false
	}
	var bias []float32
	if len(in) > 2 && in[2] != nil {
		if bias, ok = rowPattern32(in[2], inner); !ok {
			return nil, false
		}
	} else {
		bias = make([]float32, n)
	}
	rows := len(xd) / n
	var means, invs []float64
	wantStats := (c.nOut > 1 && c.want[1]) || (c.nOut > 2 && c.want[2])
	if wantStats {
		means, invs = make([]float64, rows), make([]float64, rows)
	}
	o := c.output(0, Float32, x.shape, in)
	layerNorm32(o.Float32s(), xd, n, eps, scale, bias, means, invs)
	res = []*Tensor{o, nil, nil}
	if wantStats {
		res[1], res[2] = layerNormStats(c, x.shape, axis, means, invs)
	}
	return res, true
}

// normSegments32 normalizes float32 rows of rowLen elements (a group of
// GroupNormalization, a channel of InstanceNormalization) with float64 row
// moments as layerNorm32 does; each row is made of segments of inner
// elements (channels) that share one scale and bias, given by param(r, k)
// for segment k of row r.
func normSegments32(y, x []float32, rowLen, inner int, eps float64, param func(r, k int) (scale, bias float32)) {
	rows := len(x) / rowLen
	parallelFor(rows, 3*rowLen, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*rowLen:(r+1)*rowLen], y[r*rowLen:(r+1)*rowLen]
			m, v := rowMoments(xr)
			inv := float32(1 / math.Sqrt(v+eps))
			m32 := float32(m)
			resid := float32(m - float64(m32))
			for k := 0; k < rowLen/inner; k++ {
				s, b := param(r, k)
				xs, ys := xr[k*inner:(k+1)*inner], yr[k*inner:(k+1)*inner]
				for i, v := range xs {
					ys[i] = ((v-m32)-resid)*inv*s + b
				}
			}
		}
	})
}

// params32 returns a float32 per-channel (or per-group) parameter, or false.
func params32(t *Tensor, want int64) ([]float32, bool) {
	d, ok := t.data.([]float32)
	return d, ok && int64(len(d)) == want
}
