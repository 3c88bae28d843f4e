package eval

import (
	"fmt"
	"math"
)

func init() {
	register("attention", true, map[string]opFunc{
		"Attention": opAttention,
	})
}

// heads4 is a (B, H, S, D) view of a 3-D (B, S, H*D) or 4-D input.
type heads4 struct {
	v          []float64
	b, h, s, d int
	threeD     bool
}

func (t heads4) at(b, h, s, d int) float64 {
	if t.threeD {
		return t.v[((b*t.s+s)*t.h+h)*t.d+d]
	}
	return t.v[((b*t.h+h)*t.s+s)*t.d+d]
}

func asHeads(t *Tensor, heads int64, what string) (heads4, error) {
	switch t.Rank() {
	case 4:
		sh := t.shape
		return heads4{v: floatView(t), b: int(sh[0]), h: int(sh[1]), s: int(sh[2]), d: int(sh[3])}, nil
	case 3:
		if heads <= 0 || t.shape[2]%heads != 0 {
			return heads4{}, fmt.Errorf("%s %v: hidden size not divisible by %d heads (set q_num_heads / kv_num_heads)", what, t.shape, heads)
		}
		return heads4{v: floatView(t), b: int(t.shape[0]), h: int(heads), s: int(t.shape[1]), d: int(t.shape[2] / heads), threeD: true}, nil
	}
	return heads4{}, fmt.Errorf("%s must be 3-D or 4-D, has shape %v", what, t.shape)
}

