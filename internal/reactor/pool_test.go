package reactor

import (
	"sync"
	"testing"
	"time"
)

// TestHandshakeTurnsGoFirst: a connection whose turn a client waits on (a
// server's handshake: Ops.Front) is handed to the pool's front lane, from
// the loop and from any other poster, so its turn is taken before the fresh
// turns queued ahead of it (issue 12: behind 200 flooders that just woke up,
// a fresh client's handshake waited 50-120 ms on a loaded machine). The
// others keep the fresh lane. No workers run: the test takes from the queue.
func TestHandshakeTurnsGoFirst(t *testing.T) {
	t.Parallel()
	for _, viaLoop := range []bool{false, true} {
		r, _ := newReactor(t, Config{Loops: 1})
		l := r.loops[0]
		open, dialling, shaking := &tconn{}, &tconn{}, &tconn{front: true}
		for _, c := range []*tconn{open, dialling, shaking} {
			if viaLoop {
				l.post(&runner[tconn, *tworker]{}, c, EvRead)
			} else {
				r.Post(c, EvRead)
			}
		}
		name := map[*tconn]string{open: "open", dialling: "dialling", shaking: "handshaking"}
		for i, w := range []*tconn{shaking, open, dialling} {
			if c, ok := r.pool.Get(); !ok || c != w {
				t.Fatalf("via loop %v: take %d is the %s connection, want the %s one",
					viaLoop, i+1, name[c], name[w])
			}
		}
	}
}

// TestHeavyGoesToBackLane: a heavy connection (its last read turn ended on
// its budget) is handed to the pool's back lane whatever wakes it, by Post
// and by the loop's post alike, and the loop never keeps its turn for
// itself; a light one goes to the fresh lane, or, in a small batch, to the
// loop (issue 12: a flooder's every edge queued it ahead of the work put
// back, and the loop ran its turns itself).
func TestHeavyGoesToBackLane(t *testing.T) {
	t.Parallel()
	r, _ := newReactor(t, Config{Loops: 1})
	heavy, light := &tconn{}, &tconn{}
	heavy.sched.Store(Heavy)
	r.Post(heavy, EvRead) // first, but in the back lane
	r.Post(light, EvRead)
	if c, _ := r.pool.Get(); c != light {
		t.Fatal("first take: the heavy connection, want the light one")
	}
	if c, _ := r.pool.Get(); c != heavy {
		t.Fatal("second take: not the heavy connection")
	}

	l := r.loops[0]
	run := &runner[tconn, *tworker]{take: true, taken: make([]*tconn, 0, 4)}
	loopHeavy, loopLight := &tconn{}, &tconn{}
	loopHeavy.sched.Store(Heavy)
	l.post(run, loopHeavy, EvRead)
	if len(run.taken) != 0 {
		t.Fatal("the loop kept a heavy connection's turn for itself")
	}
	l.post(run, loopLight, EvRead)
	if len(run.taken) != 1 || run.taken[0] != loopLight {
		t.Fatalf("the loop did not keep a light connection's turn (taken %d)", len(run.taken))
	}
	if c, _ := r.pool.Get(); c != loopHeavy {
		t.Fatal("the heavy connection is not in the pool")
	}
}

// TestPoolOverflowRunsAll: many posters on a tiny queue; every connection
// handed over runs, none is lost between the queue and overflow (-race).
func TestPoolOverflowRunsAll(t *testing.T) {
	t.Parallel()
	r, _ := newReactor(t, Config{Loops: 1, Workers: 2, Queue: 2})
	r.Start()
	const posters, each = 4, 2000
	conns := make([]*tconn, posters*each)
	for i := range conns {
		conns[i] = &tconn{}
		conns[i].sched.Store(Running | EvTimer)
	}
	var wg sync.WaitGroup
	for g := range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, c := range conns[g*each : (g+1)*each] {
				r.Dispatch(c)
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for i, c := range conns {
		for c.sched.Load() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("connection %d never ran (sched %#x, %d in overflow)", i, c.sched.Load(), r.pool.Overflow())
			}
			time.Sleep(time.Millisecond)
		}
		if n := c.turns.Load(); n != 1 {
			t.Fatalf("connection %d ran %d turns, want 1", i, n)
		}
	}
}
