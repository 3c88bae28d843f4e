package eval

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

func init() {
	register("resize", true, map[string]opFunc{
		"Resize":   opResize,
		"Upsample": opUpsample,
	})
}

// resizeSpec is everything Resize needs to map output to input coordinates.
type resizeSpec struct {
	mode       string // nearest, linear, cubic
	coordMode  string
	nearest    string
	cubicA     float64
	exclude    bool
	extrap     float64
	antialias  bool
	scales     []float64 // per axis of X
	outSize    []int64   // per axis of X
	roi        []float64 // 2*rank (start..., end...), nil if none
	active     []bool    // axes to resample
	inputShape []int64
}

// tap is one input index and its weight; idx -1 stands for the
// extrapolation value (tf_crop_and_resize outside the input).
type tap struct {
	idx int
	w   float64
}

func opUpsample(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 2); err != nil {
		return nil, err
	}
	x := in[0]
	var sc []float64
	if len(in) > 1 && in[1] != nil {
		sc = in[1].AsFloat64()
	} else if s, ok := c.attrFloats("scales"); ok {
		for _, v := range s {
			sc = append(sc, float64(v))
		}
	}
	if len(sc) != x.Rank() {
		return nil, fmt.Errorf("scales has %d entries for input of rank %d", len(sc), x.Rank())
	}
	mode := c.attrString("mode", "nearest")
	if mode == "bilinear" {
		mode = "linear"
	}
	sp := &resizeSpec{mode: mode, coordMode: "asymmetric", nearest: "floor", cubicA: -0.75, inputShape: x.shape}
	if err := sp.fromScales(sc, nil); err != nil {
		return nil, err
	}
	o, err := resample(c, x, sp)
	return []*Tensor{o}, err
}

func opResize(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 4); err != nil {
		return nil, err
	}
	x := in[0]
	r := x.Rank()
	sp := &resizeSpec{
		mode:       c.attrString("mode", "nearest"),
		coordMode:  c.attrString("coordinate_transformation_mode", "half_pixel"),
		nearest:    c.attrString("nearest_mode", "round_prefer_floor"),
		cubicA:     float64(c.attrFloat("cubic_coeff_a", -0.75)),
		exclude:    c.attrInt("exclude_outside", 0) != 0,
		extrap:     float64(c.attrFloat("extrapolation_value", 0)),
		antialias:  c.attrInt("antialias", 0) != 0,
		inputShape: x.shape,
	}
	if c.opset < 11 {
		// Resize-10 is Upsample's successor: asymmetric coordinates, and
		// nearest picks floor (what PyTorch's nearest upsampling computes).
		sp.coordMode, sp.nearest = "asymmetric", "floor"
	}
	switch sp.mode {
	case "nearest", "linear", "cubic":
	default:
		return nil, fmt.Errorf("unknown mode %q (want nearest, linear or cubic)", sp.mode)
	}
	switch sp.coordMode {
	case "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize", "tf_half_pixel_for_nn":
	default:
		return nil, fmt.Errorf("unknown coordinate_transformation_mode %q", sp.coordMode)
	}
	switch sp.nearest {
	case "round_prefer_floor", "round_prefer_ceil", "floor", "ceil":
	default:
		return nil, fmt.Errorf("unknown nearest_mode %q", sp.nearest)
	}
	if sp.antialias && sp.mode == "nearest" {
		return nil, fmt.Errorf("antialias is not defined for mode nearest")
	}
	// Axes the scales / sizes / roi refer to.
	axes := make([]int, 0, r)
	if a, ok := c.attrInts("axes"); ok && len(a) > 0 {
		seen := map[int]bool{}
		for _, v := range a {
			ax, err := normAxis(v, r)
			if err != nil {
				return nil, fmt.Errorf("axes: %w", err)
			}
			if seen[ax] {
				return nil, fmt.Errorf("axes %v repeats axis %d", a, ax)
			}
			seen[ax] = true
			axes = append(axes, ax)
		}
	} else {
		for i := 0; i < r; i++ {
			axes = append(axes, i)
		}
	}
	var scalesT, sizesT, roiT *Tensor
	if c.opset < 11 {
		if len(in) < 2 || in[1] == nil {
			return nil, fmt.Errorf("scales input is missing")
		}
		scalesT = in[1]
	} else {
		if len(in) > 1 && in[1] != nil && in[1].Len() > 0 {
			roiT = in[1]
		}
		if len(in) > 2 && in[2] != nil && in[2].Len() > 0 {
			scalesT = in[2]
		}
		if len(in) > 3 && in[3] != nil && in[3].Len() > 0 {
			sizesT = in[3]
		}
	}
	if (scalesT == nil) == (sizesT == nil) {
		return nil, fmt.Errorf("exactly one of scales and sizes must be given (non-empty)")
	}
	if roiT != nil && sp.coordMode == "tf_crop_and_resize" {
		rv := roiT.AsFloat64()
		if len(rv) != 2*len(axes) {
			return nil, fmt.Errorf("roi has %d values, want %d (start and end per axis)", len(rv), 2*len(axes))
		}
		sp.roi = make([]float64, 2*r)
		for i := 0; i < r; i++ {
			sp.roi[r+i] = 1
		}
		for i, ax := range axes {
			sp.roi[ax] = rv[i]
			sp.roi[r+ax] = rv[len(axes)+i]
		}
	} else if sp.coordMode == "tf_crop_and_resize" {
		return nil, fmt.Errorf("coordinate_transformation_mode tf_crop_and_resize needs the roi input")
	}
	if scalesT != nil {
		sv := scalesT.AsFloat64()
		if len(sv) != len(axes) {
			return nil, fmt.Errorf("scales has %d entries for %d axes", len(sv), len(axes))
		}
		full := make([]float64, r)
		for i := range full {
			full[i] = 1
		}
		for i, ax := range axes {
			full[ax] = sv[i]
		}
		if err := sp.fromScales(full, axes); err != nil {
			return nil, err
		}
	} else {
		if !sizesT.dtype.isFloat() && sizesT.dtype != Int64 && sizesT.dtype != Int32 {
			return nil, fmt.Errorf("sizes must be int64, is %v", sizesT.dtype)
		}
		zv := sizesT.int64s()
		if len(zv) != len(axes) {
			return nil, fmt.Errorf("sizes has %d entries for %d axes", len(zv), len(axes))
		}
		if err := sp.fromSizes(zv, axes, c.attrString("keep_aspect_ratio_policy", "stretch")); err != nil {
			return nil, err
		}
	}
	o, err := resample(c, x, sp)
	return []*Tensor{o}, err
}