// opAttention is scaled dot-product attention as ONNX's Attention-23/24
// defines it: optional KV cache (past/present), grouped-query heads,
// additive or boolean masks, causal masking offset by the cache length,
// softcap before the mask, and the qk_matmul_output tap (0 raw, 1 after
// softcap, 2 after the mask, 3 after softmax). Float64 throughout.
func opAttention(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 3, 7); err != nil {
		return nil, err
	}
	get := func(i int) *Tensor {
		if i < len(in) {
			return in[i]
		}
		return nil
	}
	qT, kT, vT := in[0], in[1], in[2]
	if qT.Rank() != kT.Rank() || qT.Rank() != vT.Rank() {
		return nil, fmt.Errorf("Q %v, K %v and V %v must have the same rank", qT.shape, kT.shape, vT.shape)
	}
	qHeads, kvHeads := c.attrInt("q_num_heads", 0), c.attrInt("kv_num_heads", 0)
	Q, err := asHeads(qT, qHeads, "Q")
	if err != nil {
		return nil, err
	}
	K, err := asHeads(kT, kvHeads, "K")
	if err != nil {
		return nil, err
	}
	V, err := asHeads(vT, kvHeads, "V")
	if err != nil {
		return nil, err
	}
	B, Hq, Sq, D := Q.b, Q.h, Q.s, Q.d
	Hkv, Dv := K.h, V.d
	if K.b != B || V.b != B || K.d != D || V.h != Hkv || V.s != K.s {
		return nil, fmt.Errorf("Q %v, K %v and V %v do not agree", qT.shape, kT.shape, vT.shape)
	}
	if Hq%Hkv != 0 {
		return nil, fmt.Errorf("%d query heads are not a multiple of %d key/value heads", Hq, Hkv)
	}
	// KV cache: present = concat(past, new) along the sequence.
	past := 0
	pk, pv := get(4), get(5)
	if (pk == nil) != (pv == nil) {
		return nil, fmt.Errorf("past_key and past_value must be given together")
	}
	if pk != nil {
		if pk.Rank() != 4 || pv.Rank() != 4 || pk.shape[0] != int64(B) || pk.shape[1] != int64(Hkv) || pk.shape[3] != int64(D) ||
			pv.shape[0] != int64(B) || pv.shape[1] != int64(Hkv) || pv.shape[3] != int64(Dv) || pv.shape[2] != pk.shape[2] {
			return nil, fmt.Errorf("past_key %v / past_value %v do not fit K %v, V %v", pk.shape, pv.shape, kT.shape, vT.shape)
		}
		past = int(pk.shape[2])
	}
	T := past + K.s
	var pkv, pvv []float64
	if pk != nil {
		pkv, pvv = floatView(pk), floatView(pv)
	}
	// present concatenates the cached past steps (nil without a cache) and
	// cur along the sequence, giving (B, Hkv, T, dim).
	present := func(cached []float64, cur heads4, dim int) []float64 {
		out := make([]float64, B*Hkv*T*dim)
		for b := 0; b < B; b++ {
			for h := 0; h < Hkv; h++ {
				for t := 0; t < T; t++ {
					for d := 0; d < dim; d++ {
						var x float64
						if t < past {
							x = cached[((b*Hkv+h)*past+t)*dim+d]
						} else {
							x = cur.at(b, h, t-past, d)
						}
						out[((b*Hkv+h)*T+t)*dim+d] = x
					}
				}
			}
		}
		return out
	}
	presK, presV := present(pkv, K, D), present(pvv, V, Dv)
	// Additive bias over (B, Hq, Sq, T).
	bias := make([]float64, B*Hq*Sq*T)
	if m := get(3); m != nil {
		if m.Rank() < 2 || m.Rank() > 4 {
			return nil, fmt.Errorf("attn_mask must be 2-D to 4-D, has shape %v", m.shape)
		}
		mlast := int(m.shape[m.Rank()-1])
		if mlast > T {
			return nil, fmt.Errorf("attn_mask %v is longer than the %d keys", m.shape, T)
		}
		ms := append(make([]int64, 4-m.Rank()), m.shape...)
		for i := 0; i < 4-m.Rank(); i++ {
			ms[i] = 1
		}
		want := []int64{int64(B), int64(Hq), int64(Sq)}
		for i := 0; i < 3; i++ {
			if ms[i] != 1 && ms[i] != want[i] {
				return nil, fmt.Errorf("attn_mask %v does not broadcast to (%d, %d, %d, %d)", m.shape, B, Hq, Sq, T)
			}
		}
		isBool := m.dtype == Bool
		mv := m.AsFloat64()
		ix := func(b, h, s, t int) int {
			if ms[0] == 1 {
				b = 0
			}
			if ms[1] == 1 {
				h = 0
			}
			if ms[2] == 1 {
				s = 0
			}
			return ((b*int(ms[1])+h)*int(ms[2])+s)*mlast + t
		}
		for b := 0; b < B; b++ {
			for h := 0; h < Hq; h++ {
				for s := 0; s < Sq; s++ {
					for t := 0; t < T; t++ {
						var x float64
						switch {
						case t >= mlast: // padded to the key length
							x = math.Inf(-1)
						case isBool:
							if mv[ix(b, h, s, t)] == 0 {
								x = math.Inf(-1)
							}
						default:
							x = mv[ix(b, h, s, t)]
						}
						bias[((b*Hq+h)*Sq+s)*T+t] = x
					}
				}
			}
		}
	}
	var nonpad []int64
	if np := get(6); np != nil {
		if np.Len() != B {
			return nil, fmt.Errorf("nonpad_kv_seqlen has shape %v, want [%d]", np.shape, B)
		}
		nonpad = np.int64s()
	}
	if c.attrInt("is_causal", 0) != 0 {
		for b := 0; b < B; b++ {
			off := past
			if pk == nil && nonpad != nil {
				off = int(nonpad[b]) - Sq
			}
			for h := 0; h < Hq; h++ {
				for s := 0; s < Sq; s++ {
					for t := 0; t < T; t++ {
						if t > s+off {
							bias[((b*Hq+h)*Sq+s)*T+t] += math.Inf(-1)
						}
					}
				}
			}
		}
	}
	if nonpad != nil {
		for b := 0; b < B; b++ {
			for i := b * Hq * Sq * T; i < (b+1)*Hq*Sq*T; i++ {
				if int64(i%T) >= nonpad[b] {
					bias[i] += math.Inf(-1)
				}
			}
		}
	}
	scale := 1 / math.Sqrt(float64(D))
	if c.hasAttr("scale") {
		scale = float64(c.attrFloat("scale", 0))
	}
	softcap := float64(c.attrFloat("softcap", 0))
	mode := c.attrInt("qk_matmul_output_mode", 0)
	rep := Hq / Hkv
	tap := make([]float64, B*Hq*Sq*T)
	y := make([]float64, B*Hq*Sq*Dv)
	row := make([]float64, T)
	for b := 0; b < B; b++ {
		for h := 0; h < Hq; h++ {
			kh := h / rep
			for s := 0; s < Sq; s++ {
				base := ((b*Hq+h)*Sq + s) * T
				for t := 0; t < T; t++ {
					acc := 0.0
					kr := presK[((b*Hkv+kh)*T+t)*D:]
					for d := 0; d < D; d++ {
						acc += Q.at(b, h, s, d) * kr[d]
					}
					acc *= scale
					if mode == 0 {
						tap[base+t] = acc
					}
					if softcap > 0 {
						acc = softcap * math.Tanh(acc/softcap)
					}
					if mode == 1 {
						tap[base+t] = acc
					}
					acc += bias[base+t]
					if mode == 2 {
						tap[base+t] = acc
					}
					row[t] = acc
				}
				mx := math.Inf(-1)
				for _, v := range row {
					mx = math.Max(mx, v)
				}
				sum := 0.0
				for t, v := range row {
					row[t] = math.Exp(v - mx)
					sum += row[t]
				}
				for t := range row {
					row[t] /= sum
					if mode == 3 {
						tap[base+t] = row[t]
					}
				}
				for d := 0; d < Dv; d++ {
					acc := 0.0
					for t, p := range row {
						acc += p * presV[((b*Hkv+kh)*T+t)*Dv+d]
					}
					if Q.threeD {
						y[((b*Sq+s)*Hq+h)*Dv+d] = acc
					} else {
						y[((b*Hq+h)*Sq+s)*Dv+d] = acc
					}
				}
			}
		}
	}
	yShape := []int64{int64(B), int64(Hq), int64(Sq), int64(Dv)}
	if Q.threeD {
		yShape = []int64{int64(B), int64(Sq), int64(Hq * Dv)}
	}
	dt := qT.dtype
	mk := func(shape []int64, v []float64) *Tensor {
		t := mustNew(dt, shape)
		for i, x := range v {
			t.setF64(i, x)
		}
		return t
	}
	out := []*Tensor{mk(yShape, y), nil, nil, nil}
	if c.nOut > 1 && c.want[1] {
		out[1] = mk([]int64{int64(B), int64(Hkv), int64(T), int64(D)}, presK)
	}
	if c.nOut > 2 && c.want[2] {
		out[2] = mk([]int64{int64(B), int64(Hkv), int64(T), int64(Dv)}, presV)
	}
	if c.nOut > 3 && c.want[3] {
		out[3] = mk([]int64{int64(B), int64(Hq), int64(Sq), int64(T)}, tap)
	}
	return out, nil
}
