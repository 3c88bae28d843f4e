package eval

import (
	"fmt"
	"math"
	"runtime"
)

func init() {
	fns := map[string]opFunc{}
	for _, name := range []string{"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
		"ReduceLogSumExp", "ReduceLogSum", "ReduceSumSquare", "ReduceL1", "ReduceL2"} {
		fns[name] = reduceOp(name)
	}
	fns["ArgMax"] = argOp(true)
	fns["ArgMin"] = argOp(false)
	register("reduce", true, fns)
}

// reducePlan returns the output shape and the (outer, r, inner) view of the
// input after (if needed) moving the reduced axes last.
type reducePlan struct {
	out             []int64 // output shape (keepdims applied)
	outer, r, inner int
	needTranspose   bool
	perm            []int
}

func planReduce(shape []int64, axes []int64, keep bool) (reducePlan, error) {
	rank := len(shape)
	red := make([]bool, rank)
	if len(axes) == 0 {
		for i := range red {
			red[i] = true
		}
	}
	for _, a := range axes {
		k, err := normAxis(a, rank)
		if err != nil {
			return reducePlan{}, err
		}
		red[k] = true
	}
	var p reducePlan
	for i, d := range shape {
		if red[i] {
			if keep {
				p.out = append(p.out, 1)
			}
		} else {
			p.out = append(p.out, d)
		}
	}
	if p.out == nil {
		p.out = []int64{}
	}
	// Groups of consecutive dims (ignoring size-1 dims): reduce-kept pattern.
	type grp struct {
		red bool
		n   int64
	}
	var gs []grp
	for i, d := range shape {
		if d == 1 {
			continue
		}
		if k := len(gs); k > 0 && gs[k-1].red == red[i] {
			gs[k-1].n *= d
			continue
		}
		gs = append(gs, grp{red[i], d})
	}
	p.outer, p.r, p.inner = 1, 1, 1
	switch {
	case len(gs) == 0:
	case len(gs) == 1 && gs[0].red:
		p.r = int(gs[0].n)
	case len(gs) == 1:
		p.outer = int(gs[0].n)
	case len(gs) == 2 && gs[0].red:
		p.r, p.inner = int(gs[0].n), int(gs[1].n)
	case len(gs) == 2:
		p.outer, p.r = int(gs[0].n), int(gs[1].n)
	case len(gs) == 3 && gs[1].red:
		p.outer, p.r, p.inner = int(gs[0].n), int(gs[1].n), int(gs[2].n)
	default:
		p.needTranspose = true
		for i := range shape {
			if !red[i] {
				p.perm = append(p.perm, i)
				p.outer *= int(shape[i])
			}
		}
		for i := range shape {
			if red[i] {
				p.perm = append(p.perm, i)
				p.r *= int(shape[i])
			}
		}
	}
	if NumElements(shape) == 0 {
		// Sizes from the shape directly (zero dims were not dropped above).
		p.outer, p.r, p.inner = int(NumElements(p.out)), 0, 1
		if !keep {
			p.outer = int(NumElements(p.out))
		}
		rr := int64(1)
		for i, d := range shape {
			if red[i] {
				rr *= d
			}
		}
		p.r = int(rr)
		p.needTranspose = false
	}
	return p, nil
}

func reduceAxes(c *opCtx, in []*Tensor, name string) ([]int64, bool, error) {
	since := int64(18)
	if name == "ReduceSum" {
		since = 13
	}
	axes, ok, err := axesArg(c, in, since, 1)
	if err != nil {
		return nil, false, err
	}
	noop := c.opset >= since && c.attrInt("noop_with_empty_axes", 0) != 0
	return axes, noop && (!ok || len(axes) == 0), nil
}

func reduceOp(name string) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		if len(in) < 1 || in[0] == nil {
			return nil, fmt.Errorf("input is missing")
		}
		x := in[0]
		axes, noop, err := reduceAxes(c, in, name)
		if err != nil {
			return nil, err
		}
		if noop {
			switch name {
			case "ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp":
				// these still apply their elementwise part
				axes = nil
				o, err := reduceTensor(name, x, nil, true, true)
				return []*Tensor{o}, err
			}
			return []*Tensor{x}, nil
		}
		o, err := reduceTensor(name, x, axes, c.attrInt("keepdims", 1) != 0, false)
		if err != nil {
			return nil, err
		}
		return []*Tensor{o}, nil
	}
}

