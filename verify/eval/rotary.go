package eval

import "fmt"

func init() {
	register("rotary", true, map[string]opFunc{
		"RotaryEmbedding": opRotaryEmbedding,
	})
}

// opRotaryEmbedding rotates pairs of the first rotary_embedding_dim
// features of every head by the cached angles of its position: pairs are
// (i, i + d/2), or adjacent (2i, 2i+1) when interleaved.
func opRotaryEmbedding(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 3, 4); err != nil {
		return nil, err
	}
	x, cosT, sinT := in[0], in[1], in[2]
	var pos *Tensor
	if len(in) > 3 && in[3] != nil {
		pos = in[3]
	}
	var B, H, S, D int
	threeD := false
	switch x.Rank() {
	case 4:
		B, H, S, D = int(x.shape[0]), int(x.shape[1]), int(x.shape[2]), int(x.shape[3])
	case 3:
		heads := int(c.attrInt("num_heads", 0))
		if heads <= 0 || x.shape[2]%int64(heads) != 0 {
			return nil, fmt.Errorf("3-D input %v needs num_heads dividing its hidden size", x.shape)
		}
		B, S, H, D = int(x.shape[0]), int(x.shape[1]), heads, int(x.shape[2])/heads
		threeD = true
	default:
		return nil, fmt.Errorf("input must be 3-D or 4-D, has shape %v", x.shape)
	}
	rd := int(c.attrInt("rotary_embedding_dim", 0))
	if rd == 0 {
		rd = D
	}
	if rd%2 != 0 || rd > D {
		return nil, fmt.Errorf("rotary_embedding_dim %d must be even and at most the head size %d", rd, D)
	}
	half := rd / 2
	if cosT.shape[cosT.Rank()-1] != int64(half) || !shapeEq(cosT.shape, sinT.shape) {
		return nil, fmt.Errorf("cos_cache %v and sin_cache %v must end in %d", cosT.shape, sinT.shape, half)
	}
	cv, sv := floatView(cosT), floatView(sinT)
	// row returns the cache row offset for batch b, position s.
	var row func(b, s int) (int, error)
	if pos != nil {
		if pos.Rank() != 2 || pos.shape[0] != int64(B) || pos.shape[1] != int64(S) || cosT.Rank() != 2 {
			return nil, fmt.Errorf("position_ids %v must be (%d, %d) with 2-D caches, caches are %v", pos.shape, B, S, cosT.shape)
		}
		row = func(b, s int) (int, error) {
			p := pos.i64At(b*S + s)
			if p < 0 || p >= cosT.shape[0] {
				return 0, fmt.Errorf("position id %d out of range for a cache of %d positions", p, cosT.shape[0])
			}
			return int(p) * half, nil
		}
	} else {
		if cosT.Rank() != 3 || cosT.shape[0] != int64(B) || cosT.shape[1] != int64(S) {
			return nil, fmt.Errorf("without position_ids the caches must be (%d, %d, %d), are %v", B, S, half, cosT.shape)
		}
		row = func(b, s int) (int, error) { return (b*S + s) * half, nil }
	}
	interleaved := c.attrInt("interleaved", 0) != 0
	xv := floatView(x)
	o := mustNew(x.dtype, x.shape)
	at := func(b, h, s, d int) int {
		if threeD {
			return ((b*S+s)*H+h)*D + d
		}
		return ((b*H+h)*S+s)*D + d
	}
	for b := 0; b < B; b++ {
		for s := 0; s < S; s++ {
			r, err := row(b, s)
			if err != nil {
				return nil, err
			}
			for h := 0; h < H; h++ {
				for i := 0; i < half; i++ {
					i1, i2 := i, i+half
					if interleaved {
						i1, i2 = 2*i, 2*i+1
					}
					p1, p2 := at(b, h, s, i1), at(b, h, s, i2)
					x1, x2 := xv[p1], xv[p2]
					co, si := cv[r+i], sv[r+i]
					o.setF64(p1, co*x1-si*x2)
					o.setF64(p2, si*x1+co*x2)
				}
				for d := rd; d < D; d++ {
					p := at(b, h, s, d)
					o.setF64(p, xv[p])
				}
			}
		}
	}
	return []*Tensor{o}, nil
}
