package eval

import (
	"sync"
	"unsafe"
)

// packKey identifies a packed weight operand: where its data starts and how
// it is read.
type packKey struct {
	p      unsafe.Pointer
	m, k   int
	rs, cs int
	isA    bool
}

// packCache keeps weights packed for the GEMM across runs: packing a
// 512×4608 convolution kernel costs as much as multiplying it by a 2×2
// feature map, so packing it once per session matters for small inputs.
type packCache struct {
	mu sync.Mutex
	m  map[packKey]*packed
	// derived holds other per-session forms of weights (derivedWeight).
	derived map[any]any
}

// packedWeight returns v (an m×k A operand, or k×m... see isA) packed once
// for the session when t is one of the session's initializers (constant
// across runs); nil otherwise.
func (c *opCtx) packedWeight(t *Tensor, v matView, rows, cols int, isA bool) *packed {
	if c == nil || c.sess == nil || !c.sess.isInit[bufKey(t)] || len(v.data) == 0 {
		return nil
	}
	key := packKey{unsafe.Pointer(unsafe.SliceData(v.data)), rows, cols, v.rs, v.cs, isA}
	pc := &c.sess.packs
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if p := pc.m[key]; p != nil {
		return p
	}
	var p *packed
	if isA {
		p = packWholeA(kern, v, rows, cols, nil)
	} else {
		p = packWholeB(kern, v, rows, cols, nil)
	}
	if pc.m == nil {
		pc.m = map[packKey]*packed{}
	}
	pc.m[key] = p
	return p
}

// derivedWeight returns build()'s value for a weight t, computed once per
// session under key when t is an initializer, and on every call otherwise.
func (c *opCtx) derivedWeight(t *Tensor, key any, build func() any) any {
	if c == nil || c.sess == nil || !c.sess.isInit[bufKey(t)] {
		return build()
	}
	return c.sessionDerived(key, build)
}

// sessionDerived returns build()'s value under key, computed once per
// session: key must fix the value (derivedWeight's initializer buffers, or
// a node and the lengths its taps depend on). c.sess must be set.
func (c *opCtx) sessionDerived(key any, build func() any) any {
	pc := &c.sess.packs
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if v, ok := pc.derived[key]; ok {
		return v
	}
	v := build()
	if pc.derived == nil {
		pc.derived = map[any]any{}
	}
	pc.derived[key] = v
	return v
}
