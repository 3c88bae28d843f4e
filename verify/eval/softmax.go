package eval

import (
	"fmt"
	"math"
	"unsafe"
)

func init() {
	register("softmax", true, map[string]opFunc{
		"Softmax":    softmaxOp("Softmax"),
		"LogSoftmax": softmaxOp("LogSoftmax"),
		"Hardmax":    softmaxOp("Hardmax"),
	})
}

// softmaxDims returns (outer, classes, inner) for the node's axis semantics:
// before opset 13 the input is coerced to 2-D at axis (default 1); from 13 the
// op runs along the single axis (default -1).
func softmaxDims(c *opCtx, shape []int64) (int, int, int, error) {
	r := len(shape)
	if c.opset < 13 {
		axis := c.attrInt("axis", 1)
		if axis < 0 {
			axis += int64(r)
		}
		if axis < 0 || axis > int64(max(r, 1)) {
			return 0, 0, 0, fmt.Errorf("axis %d out of range for rank %d", c.attrInt("axis", 1), r)
		}
		if axis > int64(r) {
			axis = int64(r)
		}
		return int(NumElements(shape[:axis])), int(NumElements(shape[axis:])), 1, nil
	}
	if r == 0 {
		return 1, 1, 1, nil
	}
	a, err := normAxis(c.attrInt("axis", -1), r)
	if err != nil {
		return 0, 0, 0, err
	}
	return int(NumElements(shape[:a])), int(shape[a]), int(NumElements(shape[a+1:])), nil
}

func softmaxOp(name string) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		if err := needInputs(in, 1, 1); err != nil {
			return nil, err
		}
		x := in[0]
		if !x.dtype.isFloat() {
			return nil, fmt.Errorf("%s of %v is not supported", name, x.dtype)
		}
		outer, cls, inner, err := softmaxDims(c, x.shape)
		if err != nil {
			return nil, err
		}
		o := c.output(0, x.dtype, x.shape, in)
		softmaxInto(name, x, o, outer, cls, inner)
		return []*Tensor{o}, nil
	}
}

// softmaxInto computes name over (outer, cls, inner) from x into o (o may alias x).
func softmaxInto(name string, x, o *Tensor, outer, cls, inner int) {
	if xf, ok := x.data.([]float32); ok && inner == 1 && name != "Hardmax" {
		of := o.data.([]float32)
		if haveAVX512 && cls > 0 {
			logOut := name == "LogSoftmax"
			// A LogSoftmax output larger than the caches goes to memory by
			// non-temporal stores: nothing reads it back soon enough to hit.
			stream := logOut && len(of)*4 >= streamMinBytes
			parallelFor(outer, cls*4, func(lo, hi int) {
				var scratch []float32
				for i := lo; i < hi; i++ {
					softmaxRow512(logOut, stream, xf[i*cls:(i+1)*cls], of[i*cls:(i+1)*cls], &scratch)
				}
				if stream {
					sfence512()
				}
			})
			return
		}
		parallelFor(outer, cls*4, func(lo, hi int) {
			scratch := make([]float32, 2*cls)
			for i := lo; i < hi; i++ {
				softmaxRow32(name == "LogSoftmax", xf[i*cls:(i+1)*cls], of[i*cls:(i+1)*cls], scratch)
			}
		})
		return
	}
	var xd []float64
	if f, ok := x.data.([]float64); ok {
		xd = f
	} else {
		xd = x.AsFloat64()
	}
	parallelFor(outer*inner, cls*8, func(lo, hi int) {
		buf := make([]float64, cls)
		for q := lo; q < hi; q++ {
			i, k := q/inner, q%inner
			base := i*cls*inner + k
			for j := range buf {
				buf[j] = xd[base+j*inner]
			}
			softmaxRow64(name, buf)
			for j, v := range buf {
				o.setF64(base+j*inner, v)
			}
		}
	})
}

// streamMinBytes is the output size from which LogSoftmax writes with
// non-temporal stores (above the 48 MB last-level cache of the machines the
// benchmarks run on, where the stores would only evict the input).
const streamMinBytes = 64 << 20

// softmaxRow512 is softmaxRow32 with the AVX-512 kernels: the maximum, then
// Σ exp(x − m) (float32 terms within 2 ulp, summed in float64), then one
// pass writing x − (m + log Σ) or exp(x − m)·(1/Σ). Rows holding ±Inf or
// NaN go to the float64 fallback, like softmaxRow32's. scratch holds the
// exponentials of a Softmax computed in place.
func softmaxRow512(logOut, stream bool, x, o []float32, scratch *[]float32) {
	m := maxF32x512(x)
	if math.IsInf(float64(m), 0) || m != m {
		softmaxRowDegenerate(logOut, x, o)
		return
	}
	if logOut {
		c, ok := logShift512(x, m)
		if !ok {
			softmaxRowDegenerate(logOut, x, o)
			return
		}
		if !stream {
			subVS512(o, x, c, false)
			return
		}
		// Whole aligned vectors by non-temporal stores.
		head := int((64 - uintptr(unsafe.Pointer(&o[0]))%64) % 64 / 4)
		if head >= len(o) {
			subVS512(o, x, c, false)
			return
		}
		if head > 0 {
			subVS512(o[:head], x[:head], c, false)
		}
		subVS512(o[head:], x[head:], c, true)
		return
	}
	e := o
	if &o[0] == &x[0] {
		if cap(*scratch) < len(x) {
			*scratch = make([]float32, len(x))
		}
		e = (*scratch)[:len(x)]
	}
	s := expShiftStore512(e, x, m)
	if s != s {
		softmaxRowDegenerate(logOut, x, o)
		return
	}
	mulVS512(o, e, float32(1/s), false)
}