func (sp *resizeSpec) fromScales(full []float64, axes []int) error {
	r := len(sp.inputShape)
	sp.scales, sp.outSize, sp.active = full, make([]int64, r), make([]bool, r)
	for i, s := range full {
		if !(s > 0) || math.IsInf(s, 0) {
			return fmt.Errorf("scale %g for axis %d must be positive and finite", s, i)
		}
		sp.outSize[i] = int64(s * float64(sp.inputShape[i]))
	}
	sp.markActive(axes)
	return nil
}

func (sp *resizeSpec) fromSizes(zv []int64, axes []int, policy string) error {
	r := len(sp.inputShape)
	sp.scales, sp.outSize, sp.active = make([]float64, r), append([]int64{}, sp.inputShape...), make([]bool, r)
	for i := range sp.scales {
		sp.scales[i] = 1
	}
	for i, ax := range axes {
		if zv[i] < 0 {
			return fmt.Errorf("sizes %v has a negative entry", zv)
		}
		if sp.inputShape[ax] == 0 {
			return fmt.Errorf("cannot resize axis %d of length 0", ax)
		}
		sp.outSize[ax] = zv[i]
		sp.scales[ax] = float64(zv[i]) / float64(sp.inputShape[ax])
	}
	switch policy {
	case "stretch":
	case "not_larger", "not_smaller":
		s := sp.scales[axes[0]]
		for _, ax := range axes[1:] {
			if policy == "not_larger" {
				s = min(s, sp.scales[ax])
			} else {
				s = max(s, sp.scales[ax])
			}
		}
		for _, ax := range axes {
			sp.scales[ax] = s
			sp.outSize[ax] = int64(s*float64(sp.inputShape[ax]) + 0.5)
		}
	default:
		return fmt.Errorf("unknown keep_aspect_ratio_policy %q (want stretch, not_larger or not_smaller)", policy)
	}
	sp.markActive(axes)
	return nil
}