func reduceTensor(name string, x *Tensor, axes []int64, keep, elementwiseOnly bool) (*Tensor, error) {
	var p reducePlan
	if elementwiseOnly {
		p = reducePlan{out: x.shape, outer: x.Len(), r: 1, inner: 1}
	} else {
		var err error
		if p, err = planReduce(x.shape, axes, keep); err != nil {
			return nil, err
		}
	}
	if p.needTranspose {
		x = transposeTensor(x, p.perm)
	}
	o := mustNew(x.dtype, p.out)
	if xf, ok := x.data.([]float32); ok && (name == "ReduceSum" || name == "ReduceMean") {
		reduceSum32(xf, o.data.([]float32), p, name == "ReduceMean")
		return o, nil
	}
	if !x.dtype.isFloat() {
		switch name {
		case "ReduceSum", "ReduceProd", "ReduceMax", "ReduceMin", "ReduceSumSquare", "ReduceL1":
			reduceInt(name, x, o, p)
			return o, nil
		}
	}
	reduceF64(name, x, o, p)
	return o, nil
}

// reduceSum32 sums float32 data over (outer, r, inner) with float64 accumulation.
func reduceSum32(x, o []float32, p reducePlan, mean bool) {
	scale := 1.0
	if mean {
		scale = 1 / float64(p.r)
	}
	if p.inner == 1 {
		if p.outer < 4*runtime.GOMAXPROCS(0) && p.r >= 4*sumBlock {
			// Few long rows (a loss summed over every element): the rows
			// are cut into blocks summed on every core, then the blocks'
			// sums are added in order, so the result does not depend on
			// the number of cores.
			nb := (p.r + sumBlock - 1) / sumBlock
			parts := make([]float64, p.outer*nb)
			parallelFor(len(parts), sumBlock, func(lo, hi int) {
				for q := lo; q < hi; q++ {
					i, b := q/nb, q%nb
					row := x[i*p.r : (i+1)*p.r]
					parts[q] = sumF32(row[b*sumBlock : min((b+1)*sumBlock, p.r)])
				}
			})
			for i := 0; i < p.outer; i++ {
				s := 0.0
				for _, v := range parts[i*nb : (i+1)*nb] {
					s += v
				}
				o[i] = float32(s * scale)
			}
			return
		}
		parallelFor(p.outer, p.r, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				o[i] = float32(sumF32(x[i*p.r:(i+1)*p.r]) * scale)
			}
		})
		return
	}
	parallelFor(p.outer, p.r*p.inner, func(lo, hi int) {
		acc := make([]float64, p.inner)
		for i := lo; i < hi; i++ {
			for k := range acc {
				acc[k] = 0
			}
			base := i * p.r * p.inner
			for j := 0; j < p.r; j++ {
				row := x[base+j*p.inner : base+(j+1)*p.inner]
				for k, v := range row {
					acc[k] += float64(v)
				}
			}
			for k, v := range acc {
				o[i*p.inner+k] = float32(v * scale)
			}
		}
	})
}

// sumBlock is the length of the blocks a long row is summed in.
const sumBlock = 1 << 16

// sumF32 returns Σ row in float64: the AVX-512 loop when the CPU has it,
// else four float64 accumulators.
func sumF32(row []float32) float64 {
	if haveAVX512 {
		return sumF32x512(row)
	}
	return sumF32Chains(row)
}

// sumF32Chains returns Σ row in float64 over four chains of adds (one
// would wait on each add's latency): the portable loop, and the one short
// rows take, where the vector loop's set-up costs more than it saves.
func sumF32Chains(row []float32) float64 {
	var s0, s1, s2, s3 float64
	j := 0
	for ; j+4 <= len(row); j += 4 {
		s0 += float64(row[j])
		s1 += float64(row[j+1])
		s2 += float64(row[j+2])
		s3 += float64(row[j+3])
	}
	for ; j < len(row); j++ {
		s0 += float64(row[j])
	}
	return s0 + s1 + s2 + s3
}

func reduceF64(name string, x, o *Tensor, p reducePlan) {
	xd := x.AsFloat64()
	parallelFor(p.outer, p.r*p.inner, func(lo, hi int) {
		vals := make([]float64, p.r)
		for i := lo; i < hi; i++ {
			for k := 0; k < p.inner; k++ {
				base := i*p.r*p.inner + k
				for j := range vals {
					vals[j] = xd[base+j*p.inner]
				}
				o.setF64(i*p.inner+k, reduceVals(name, vals))
			}
		}
	})
}

