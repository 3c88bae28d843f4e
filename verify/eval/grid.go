package eval

import (
	"fmt"
	"math"
)

func init() {
	register("grid", true, map[string]opFunc{
		"GridSample": opGridSample,
		"AffineGrid": opAffineGrid,
	})
}

// gridReflect folds x into [lo, hi] by reflecting at the borders.
func gridReflect(x, lo, hi float64) float64 {
	rng := hi - lo
	if rng <= 0 {
		return lo
	}
	if x < lo {
		dx := lo - x
		n := math.Floor(dx / rng)
		r := dx - n*rng
		if int64(n)%2 == 0 {
			return lo + r
		}
		return hi - r
	}
	if x > hi {
		dx := x - hi
		n := math.Floor(dx / rng)
		r := dx - n*rng
		if int64(n)%2 == 0 {
			return hi - r
		}
		return lo + r
	}
	return x
}

func cubicCoeffs(t float64) [4]float64 {
	const a = -0.75
	t = math.Abs(t)
	return [4]float64{
		((a*(t+1)-5*a)*(t+1)+8*a)*(t+1) - 4*a,
		((a+2)*t-(a+3))*t*t + 1,
		((a+2)*(1-t)-(a+3))*(1-t)*(1-t) + 1,
		((a*(2-t)-5*a)*(2-t)+8*a)*(2-t) - 4*a,
	}
}

// opGridSample samples X at the normalized grid locations (x first, as
// PyTorch's grid_sample) with nearest, (bi/tri)linear or bicubic
// interpolation and zeros, border or reflection padding.
func opGridSample(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 2); err != nil {
		return nil, err
	}
	x, grid := in[0], in[1]
	sp := x.Rank() - 2
	if sp < 1 || grid.Rank() != x.Rank() || grid.shape[0] != x.shape[0] || grid.shape[grid.Rank()-1] != int64(sp) {
		return nil, fmt.Errorf("X %v and grid %v do not agree (grid must be (N, ..., %d))", x.shape, grid.shape, sp)
	}
	mode := c.attrString("mode", "linear")
	switch mode {
	case "bilinear":
		mode = "linear"
	case "bicubic":
		mode = "cubic"
	case "linear", "nearest", "cubic":
	default:
		return nil, fmt.Errorf("unknown mode %q", mode)
	}
	pad := c.attrString("padding_mode", "zeros")
	if pad != "zeros" && pad != "border" && pad != "reflection" {
		return nil, fmt.Errorf("unknown padding_mode %q", pad)
	}
	align := c.attrInt("align_corners", 0) != 0
	dims := x.shape[2:]
	lo, hi := make([]float64, sp), make([]float64, sp)
	for i, d := range dims {
		lo[i], hi[i] = -0.5, float64(d)-0.5
		if align {
			lo[i], hi[i] = 0, float64(d)-1
		}
	}
	n, ch := x.shape[0], x.shape[1]
	outSp := grid.shape[1 : grid.Rank()-1]
	npts := int(NumElements(outSp))
	o := mustNew(x.dtype, append([]int64{n, ch}, outSp...))
	xv, gv := floatView(x), floatView(grid)
	isz := int(NumElements(dims))
	xs := stridesOf(dims)
	// pixel reads X at integer index idx under the padding rule.
	pixel := func(base int, idx []int64) float64 {
		off := int64(0)
		for d, i := range idx {
			switch pad {
			case "zeros":
				if i < 0 || i >= dims[d] {
					return 0
				}
			case "border":
				i = min(max(i, 0), dims[d]-1)
			default:
				i = int64(gridReflect(float64(i), lo[d], hi[d]))
				i = min(max(i, 0), dims[d]-1)
			}
			off += i * xs[d]
		}
		return xv[base+int(off)]
	}
	coord := make([]float64, sp)
	idx := make([]int64, sp)
	taps := 2
	if mode == "cubic" {
		taps = 4
	}
	tapShape := make([]int64, sp)
	for i := range tapShape {
		tapShape[i] = int64(taps)
	}
	w := make([][]float64, sp)
	first := make([]int64, sp)
	for b := 0; b < int(n); b++ {
		for p := 0; p < npts; p++ {
			g := gv[(b*npts+p)*sp:][:sp]
			for d := 0; d < sp; d++ {
				nv := g[sp-1-d] // grid lists the last axis first
				L := float64(dims[d])
				var v float64
				if align {
					v = (nv + 1) / 2 * (L - 1)
				} else {
					v = ((nv+1)*L - 1) / 2
				}
				v = float64(float32(v))
				if mode == "nearest" {
					v = math.RoundToEven(v)
				}
				if v < lo[d] || v > hi[d] {
					if pad == "border" {
						v = min(max(v, 0), L-1)
					} else if pad == "reflection" {
						v = gridReflect(v, lo[d], hi[d])
					}
				}
				coord[d] = v
			}
			for cc := 0; cc < int(ch); cc++ {
				base := (b*int(ch) + cc) * isz
				var r float64
				if mode == "nearest" {
					for d, v := range coord {
						idx[d] = int64(v)
					}
					r = pixel(base, idx)
				} else {
					if cc == 0 {
						for d, v := range coord {
							f := math.Floor(v)
							t := v - f
							if mode == "linear" {
								first[d] = int64(f)
								w[d] = []float64{1 - t, t}
							} else {
								first[d] = int64(f) - 1
								cf := cubicCoeffs(t)
								w[d] = cf[:]
							}
						}
					}
					odometer(tapShape, func(k []int64) {
						wt := 1.0
						for d := range k {
							wt *= w[d][k[d]]
							idx[d] = first[d] + k[d]
						}
						if wt != 0 {
							r += wt * pixel(base, idx)
						}
					})
				}
				o.setF64((b*int(ch)+cc)*npts+p, r)
			}
		}
	}
	return []*Tensor{o}, nil
}

