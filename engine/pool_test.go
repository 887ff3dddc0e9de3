package engine

import (
	"sync"
	"testing"
	"time"
)

// TestPoolOverflowRunsAll: many posters on a tiny queue; every connection handed
// over runs, none is lost between the queue and overflow (-race).
func TestPoolOverflowRunsAll(t *testing.T) {
	t.Parallel()
	e := &engine{cfg: (&Config{}).defaults()}
	p := startPool(e, 2, 1024, 2)
	e.pool = p
	defer func() {
		p.Stop()
		e.wg.Wait()
	}()
	const posters, each = 4, 2000
	conns := make([]*Conn, posters*each)
	for i := range conns {
		// A timer event on a connection with no loop: run does nothing with it
		// but hand the running bit back.
		conns[i] = &Conn{identity: identity{eng: e}}
		conns[i].sched.Store(evRunning | evTimer)
	}
	var wg sync.WaitGroup
	for g := range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, c := range conns[g*each : (g+1)*each] {
				e.dispatch(c)
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for i, c := range conns {
		for c.sched.Load() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("connection %d never ran (sched %#x, %d in overflow)", i, c.sched.Load(), p.Overflow())
			}
			time.Sleep(time.Millisecond)
		}
	}
}