func reduceVals(name string, v []float64) float64 {
	switch name {
	case "ReduceSum", "ReduceMean":
		s := 0.0
		for _, x := range v {
			s += x
		}
		if name == "ReduceMean" {
			return s / float64(len(v))
		}
		return s
	case "ReduceSumSquare", "ReduceL2":
		s := 0.0
		for _, x := range v {
			s += x * x
		}
		if name == "ReduceL2" {
			return math.Sqrt(s)
		}
		return s
	case "ReduceL1":
		s := 0.0
		for _, x := range v {
			s += math.Abs(x)
		}
		return s
	case "ReduceLogSum":
		s := 0.0
		for _, x := range v {
			s += x
		}
		return math.Log(s)
	case "ReduceProd":
		s := 1.0
		for _, x := range v {
			s *= x
		}
		return s
	case "ReduceMax":
		m := math.Inf(-1)
		for _, x := range v {
			if x > m || x != x {
				m = x
			}
		}
		return m
	case "ReduceMin":
		m := math.Inf(1)
		for _, x := range v {
			if x < m || x != x {
				m = x
			}
		}
		return m
	case "ReduceLogSumExp":
		m := math.Inf(-1)
		for _, x := range v {
			if x > m {
				m = x
			}
		}
		if math.IsInf(m, 0) {
			s := 0.0
			for _, x := range v {
				s += math.Exp(x)
			}
			return math.Log(s)
		}
		s := 0.0
		for _, x := range v {
			s += math.Exp(x - m)
		}
		return m + math.Log(s)
	}
	return math.NaN()
}

func reduceInt(name string, x, o *Tensor, p reducePlan) {
	xd := x.int64s()
	for i := 0; i < p.outer; i++ {
		for k := 0; k < p.inner; k++ {
			base := i*p.r*p.inner + k
			var acc int64
			switch name {
			case "ReduceProd":
				acc = 1
			case "ReduceMax":
				acc = math.MinInt64
			case "ReduceMin":
				acc = math.MaxInt64
			}
			for j := 0; j < p.r; j++ {
				v := xd[base+j*p.inner]
				switch name {
				case "ReduceSum":
					acc += v
				case "ReduceSumSquare":
					acc += v * v
				case "ReduceL1":
					if v < 0 {
						v = -v
					}
					acc += v
				case "ReduceProd":
					acc *= v
				case "ReduceMax":
					acc = max(acc, v)
				case "ReduceMin":
					acc = min(acc, v)
				}
			}
			o.setI64(i*p.inner+k, acc)
		}
	}
}

func argOp(isMax bool) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		if err := needInputs(in, 1, 1); err != nil {
			return nil, err
		}
		x := in[0]
		axis, err := normAxis(c.attrInt("axis", 0), max(x.Rank(), 1))
		if err != nil {
			return nil, err
		}
		if x.Rank() == 0 {
			return nil, fmt.Errorf("input must have rank >= 1")
		}
		last := c.attrInt("select_last_index", 0) != 0
		keep := c.attrInt("keepdims", 1) != 0
		var out []int64
		for i, d := range x.shape {
			if i == axis {
				if keep {
					out = append(out, 1)
				}
			} else {
				out = append(out, d)
			}
		}
		if out == nil {
			out = []int64{}
		}
		outer := int(NumElements(x.shape[:axis]))
		r := int(x.shape[axis])
		inner := int(NumElements(x.shape[axis+1:]))
		if r == 0 && NumElements(out) > 0 {
			return nil, fmt.Errorf("cannot take %s over an empty axis", map[bool]string{true: "ArgMax", false: "ArgMin"}[isMax])
		}
		o := mustNew(Int64, out)
		od := o.data.([]int64)
		xd := x.AsFloat64()
		for i := 0; i < outer; i++ {
			for k := 0; k < inner; k++ {
				best, bi := 0.0, 0
				for j := 0; j < r; j++ {
					v := xd[(i*r+j)*inner+k]
					better := j == 0
					if !better {
						if isMax {
							better = v > best || (last && v == best)
						} else {
							better = v < best || (last && v == best)
						}
					}
					if better {
						best, bi = v, j
					}
				}
				od[i*inner+k] = int64(bi)
			}
		}
		return []*Tensor{o}, nil
	}
}