// markActive selects the axes that need resampling: those listed (all when
// axes is nil) whose size or coordinates change. A scale of 1 with an equal
// output size maps every output index to itself in every mode except
// tf_crop_and_resize, whose roi can still crop.
func (sp *resizeSpec) markActive(axes []int) {
	listed := make([]bool, len(sp.inputShape))
	if axes == nil {
		for i := range listed {
			listed[i] = true
		}
	}
	for _, ax := range axes {
		listed[ax] = true
	}
	for i := range sp.active {
		identity := sp.scales[i] == 1 && sp.outSize[i] == sp.inputShape[i] && sp.coordMode != "tf_crop_and_resize"
		sp.active[i] = listed[i] && !identity
	}
}

// taps1D returns, for every output index along one axis, the input taps
// and weights, following the ONNX reference implementation: the n
// neighbours nearest the mapped coordinate (ties to the smaller index) in
// the edge-padded input, weights from the mode's kernel.
func (sp *resizeSpec) taps1D(axis int) [][]tap {
	inW := int(sp.inputShape[axis])
	outInt := int(sp.outSize[axis])
	scale := sp.scales[axis]
	outW := scale * float64(inW)
	res := make([][]tap, outInt)
	for xo := 0; xo < outInt; xo++ {
		x := float64(xo)
		var xi float64
		switch sp.coordMode {
		case "align_corners":
			if outW == 1 {
				xi = 0
			} else {
				xi = x * float64(inW-1) / (outW - 1)
			}
		case "asymmetric":
			xi = x / scale
		case "tf_half_pixel_for_nn":
			xi = (x + 0.5) / scale
		case "tf_crop_and_resize":
			r := len(sp.inputShape)
			st, en := sp.roi[axis], sp.roi[r+axis]
			if outW == 1 {
				xi = (en - st) * float64(inW-1) / 2
			} else {
				xi = x * (en - st) * float64(inW-1) / (outW - 1)
			}
			xi += st * float64(inW-1)
			if xi < 0 || xi > float64(inW-1) {
				res[xo] = []tap{{idx: -1, w: 1}}
				continue
			}
		case "pytorch_half_pixel":
			if outW == 1 {
				xi = -0.5
			} else {
				xi = (x+0.5)/scale - 0.5
			}
		case "half_pixel":
			xi = (x+0.5)/scale - 0.5
		case "half_pixel_symmetric":
			adj := float64(outInt) / outW
			center := float64(inW) / 2
			xi = center*(1-adj) + (x+0.5)/scale - 0.5
		}
		fl := math.Floor(xi)
		ratio := xi - fl
		if xi == fl {
			ratio = 1
		}
		coeffs := sp.coeffs(ratio, scale)
		idx := nearestIndexes(xi, len(coeffs), inW)
		if sp.exclude {
			sum := 0.0
			for i, id := range idx {
				if id < 0 || id >= inW {
					coeffs[i] = 0
				}
				sum += coeffs[i]
			}
			for i := range coeffs {
				coeffs[i] /= sum
			}
		}
		ts := make([]tap, 0, len(coeffs))
		for i, id := range idx {
			if coeffs[i] == 0 {
				continue
			}
			ts = append(ts, tap{idx: min(max(id, 0), inW-1), w: coeffs[i]})
		}
		res[xo] = ts
	}
	return res
}