// logShift512 returns c = m + log Σ exp(x − m) for the row maximum m (the
// AVX-512 kernels), so that LogSoftmax(x) = x − c; false for a row holding a
// NaN the maximum skipped (the float64 fallback's case).
func logShift512(x []float32, m float32) (float32, bool) {
	s := sumExpShift512(x, m)
	if s != s {
		return 0, false
	}
	return m + float32(math.Log(s)), true
}

// logSoftmaxShift returns the c of a row with LogSoftmax(x) = x − c, computed
// exactly as LogSoftmax computes it on this CPU (so a consumer that needs a
// few elements of the output gets them bit for bit without the whole row), or
// false for a row holding ±Inf or NaN, which softmaxRowDegenerate handles.
// scratch holds 2·len(x) floats on the non-AVX-512 path.
func logSoftmaxShift(x []float32, scratch *[]float32) (float32, bool) {
	if len(x) == 0 {
		return 0, false
	}
	if haveAVX512 {
		m := maxF32x512(x)
		if math.IsInf(float64(m), 0) || m != m {
			return 0, false
		}
		return logShift512(x, m)
	}
	if cap(*scratch) < 2*len(x) {
		*scratch = make([]float32, 2*len(x))
	}
	m, _, s, ok := maxExpSum32(x, (*scratch)[:2*len(x)])
	if !ok {
		return 0, false
	}
	return m + float32(math.Log(s)), true
}

func softmaxRow32(logOut bool, x, o, scratch []float32) {
	if len(x) == 0 {
		return
	}
	m, e, s, ok := maxExpSum32(x, scratch)
	if !ok {
		softmaxRowDegenerate(logOut, x, o)
		return
	}
	if logOut {
		subVS32Kern(o, x, m+float32(math.Log(s)))
		return
	}
	inv := 1 / s
	for j, v := range e {
		o[j] = float32(float64(v) * inv)
	}
}

// maxExpSum32 returns a row's maximum m, its terms e = exp(x − m) (in the
// second half of scratch, 2·len(x) floats) and their float64 sum s; false
// for a row holding ±Inf or NaN.
func maxExpSum32(x, scratch []float32) (m float32, e []float32, s float64, ok bool) {
	// The row maximum, branch-free. With AVX2 a NaN may be skipped here;
	// it then makes the sum below NaN, and the row goes to the fallback.
	m0, m1, m2, m3 := x[0], x[0], x[0], x[0]
	j := 0
	if haveAVX2 && len(x) >= 8 {
		var lanes [8]float32
		maxLanes32(x, &lanes)
		m0 = max(lanes[0], lanes[1], lanes[2], lanes[3])
		m1 = max(lanes[4], lanes[5], lanes[6], lanes[7])
		m2, m3 = m0, m1
		j = len(x) &^ 7
	}
	for ; j+4 <= len(x); j += 4 {
		m0, m1, m2, m3 = max(m0, x[j]), max(m1, x[j+1]), max(m2, x[j+2]), max(m3, x[j+3])
	}
	for ; j < len(x); j++ {
		m0 = max(m0, x[j])
	}
	m = max(m0, m1, m2, m3)
	if math.IsInf(float64(m), 0) || m != m {
		return 0, nil, 0, false
	}
	// exp(x − m) with the slice kernel into the scratch space (o may alias
	// x, which the fallback and LogSoftmax still need).
	d, e := scratch[:len(x)], scratch[len(x):2*len(x)]
	subVS32Kern(d, x, m)
	expSlice32(e, d)
	var s0, s1, s2, s3 float64
	j = 0
	for ; j+4 <= len(e); j += 4 {
		s0 += float64(e[j])
		s1 += float64(e[j+1])
		s2 += float64(e[j+2])
		s3 += float64(e[j+3])
	}
	for ; j < len(e); j++ {
		s0 += float64(e[j])
	}
	s = s0 + s1 + s2 + s3
	if s != s { // a NaN the maximum skipped
		return 0, nil, 0, false
	}
	return m, e, s, true
}

// subVS32Kern sets o[i] = a[i] − s.
var subVS32Kern = arithKern32("Sub").vs

// softmaxRowDegenerate computes a row holding ±Inf or NaN in float64.
func softmaxRowDegenerate(logOut bool, x, o []float32) {
	buf := make([]float64, len(x))
	for j, v := range x {
		buf[j] = float64(v)
	}
	n := "Softmax"
	if logOut {
		n = "LogSoftmax"
	}
	softmaxRow64(n, buf)
	for j, v := range buf {
		o[j] = float32(v)
	}
}

func softmaxRow64(name string, v []float64) {
	if len(v) == 0 {
		return
	}
	m := math.Inf(-1)
	mi := 0
	for j, x := range v {
		if x > m || x != x {
			m, mi = x, j
			if x != x {
				break
			}
		}
	}
	if name == "Hardmax" {
		for j := range v {
			v[j] = 0
		}
		v[mi] = 1
		return
	}
	if math.IsInf(m, -1) {
		m = 0
	}
	s := 0.0
	for _, x := range v {
		s += math.Exp(x - m)
	}
	if name == "LogSoftmax" {
		l := m + math.Log(s)
		for j := range v {
			v[j] -= l
		}
		return
	}
	for j := range v {
		v[j] = math.Exp(v[j]-m) / s
	}
}
