package eval

import (
	"fmt"
	"sort"
)

func init() {
	register("nms", false, map[string]opFunc{
		"NonMaxSuppression": opNonMaxSuppression,
	})
}

// box corners (ymin, xmin, ymax, xmax) of box i, in float32 as runtimes
// compute them.
func boxCorners(b []float32, centre bool) (y0, x0, y1, x1 float32) {
	if centre {
		xc, yc, w, h := b[0], b[1], b[2], b[3]
		return yc - h/2, xc - w/2, yc + h/2, xc + w/2
	}
	return min(b[0], b[2]), min(b[1], b[3]), max(b[0], b[2]), max(b[1], b[3])
}

// suppresses reports whether two boxes overlap by more than the threshold.
func suppresses(a, b []float32, centre bool, thr float32) bool {
	ay0, ax0, ay1, ax1 := boxCorners(a, centre)
	by0, bx0, by1, bx1 := boxCorners(b, centre)
	iw := min(ax1, bx1) - max(ax0, bx0)
	ih := min(ay1, by1) - max(ay0, by0)
	if iw <= 0 || ih <= 0 {
		return false
	}
	inter := iw * ih
	areaA := (ax1 - ax0) * (ay1 - ay0)
	areaB := (bx1 - bx0) * (by1 - by0)
	union := areaA + areaB - inter
	if areaA <= 0 || areaB <= 0 || union <= 0 {
		return false
	}
	return inter/union > thr
}

// opNonMaxSuppression greedily keeps, per batch and class, the
// highest-scoring boxes (ties to the lower index) above score_threshold
// that overlap no kept box by more than iou_threshold.
func opNonMaxSuppression(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 5); err != nil {
		return nil, err
	}
	boxes, scores := in[0], in[1]
	if boxes.dtype != Float32 || scores.dtype != Float32 {
		return nil, fmt.Errorf("boxes and scores must be float32")
	}
	if boxes.Rank() != 3 || boxes.shape[2] != 4 || scores.Rank() != 3 || scores.shape[0] != boxes.shape[0] || scores.shape[2] != boxes.shape[1] {
		return nil, fmt.Errorf("boxes %v and scores %v must be (B, N, 4) and (B, C, N)", boxes.shape, scores.shape)
	}
	opt := func(i int) *Tensor {
		if i < len(in) && in[i] != nil && in[i].Len() > 0 {
			return in[i]
		}
		return nil
	}
	maxOut := int64(0)
	if t := opt(2); t != nil {
		maxOut = t.i64At(0)
	}
	iouThr := float32(0)
	if t := opt(3); t != nil {
		iouThr = float32(t.f64At(0))
	}
	scoreThr, hasScore := float32(0), false
	if t := opt(4); t != nil {
		scoreThr, hasScore = float32(t.f64At(0)), true
	}
	centre := c.attrInt("center_point_box", 0) != 0
	nb, nc, n := int(scores.shape[0]), int(scores.shape[1]), int(boxes.shape[1])
	bv, sv := boxes.Float32s(), scores.Float32s()
	var sel []int64
	for b := 0; b < nb; b++ {
		for cl := 0; cl < nc; cl++ {
			if maxOut <= 0 {
				continue
			}
			sc := sv[(b*nc+cl)*n : (b*nc+cl+1)*n]
			var cand []int
			for i, s := range sc {
				if !hasScore || s > scoreThr {
					cand = append(cand, i)
				}
			}
			sort.SliceStable(cand, func(i, j int) bool { return sc[cand[i]] > sc[cand[j]] })
			var kept []int
			for _, i := range cand {
				if int64(len(kept)) >= maxOut {
					break
				}
				ok := true
				for _, k := range kept {
					if suppresses(bv[(b*n+i)*4:][:4], bv[(b*n+k)*4:][:4], centre, iouThr) {
						ok = false
						break
					}
				}
				if ok {
					kept = append(kept, i)
					sel = append(sel, int64(b), int64(cl), int64(i))
				}
			}
		}
	}
	return []*Tensor{NewInt64([]int64{int64(len(sel) / 3), 3}, sel)}, nil
}
