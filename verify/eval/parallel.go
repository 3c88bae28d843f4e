package eval

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// minChunk is the smallest number of elements worth handing to a goroutine.
const minChunk = 64 * 1024

// chunksPerWorker is how many pieces each worker's share is cut into. The
// pieces are handed out dynamically, so a worker slowed down (by another
// process on the machine, say) does not leave the others waiting at the end.
const chunksPerWorker = 8

// parallelFor splits [0, n) into contiguous chunks and calls fn on each,
// concurrently when the total work (n*cost elements) is large enough. The
// calling goroutine is one of the workers.
func parallelFor(n int, cost int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if cost < 1 {
		cost = 1
	}
	workers := runtime.GOMAXPROCS(0)
	total := n * cost
	if maxW := total / minChunk; maxW < workers {
		workers = maxW
	}
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		fn(0, n)
		return
	}
	chunks := workers * chunksPerWorker
	if maxC := total / minChunk; maxC < chunks {
		chunks = maxC
	}
	chunk := (n + chunks - 1) / chunks
	chunks = (n + chunk - 1) / chunk
	// The caller waits for the chunks to be done, not for the goroutines
	// to run: on a busy machine a helper may be scheduled only after the
	// caller has done all the work itself, and then finds nothing to do.
	var next, remaining, inflight atomic.Int64
	remaining.Store(int64(chunks))
	finished := make(chan struct{})
	var perr atomic.Value
	var once sync.Once
	work := func() {
		defer func() {
			if r := recover(); r != nil {
				inflight.Add(-1)
				perr.Store(r)
				next.Store(int64(n)) // stop handing out chunks
				once.Do(func() { close(finished) })
			}
		}()
		for {
			lo := int(next.Add(int64(chunk))) - chunk
			if lo >= n {
				return
			}
			inflight.Add(1)
			fn(lo, min(lo+chunk, n))
			inflight.Add(-1)
			if remaining.Add(-1) == 0 {
				once.Do(func() { close(finished) })
			}
		}
	}
	for w := 1; w < workers; w++ {
		go work()
	}
	work()
	<-finished
	if r := perr.Load(); r != nil {
		// Let chunks still running elsewhere finish before the caller
		// unwinds (they stop claiming new ones).
		for inflight.Load() > 0 {
			runtime.Gosched()
		}
		panic(r)
	}
}
