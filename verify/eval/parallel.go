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
	var next atomic.Int64
	var perr atomic.Value
	work := func() {
		defer func() {
			if r := recover(); r != nil {
				perr.Store(r)
				next.Store(int64(n)) // stop handing out chunks
			}
		}()
		for {
			lo := int(next.Add(int64(chunk))) - chunk
			if lo >= n {
				return
			}
			fn(lo, min(lo+chunk, n))
		}
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
	if r := perr.Load(); r != nil {
		panic(r)
	}
}
