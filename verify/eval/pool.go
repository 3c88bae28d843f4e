package eval

import (
	"sync"
	"unsafe"
)

// Buffer reuse. Intermediate tensors of large graphs are big (a 65536×1000
// float32 value is 262 MB), and allocating a fresh zeroed one per node costs
// as much as the node's arithmetic. Ops that overwrite every element of their
// output get it from opCtx.alloc, which hands out the buffer of a value that
// has died earlier in the run, or one kept by the session from its previous
// run, of the same type and length.
//
// A buffer is recycled only when the run allocated it itself (never a feed,
// an initializer or a Constant's value), no live value holds it (bufLive),
// and no live value overlaps its memory (a view an op may have sliced out of
// it). Values returned to the caller stay live, so they are never recycled.

type poolKey struct {
	dt DType
	n  int
}

// bufPool is a free list of tensor buffers by type and length.
type bufPool map[poolKey][]any

func (p bufPool) take(dt DType, n int) (any, bool) {
	k := poolKey{dt, n}
	l := p[k]
	if len(l) == 0 {
		return nil, false
	}
	d := l[len(l)-1]
	l[len(l)-1] = nil
	p[k] = l[:len(l)-1]
	return d, true
}

func (p bufPool) put(dt DType, n int, d any) {
	k := poolKey{dt, n}
	p[k] = append(p[k], d)
}

// sessionPool keeps the buffers a run freed for the next run of the session.
type sessionPool struct {
	mu   sync.Mutex
	free bufPool
}

// minPooled is the smallest buffer (in bytes) worth recycling.
const minPooled = 64 << 10

// get hands the whole kept pool to a starting run (empty if another run has it).
func (sp *sessionPool) get() bufPool {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	p := sp.free
	sp.free = nil
	if p == nil {
		p = bufPool{}
	}
	return p
}

// keep stores the buffers a finished run freed (fresh holds their keys).
// Buffers that were in the pool at the start and not used are dropped, so
// sizes the session no longer sees do not pile up.
func (sp *sessionPool) keep(p bufPool, fresh map[unsafe.Pointer]bool) {
	kept := bufPool{}
	for k, l := range p {
		for _, d := range l {
			t := &Tensor{dtype: k.dt, shape: []int64{int64(k.n)}, data: d}
			if fresh[bufKey(t)] {
				kept[k] = append(kept[k], d)
			}
		}
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.free == nil {
		sp.free = kept
	}
}

// alloc returns an uninitialized (possibly recycled) tensor of type dt and
// shape for an op that writes every element of it.
func (c *opCtx) alloc(dt DType, shape []int64) *Tensor {
	if c == nil || c.run == nil {
		return mustNew(dt, shape)
	}
	return c.run.alloc(dt, shape)
}

func (rs *runState) alloc(dt DType, shape []int64) *Tensor {
	size, err := SizeOf(dt, shape)
	if err != nil || size < minPooled || rs.free == nil {
		return mustNew(dt, shape) // panics with the error, if any
	}
	n := NumElements(shape)
	var t *Tensor
	if d, ok := rs.free.take(dt, int(n)); ok {
		t = &Tensor{dtype: dt, shape: append([]int64{}, shape...), data: d}
	} else {
		t = mustNew(dt, shape)
	}
	rs.owned[bufKey(t)] = t
	return t
}

// recycle returns the buffer at key to the free list if the run owns it and
// nothing live holds or overlaps it.
func (rs *runState) recycle(key unsafe.Pointer) {
	t, ok := rs.owned[key]
	if !ok || rs.bufLive[key] > 0 || rs.protected(key) {
		return
	}
	lo := uintptr(key)
	hi := lo + uintptr(len(t.bytes()))
	// Initializers and Constant values are allocated when the session is
	// prepared, never inside a run's buffer: only the live node outputs and
	// feeds can overlap it.
	for _, k := range rs.live {
		b := rs.vals[k].bytes()
		if len(b) == 0 {
			continue
		}
		vlo := uintptr(unsafe.Pointer(&b[0]))
		if vlo < hi && lo < vlo+uintptr(len(b)) {
			return
		}
	}
	delete(rs.owned, key)
	rs.free.put(t.dtype, t.Len(), t.data)
	rs.fresh[key] = true
}