// opAffineGrid maps the normalized output coordinates of every pixel
// through theta: (N, 2, 3) gives a 2-D grid (N, H, W, 2), (N, 3, 4) a 3-D
// grid (N, D, H, W, 3); coordinates are x first.
func opAffineGrid(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 2); err != nil {
		return nil, err
	}
	theta := in[0]
	size, err := shapeInput(in[1], "size")
	if err != nil {
		return nil, err
	}
	sp := len(size) - 2
	if (sp != 2 && sp != 3) || theta.Rank() != 3 || theta.shape[0] != size[0] || theta.shape[1] != int64(sp) || theta.shape[2] != int64(sp+1) {
		return nil, fmt.Errorf("theta %v and size %v do not agree (want (N, 2, 3) with 4 sizes or (N, 3, 4) with 5)", theta.shape, size)
	}
	align := c.attrInt("align_corners", 0) != 0
	spatial := size[2:]
	base := make([][]float64, sp) // per spatial dim (D, H, W order)
	for d, L := range spatial {
		base[d] = make([]float64, L)
		for i := range base[d] {
			switch {
			case align && L > 1:
				base[d][i] = -1 + 2*float64(i)/float64(L-1)
			case align:
				base[d][i] = 0
			default:
				base[d][i] = -1 + (2*float64(i)+1)/float64(L)
			}
		}
	}
	n := size[0]
	o := mustNew(theta.dtype, append(append([]int64{n}, spatial...), int64(sp)))
	tv := floatView(theta)
	pts := int(NumElements(spatial))
	vec := make([]float64, sp+1)
	for b := 0; b < int(n); b++ {
		th := tv[b*sp*(sp+1):][:sp*(sp+1)]
		p := 0
		odometer(spatial, func(ix []int64) {
			for d := 0; d < sp; d++ {
				vec[d] = base[sp-1-d][ix[sp-1-d]] // x from the last axis
			}
			vec[sp] = 1
			for r := 0; r < sp; r++ {
				s := 0.0
				for k := 0; k <= sp; k++ {
					s += th[r*(sp+1)+k] * vec[k]
				}
				o.setF64((b*pts+p)*sp+r, s)
			}
			p++
		})
	}
	return []*Tensor{o}, nil
}
