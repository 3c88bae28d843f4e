package eval

import "fmt"

func init() {
	register("spatial", true, map[string]opFunc{
		"DepthToSpace":  opDepthToSpace,
		"SpaceToDepth":  opSpaceToDepth,
		"Col2Im":        opCol2Im,
		"CenterCropPad": opCenterCropPad,
	})
}

// blockInput checks the one (N, C, H, W) input of DepthToSpace or
// SpaceToDepth and returns it with its blocksize, which must be positive.
func blockInput(c *opCtx, in []*Tensor) (*Tensor, int64, error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, 0, err
	}
	x := in[0]
	if x.Rank() != 4 {
		return nil, 0, fmt.Errorf("input must be (N, C, H, W), has shape %v", x.shape)
	}
	b := c.attrInt("blocksize", 0)
	if b <= 0 {
		return nil, 0, fmt.Errorf("blocksize %d must be positive", b)
	}
	return x, b, nil
}

func opDepthToSpace(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, b, err := blockInput(c, in)
	if err != nil {
		return nil, err
	}
	n, ch, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	if ch%(b*b) != 0 {
		return nil, fmt.Errorf("channels %d are not a multiple of blocksize² %d", ch, b*b)
	}
	var t *Tensor
	switch mode := c.attrString("mode", "DCR"); mode {
	case "DCR":
		t = transposeTensor(x.reshaped([]int64{n, b, b, ch / (b * b), h, w}), []int{0, 3, 4, 1, 5, 2})
	case "CRD":
		t = transposeTensor(x.reshaped([]int64{n, ch / (b * b), b, b, h, w}), []int{0, 1, 4, 2, 5, 3})
	default:
		return nil, fmt.Errorf("mode %q must be DCR or CRD", mode)
	}
	return []*Tensor{t.reshaped([]int64{n, ch / (b * b), h * b, w * b})}, nil
}

func opSpaceToDepth(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, b, err := blockInput(c, in)
	if err != nil {
		return nil, err
	}
	n, ch, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	if h%b != 0 || w%b != 0 {
		return nil, fmt.Errorf("spatial size %dx%d is not a multiple of blocksize %d", h, w, b)
	}
	t := transposeTensor(x.reshaped([]int64{n, ch, h / b, b, w / b, b}), []int{0, 3, 5, 1, 2, 4})
	return []*Tensor{t.reshaped([]int64{n, ch * b * b, h / b, w / b})}, nil
}

// opCol2Im sums the columns of an im2col matrix back into an image: the
// adjoint of unfolding, with pads, strides and dilations.
func opCol2Im(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 3, 3); err != nil {
		return nil, err
	}
	x := in[0]
	img, err := shapeInput(in[1], "image_shape")
	if err != nil {
		return nil, err
	}
	blk, err := shapeInput(in[2], "block_shape")
	if err != nil {
		return nil, err
	}
	sp := len(img)
	if len(blk) != sp || x.Rank() != 3 {
		return nil, fmt.Errorf("input %v, image_shape %v and block_shape %v do not agree", x.shape, img, blk)
	}
	get := func(name string, n int, def int64) ([]int64, error) {
		v, ok := c.attrInts(name)
		if !ok {
			v = make([]int64, n)
			for i := range v {
				v[i] = def
			}
		}
		if len(v) != n {
			return nil, fmt.Errorf("%s %v has %d entries, want %d", name, v, len(v), n)
		}
		return v, nil
	}
	dil, err := get("dilations", sp, 1)
	if err != nil {
		return nil, err
	}
	str, err := get("strides", sp, 1)
	if err != nil {
		return nil, err
	}
	pads, err := get("pads", 2*sp, 0)
	if err != nil {
		return nil, err
	}
	bsz := NumElements(blk)
	if bsz == 0 || x.shape[1]%bsz != 0 {
		return nil, fmt.Errorf("input dim 1 (%d) is not a multiple of the block size %d", x.shape[1], bsz)
	}
	ch := x.shape[1] / bsz
	nblk := make([]int64, sp)
	for d := 0; d < sp; d++ {
		if str[d] <= 0 || dil[d] <= 0 {
			return nil, fmt.Errorf("strides and dilations must be positive")
		}
		nblk[d] = (img[d]+pads[d]+pads[sp+d]-dil[d]*(blk[d]-1)-1)/str[d] + 1
	}
	if NumElements(nblk) != x.shape[2] {
		return nil, fmt.Errorf("input has %d blocks, image_shape and block_shape give %d", x.shape[2], NumElements(nblk))
	}
	n := x.shape[0]
	o := mustNew(x.dtype, append([]int64{n, ch}, img...))
	xv := floatView(x)
	acc := make([]float64, o.Len())
	istr := stridesOf(img)
	isz := NumElements(img)
	L := x.shape[2]
	for b := int64(0); b < n; b++ {
		for cc := int64(0); cc < ch; cc++ {
			ki := int64(0)
			odometer(blk, func(k []int64) {
				row := (b*x.shape[1] + cc*bsz + ki) * L
				li := int64(0)
				odometer(nblk, func(p []int64) {
					off, ok := int64(0), true
					for d := 0; d < sp; d++ {
						q := p[d]*str[d] - pads[d] + k[d]*dil[d]
						if q < 0 || q >= img[d] {
							ok = false
							break
						}
						off += q * istr[d]
					}
					if ok {
						acc[(b*ch+cc)*isz+off] += xv[row+li]
					}
					li++
				})
				ki++
			})
		}
	}
	for i, v := range acc {
		o.setF64(i, v)
	}
	return []*Tensor{o}, nil
}

