// Package parallel runs independent pieces of work over the machine's cores.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// For calls fn(0), ..., fn(n-1), spread over up to GOMAXPROCS goroutines that take the next
// index as they finish one (pieces may differ in cost); on one core, or for one piece, it runs
// them in order on the calling goroutine.
func For(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}
