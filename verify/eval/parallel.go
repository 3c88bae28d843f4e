package eval

import (
	"runtime"
	"sync"
)

// minChunk is the smallest number of elements worth handing to a goroutine.
const minChunk = 64 * 1024

// parallelFor splits [0, n) into contiguous chunks and calls fn on each,
// concurrently when the total work (n*cost elements) is large enough.
func parallelFor(n int, cost int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if cost < 1 {
		cost = 1
	}
	workers := runtime.NumCPU()
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
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	var perr any
	var mu sync.Mutex
	for lo := 0; lo < n; lo += chunk {
		hi := lo + chunk
		if hi > n {
			hi = n
		}
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					mu.Lock()
					perr = r
					mu.Unlock()
				}
			}()
			fn(lo, hi)
		}(lo, hi)
	}
	wg.Wait()
	if perr != nil {
		panic(perr)
	}
}
