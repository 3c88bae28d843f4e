package eval

// The float32 Resize of image models. A segmentation head upsamples
// [N, C, h, w] feature maps by their last two axes (bilinear, or nearest);
// the general path (resample) converts the tensor to float64, writes a
// float64 tensor per axis and stores each element through a type switch.
// This path reads float32 directly and writes the output row by row: each
// worker resamples the input rows an output row needs along the width once
// per plane (float64 rows kept for the plane's next output rows), then
// combines them along the height into the float32 output row. It uses the
// general path's own taps (taps1D) and the same float64 sums in the same
// order (width first, then height, each starting from 0), so its values are
// the general path's bit for bit.

// resizeFast enables resample2D32; tests turn it off to compare with the
// general path.
var resizeFast = true

// flatTaps are the taps of every output index along one axis, packed:
// output index j uses idx[start[j]:start[j+1]] with weights w[...].
type flatTaps struct {
	start []int
	idx   []int
	w     []float64
}

// flattenTaps packs taps1D's result; false if an output index takes the
// extrapolation value (tf_crop_and_resize outside the input).
func flattenTaps(ts [][]tap) (flatTaps, bool) {
	f := flatTaps{start: make([]int, len(ts)+1)}
	for j, row := range ts {
		for _, t := range row {
			if t.idx < 0 {
				return f, false
			}
			f.idx = append(f.idx, t.idx)
			f.w = append(f.w, t.w)
		}
		f.start[j+1] = len(f.idx)
	}
	return f, true
}

// resizeTapsKey identifies one axis's taps within a session: the node (its
// attributes fix the mode and coordinate transformation), the axis, its
// input and output lengths and its scale.
type resizeTapsKey struct {
	node      any
	axis      int
	inW, outW int64
	scale     float64
}

// axisTaps returns sp.taps1D(axis) flattened, built once per session and
// node for a given input length, output length and scale (the taps cost
// more to build than to apply to a small map); false as flattenTaps.
func axisTaps(c *opCtx, sp *resizeSpec, axis int) (flatTaps, bool) {
	build := func() any {
		f, ok := flattenTaps(sp.taps1D(axis))
		if !ok {
			return nil
		}
		return f
	}
	var v any
	if c == nil || c.sess == nil || c.node == nil || sp.coordMode == "tf_crop_and_resize" {
		v = build() // the roi is an input: not fixed by the key
	} else {
		v = c.sessionDerived(resizeTapsKey{c.node, axis, sp.inputShape[axis], sp.outSize[axis], sp.scales[axis]}, build)
	}
	f, ok := v.(flatTaps)
	return f, ok
}

// resample2D32 is resample for float32 tensors of rank 2 or more that only
// the last two axes change; false (nothing done) for anything else.
func resample2D32(c *opCtx, x *Tensor, sp *resizeSpec) (*Tensor, bool) {
	xd := x.Float32s()
	r := x.Rank()
	if !resizeFast || xd == nil || r < 2 {
		return nil, false
	}
	for ax := 0; ax < r-2; ax++ {
		if sp.active[ax] {
			return nil, false
		}
	}
	hAx, wAx := r-2, r-1
	inH, inW := int(x.shape[hAx]), int(x.shape[wAx])
	outH, outW := int(sp.outSize[hAx]), int(sp.outSize[wAx])
	if !sp.active[hAx] {
		outH = inH
	}
	if !sp.active[wAx] {
		outW = inW
	}
	var hT, wT flatTaps
	ok := true
	if sp.active[hAx] {
		hT, ok = axisTaps(c, sp, hAx)
	}
	if ok && sp.active[wAx] {
		wT, ok = axisTaps(c, sp, wAx)
	}
	if !ok {
		return nil, false
	}
	shape := append([]int64{}, x.shape...)
	shape[hAx], shape[wAx] = int64(outH), int64(outW)
	o := c.alloc(Float32, shape)
	od := o.Float32s()
	planes := int(NumElements(x.shape[:hAx]))
	if len(od) == 0 {
		return o, true
	}
	hActive, wActive := sp.active[hAx], sp.active[wAx]
	perRow := outW * 2
	if hActive {
		perRow *= max(1, len(hT.idx)/max(outH, 1))
	}
	parallelFor(planes*outH, perRow, func(lo, hi int) {
		// The width-resampled input rows of the current plane, computed
		// when an output row first needs them.
		rows := make([][]float64, inH)
		have := make([]bool, inH)
		plane := -1
		wrow := func(p, h int) []float64 {
			if !have[h] {
				if rows[h] == nil {
					rows[h] = make([]float64, outW)
				}
				dst, src := rows[h], xd[(p*inH+h)*inW:][:inW]
				if wActive {
					for j := range dst {
						acc := 0.0
						for t := wT.start[j]; t < wT.start[j+1]; t++ {
							acc += wT.w[t] * float64(src[wT.idx[t]])
						}
						dst[j] = acc
					}
				} else {
					for j, v := range src {
						dst[j] = float64(v)
					}
				}
				have[h] = true
			}
			return rows[h]
		}
		for q := lo; q < hi; q++ {
			p, yo := q/outH, q%outH
			if p != plane {
				plane = p
				clear(have)
			}
			dst := od[q*outW : (q+1)*outW]
			if !hActive {
				for j, v := range wrow(p, yo) {
					dst[j] = float32(v)
				}
				continue
			}
			t0, t1 := hT.start[yo], hT.start[yo+1]
			if t1-t0 == 2 {
				// Linear: two rows.
				w0, w1 := hT.w[t0], hT.w[t0+1]
				r0, r1 := wrow(p, hT.idx[t0]), wrow(p, hT.idx[t0+1])
				r0, r1 = r0[:len(dst)], r1[:len(dst)]
				for j := range dst {
					acc := 0.0
					acc += w0 * r0[j]
					acc += w1 * r1[j]
					dst[j] = float32(acc)
				}
				continue
			}
			for j := range dst {
				acc := 0.0
				for t := t0; t < t1; t++ {
					acc += hT.w[t] * wrow(p, hT.idx[t])[j]
				}
				dst[j] = float32(acc)
			}
		}
	})
	return o, true
}
