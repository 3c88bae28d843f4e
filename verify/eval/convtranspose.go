package eval

import "fmt"

func init() {
	register("convtranspose", true, map[string]opFunc{
		"ConvTranspose": opConvTranspose,
	})
}

// convTransposeGeom resolves ConvTranspose's output size and pads, following
// the operator's spec: pads given → output size from them; output_shape or
// auto_pad SAME_* given → pads from the total padding they imply.
func convTransposeGeom(c *opCtx, in, kernel []int64) (out, pb, s, d []int64, err error) {
	n := len(in)
	if s, err = c.spatialInts("strides", n, 1); err != nil {
		return
	}
	if d, err = c.spatialInts("dilations", n, 1); err != nil {
		return
	}
	op, err := c.spatialInts("output_padding", n, 0)
	if err != nil {
		return
	}
	for i := 0; i < n; i++ {
		if s[i] <= 0 || d[i] <= 0 || kernel[i] <= 0 {
			return nil, nil, nil, nil, fmt.Errorf("kernel, strides and dilations must be positive")
		}
	}
	autoPad := c.attrString("auto_pad", "NOTSET")
	outShape, hasOut := c.attrInts("output_shape")
	if hasOut && len(outShape) > n {
		outShape = outShape[len(outShape)-n:] // (N, C, ...) form
	}
	if hasOut && len(outShape) != n {
		return nil, nil, nil, nil, fmt.Errorf("output_shape %v has %d entries for %d spatial dims", outShape, len(outShape), n)
	}
	full := func(i int) int64 { return s[i]*(in[i]-1) + op[i] + (kernel[i]-1)*d[i] + 1 }
	out, pb = make([]int64, n), make([]int64, n)
	switch {
	case hasOut || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER":
		for i := 0; i < n; i++ {
			if hasOut {
				out[i] = outShape[i]
			} else {
				out[i] = in[i] * s[i]
			}
			// Floor division, as the spec's reference: a negative total
			// (output_shape beyond the full size) pads at the end.
			total := full(i) - out[i]
			half := floorDiv(total, 2)
			if autoPad == "SAME_UPPER" {
				pb[i] = half
			} else {
				pb[i] = total - half
			}
		}
	case autoPad == "NOTSET" || autoPad == "" || autoPad == "VALID":
		pads, ok := c.attrInts("pads")
		if !ok || len(pads) == 0 || autoPad == "VALID" {
			pads = make([]int64, 2*n)
		}
		if len(pads) != 2*n {
			return nil, nil, nil, nil, fmt.Errorf("pads %v has %d entries for %d spatial dims", pads, len(pads), n)
		}
		for i := 0; i < n; i++ {
			pb[i] = pads[i]
			out[i] = full(i) - pads[i] - pads[n+i]
		}
	default:
		return nil, nil, nil, nil, fmt.Errorf("unknown auto_pad %q", autoPad)
	}
	for i := range out {
		if out[i] < 0 {
			return nil, nil, nil, nil, fmt.Errorf("output size %v is negative", out)
		}
	}
	return out, pb, s, d, nil
}

// opConvTranspose scatters every input element times its kernel into the
// output (the adjoint of Conv), accumulating in float64.
func opConvTranspose(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 3); err != nil {
		return nil, err
	}
	x, w := in[0], in[1]
	if x.Rank() < 3 || w.Rank() != x.Rank() {
		return nil, fmt.Errorf("X %v and W %v must be (N, C, ...) and (C, M/group, ...)", x.shape, w.shape)
	}
	group := c.attrInt("group", 1)
	nb, ch := x.shape[0], x.shape[1]
	if group <= 0 || w.shape[0] != ch || ch%group != 0 {
		return nil, fmt.Errorf("X %v, W %v and group %d do not agree", x.shape, w.shape, group)
	}
	mg := w.shape[1]
	m := mg * group
	cg := ch / group
	kernel := w.shape[2:]
	if ks, ok := c.attrInts("kernel_shape"); ok && !shapeEq(ks, kernel) {
		return nil, fmt.Errorf("kernel_shape %v does not match W %v", ks, w.shape)
	}
	out, pb, st, dl, err := convTransposeGeom(c, x.shape[2:], kernel)
	if err != nil {
		return nil, err
	}
	var bias []float64
	if len(in) > 2 && in[2] != nil {
		if in[2].Len() != int(m) {
			return nil, fmt.Errorf("B has shape %v, want [%d]", in[2].shape, m)
		}
		bias = in[2].AsFloat64()
	}
	sp := len(kernel)
	isz := int(NumElements(x.shape[2:]))
	osz := int(NumElements(out))
	ksz := int(NumElements(kernel))
	ostr := stridesOf(out)
	// For each (input position, tap) pair, the output offset or -1.
	target := make([]int32, isz*ksz)
	ii := 0
	odometer(x.shape[2:], func(ip []int64) {
		ti := 0
		odometer(kernel, func(k []int64) {
			off := int64(0)
			for dd := 0; dd < sp; dd++ {
				p := ip[dd]*st[dd] - pb[dd] + k[dd]*dl[dd]
				if p < 0 || p >= out[dd] {
					off = -1
					break
				}
				off += p * ostr[dd]
			}
			target[ii*ksz+ti] = int32(off)
			ti++
		})
		ii++
	})
	xd, wd := x.AsFloat64(), w.AsFloat64()
	res := make([]float64, int(nb*m)*osz)
	parallelFor(int(nb*m), int(cg)*isz*ksz, func(lo, hi int) {
		for q := lo; q < hi; q++ {
			ni, mi := int64(q)/m, int64(q)%m
			gi, mo := mi/mg, mi%mg
			acc := res[q*osz : (q+1)*osz]
			if bias != nil {
				for i := range acc {
					acc[i] = bias[mi]
				}
			}
			for cc := int64(0); cc < cg; cc++ {
				ci := gi*cg + cc
				xrow := xd[(ni*ch+ci)*int64(isz):][:isz]
				wrow := wd[(ci*mg+mo)*int64(ksz):][:ksz]
				for p, xv := range xrow {
					if xv == 0 {
						continue
					}
					tg := target[p*ksz : (p+1)*ksz]
					for t, off := range tg {
						if off >= 0 {
							acc[off] += xv * wrow[t]
						}
					}
				}
			}
		}
	})
	o := mustNew(x.dtype, append([]int64{nb, m}, out...))
	for i, v := range res {
		o.setF64(i, v)
	}
	return []*Tensor{o}, nil
}

// floorDiv is a/b rounded toward negative infinity (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
