package engine

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestPoolQueueFullStartsNoGoroutines: with every worker busy and the pool's queue
// full, handing connections over (dispatch from any goroutine, requeue after a
// turn) neither blocks nor starts a goroutine per connection, and workers still
// get them all in order. Not parallel: it counts the process's goroutines.
func TestPoolQueueFullStartsNoGoroutines(t *testing.T) {
	e := &engine{}
	e.pool = &pool{q: make(chan *Conn, 8), stop: make(chan struct{})} // no workers
	defer close(e.pool.stop)
	g0 := runtime.NumGoroutine()
	conns := make([]*Conn, 1000)
	for i := range conns {
		conns[i] = &Conn{identity: identity{eng: e}}
		if i%2 == 0 {
			e.dispatch(conns[i])
		} else {
			e.requeue(conns[i])
		}
	}
	if g := runtime.NumGoroutine(); g > g0+50 {
		t.Fatalf("%d goroutines after queueing %d connections on a full pool, %d before", g, len(conns), g0)
	}
	// Workers get every connection once, in the order they were handed over.
	for i, want := range conns {
		c, ok := e.pool.get()
		if !ok || c != want {
			t.Fatalf("connection %d: got %p (%v), want %p", i, c, ok, want)
		}
	}
	select {
	case c := <-e.pool.q:
		t.Fatalf("an extra connection %p in the queue", c)
	default:
	}
	if n := e.pool.nover.Load(); n != 0 {
		t.Fatalf("%d left in overflow", n)
	}
}

// TestPoolOverflowRunsAll: many posters on a tiny queue; every connection handed
// over runs, none is lost between the queue and overflow (-race).
func TestPoolOverflowRunsAll(t *testing.T) {
	t.Parallel()
	e := &engine{cfg: (&Config{}).defaults()}
	p := startPool(e, 2, 1024, 2)
	e.pool = p
	defer func() {
		close(p.stop)
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
				t.Fatalf("connection %d never ran (sched %#x, %d in overflow)", i, c.sched.Load(), p.nover.Load())
			}
			time.Sleep(time.Millisecond)
		}
	}
}