// coeffs returns the kernel weights for the neighbours of a coordinate
// whose fractional offset from the left neighbour is ratio (in (0, 1]).
func (sp *resizeSpec) coeffs(ratio, scale float64) []float64 {
	switch sp.mode {
	case "nearest":
		if ratio == math.Trunc(ratio) {
			return []float64{0, 1}
		}
		left := false
		switch sp.nearest {
		case "round_prefer_floor":
			left = ratio <= 0.5
		case "round_prefer_ceil":
			left = ratio < 0.5
		case "floor":
			left = true
		}
		if left {
			return []float64{1, 0}
		}
		return []float64{0, 1}
	case "linear":
		if !sp.antialias {
			return []float64{1 - ratio, ratio}
		}
		s := min(scale, 1)
		start := int(math.Floor(-1/s) + 1)
		foot := 2 - 2*start
		c := make([]float64, foot)
		sum := 0.0
		for i := range c {
			a := (float64(start+i) - ratio) * s
			c[i] = min(max(1-math.Abs(a), 0), 1)
			sum += c[i]
		}
		for i := range c {
			c[i] /= sum
		}
		return c
	}
	A := sp.cubicA
	if !sp.antialias {
		r1, q := ratio+1, 1-ratio
		return []float64{
			((A*r1-5*A)*r1+8*A)*r1 - 4*A,
			((A+2)*ratio-(A+3))*ratio*ratio + 1,
			((A+2)*q-(A+3))*q*q + 1,
			((A*(q+1)-5*A)*(q+1)+8*A)*(q+1) - 4*A,
		}
	}
	s := min(scale, 1)
	kern := func(x float64) float64 {
		x = math.Abs(x)
		x2 := x * x
		x3 := x * x2
		if x <= 1 {
			return (A+2)*x3 - (A+3)*x2 + 1
		}
		if x < 2 {
			return A*x3 - 5*A*x2 + 8*A*x - 4*A
		}
		return 0
	}
	iStart := int(math.Floor(-2/s) + 1)
	iEnd := 2 - iStart
	c := make([]float64, 0, iEnd-iStart)
	sum := 0.0
	for i := iStart; i < iEnd; i++ {
		v := kern(s * (float64(i) - ratio))
		c = append(c, v)
		sum += v
	}
	for i := range c {
		c[i] /= sum
	}
	return c
}

// nearestIndexes returns the n integers nearest x (ties to the smaller)
// among [-pad, width-1+pad] with pad = ceil(n/2), ascending: the reference
// implementation's neighbours in the edge-padded input.
func nearestIndexes(x float64, n, width int) []int {
	pad := (n + 1) / 2
	lo, hi := -pad, width-1+pad
	center := int(math.Floor(x))
	center = min(max(center, lo), hi)
	var cand []int
	for i := max(center-n-1, lo); i <= min(center+n+1, hi); i++ {
		cand = append(cand, i)
	}
	sort.SliceStable(cand, func(a, b int) bool {
		da, db := math.Abs(x-float64(cand[a])), math.Abs(x-float64(cand[b]))
		if da != db {
			return da < db
		}
		return cand[a] < cand[b]
	})
	if len(cand) > n {
		cand = cand[:n]
	}
	slices.Sort(cand)
	return cand
}

// resample applies the 1-D resampling of every active axis, last axis
// first: the same order as the reference's nested 1-D interpolation, so
// extrapolated values combine identically. Values are float64 throughout.
func resample(c *opCtx, x *Tensor, sp *resizeSpec) (*Tensor, error) {
	for i, n := range sp.outSize {
		if n < 0 || (n > 0 && sp.inputShape[i] == 0) {
			return nil, fmt.Errorf("cannot resize axis %d from %d to %d", i, sp.inputShape[i], n)
		}
	}
	if o, ok := resample2D32(c, x, sp); ok {
		return o, nil // resize32.go
	}
	shape := append([]int64{}, x.shape...)
	cur := x.AsFloat64()
	for ax := len(shape) - 1; ax >= 0; ax-- {
		if !sp.active[ax] {
			continue
		}
		taps := sp.taps1D(ax)
		outer := int(NumElements(shape[:ax]))
		inner := int(NumElements(shape[ax+1:]))
		inW, outW := int(shape[ax]), int(sp.outSize[ax])
		next := make([]float64, outer*outW*inner)
		parallelFor(outer, outW*inner*4, func(lo, hi int) {
			for o := lo; o < hi; o++ {
				src := cur[o*inW*inner : (o+1)*inW*inner]
				dst := next[o*outW*inner : (o+1)*outW*inner]
				for j, ts := range taps {
					row := dst[j*inner : (j+1)*inner]
					if len(ts) == 1 && ts[0].idx < 0 {
						for k := range row {
							row[k] = sp.extrap
						}
						continue
					}
					for _, t := range ts {
						s := src[t.idx*inner : (t.idx+1)*inner]
						for k := range row {
							row[k] += t.w * s[k]
						}
					}
				}
			}
		})
		cur = next
		shape[ax] = int64(outW)
	}
	o := c.alloc(x.dtype, shape)
	for i, v := range cur {
		o.setF64(i, v)
	}
	return o, nil
}