// opCenterCropPad crops or zero-pads each listed axis to the target size,
// centred (the extra element of an odd difference goes to the end).
func opCenterCropPad(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 2); err != nil {
		return nil, err
	}
	x := in[0]
	target, err := shapeInput(in[1], "shape")
	if err != nil {
		return nil, err
	}
	r := x.Rank()
	axes := make([]int, 0, r)
	if a, ok := c.attrInts("axes"); ok {
		for _, v := range a {
			ax, err := normAxis(v, r)
			if err != nil {
				return nil, fmt.Errorf("axes: %w", err)
			}
			axes = append(axes, ax)
		}
	} else {
		for i := 0; i < r; i++ {
			axes = append(axes, i)
		}
	}
	if len(target) != len(axes) {
		return nil, fmt.Errorf("shape has %d entries for %d axes", len(target), len(axes))
	}
	out := append([]int64{}, x.shape...)
	start := make([]int64, r) // input index of output index 0 (negative: padding)
	for i, ax := range axes {
		if target[i] < 0 {
			return nil, fmt.Errorf("shape %v has a negative entry", target)
		}
		d := x.shape[ax]
		out[ax] = target[i]
		if target[i] < d {
			start[ax] = (d - target[i]) / 2
		} else {
			start[ax] = -((target[i] - d) / 2)
		}
	}
	o := mustNew(x.dtype, out)
	es := x.dtype.Size()
	ob, xb := o.bytes(), x.bytes()
	xs := stridesOf(x.shape)
	oi := 0
	odometer(out, func(p []int64) {
		off := int64(0)
		for d := 0; d < r; d++ {
			q := p[d] + start[d]
			if q < 0 || q >= x.shape[d] {
				oi++
				return
			}
			off += q * xs[d]
		}
		copy(ob[oi*es:(oi+1)*es], xb[off*int64(es):])
		oi++
	})
	return []*Tensor{o}, nil
}

func init() {
	register("spatial", true, map[string]opFunc{"MaxUnpool": opMaxUnpool})
}

// opMaxUnpool scatters X to the flat positions MaxPool's indices name,
// zeros elsewhere.
func opMaxUnpool(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 3); err != nil {
		return nil, err
	}
	x, idx := in[0], in[1]
	if !shapeEq(x.shape, idx.shape) || x.Rank() < 3 {
		return nil, fmt.Errorf("X %v and I %v must have the same (N, C, ...) shape", x.shape, idx.shape)
	}
	kernel, ok := c.attrInts("kernel_shape")
	sp := x.Rank() - 2
	if !ok || len(kernel) != sp {
		return nil, fmt.Errorf("kernel_shape %v does not match input %v", kernel, x.shape)
	}
	strides, ok := c.attrInts("strides")
	if !ok {
		strides = make([]int64, sp)
		for i := range strides {
			strides[i] = 1
		}
	}
	pads, ok := c.attrInts("pads")
	if !ok {
		pads = make([]int64, 2*sp)
	}
	if len(strides) != sp || len(pads) != 2*sp {
		return nil, fmt.Errorf("strides %v or pads %v do not match %d spatial dims", strides, pads, sp)
	}
	// The indices address the input MaxPool saw, of the inferred shape; an
	// explicit output_shape places that at its start, zeros after.
	out := []int64{x.shape[0], x.shape[1]}
	for d := 0; d < sp; d++ {
		out = append(out, (x.shape[2+d]-1)*strides[d]+kernel[d]-pads[d]-pads[sp+d])
	}
	var final []int64
	if len(in) > 2 && in[2] != nil {
		var err error
		if final, err = shapeInput(in[2], "output_shape"); err != nil {
			return nil, err
		}
		if len(final) != x.Rank() {
			return nil, fmt.Errorf("output_shape %v does not match rank %d", final, x.Rank())
		}
		for d := range final {
			if final[d] < out[d] {
				return nil, fmt.Errorf("output_shape %v is smaller than the unpooled shape %v", final, out)
			}
		}
	}
	o := mustNew(x.dtype, out)
	total := int64(o.Len())
	es := x.dtype.Size()
	ob, xb := o.bytes(), x.bytes()
	for i := 0; i < x.Len(); i++ {
		p := idx.i64At(i)
		if p < 0 || p >= total {
			return nil, fmt.Errorf("index %d out of range for output %v", p, out)
		}
		copy(ob[p*int64(es):(p+1)*int64(es)], xb[i*es:(i+1)*es])
	}
	if final == nil || shapeEq(final, out) {
		return []*Tensor{o}, nil
	}
	f := mustNew(x.dtype, final)
	str := stridesOf(final)
	fb := f.bytes()
	i := 0
	odometer(out, func(p []int64) {
		off := int64(0)
		for d, v := range p {
			off += v * str[d]
		}
		copy(fb[off*int64(es):(off+1)*int64(es)], ob[i*es:(i+1)*es])
		i++
	})
	return []*Tensor{f}, nil
}
