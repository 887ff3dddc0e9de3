package fanout

import (
	"sync"
	"sync/atomic"
)

// Lists recycles the snapshots of Run. The zero value is ready to use.
type Lists[T any] struct{ pool sync.Pool }

func (l *Lists[T]) get() *[]T {
	if p, ok := l.pool.Get().(*[]T); ok {
		return p
	}
	return new([]T)
}

// put clears *p (no receiver stays referenced from the pool) and keeps it.
func (l *Lists[T]) put(p *[]T) {
	clear(*p)
	*p = (*p)[:0]
	l.pool.Put(p)
}

// Run snapshots each of n groups with collect, which appends group i's
// receivers to dst and returns it, and calls send with each non-empty
// snapshot (which it may reorder or overwrite, not keep): the last group's on
// the caller's goroutine, the others on a goroutine each. It returns, once
// all are done, the sum of what the sends returned.
func Run[T any](lists *Lists[T], n int, collect func(i int, dst []T) []T, send func([]T) int) int {
	var run struct { // one allocation for what the goroutines share
		wg    sync.WaitGroup
		total atomic.Int64
	}
	for i := range n {
		p := lists.get()
		*p = collect(i, *p)
		switch {
		case i == n-1:
			sendAll(lists, p, send, &run.total)
		case len(*p) == 0:
			lists.put(p)
		default:
			run.wg.Add(1)
			go func() { defer run.wg.Done(); sendAll(lists, p, send, &run.total) }()
		}
	}
	run.wg.Wait()
	return int(run.total.Load())
}

// sendAll sends to the receivers of one snapshot, gives it back and adds
// what send returned to total.
func sendAll[T any](lists *Lists[T], p *[]T, send func([]T) int, total *atomic.Int64) {
	k := 0
	if len(*p) > 0 {
		k = send(*p)
	}
	lists.put(p)
	total.Add(int64(k))
}
