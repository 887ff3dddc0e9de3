package reactor

import (
	"slices"
	"testing"
)

// TestPostWhileRunningRunsAfter: an event posted while the connection's turn
// runs, by the turn itself or by another goroutine, does not hand the
// connection to anyone (the poster does not own it) and is run after the
// turn, by the same Run, in a turn of its own; the word ends idle.
func TestPostWhileRunningRunsAfter(t *testing.T) {
	t.Parallel()
	r, _ := newReactor(t, Config{Loops: 1})
	const first, self, other = EvUser, EvUser << 1, EvUser << 2
	var seen []uint32
	c := &tconn{}
	c.handle = func(_ *tworker, c *tconn, ev uint32) bool {
		seen = append(seen, ev)
		if ev == first {
			r.Post(c, self)
			done := make(chan bool)
			go func() {
				owner, _ := c.sched.Post(other)
				done <- owner
			}()
			if <-done {
				t.Error("a post during the turn took the running bit")
			}
		}
		return false
	}
	if owner, _ := c.sched.Post(first); !owner {
		t.Fatal("the first post on an idle word does not own it")
	}
	if r.Run(&tworker{}, c) {
		t.Fatal("Run reports a requeue with no input left")
	}
	if want := []uint32{first, self | other}; !slices.Equal(seen, want) {
		t.Fatalf("turns saw %#x, want %#x", seen, want)
	}
	if got := c.sched.Load(); got != 0 {
		t.Fatalf("word after Run: %#x, want idle", got)
	}
	if _, ok := r.pool.TryGet(); ok {
		t.Fatal("a post during the turn handed the connection to the pool")
	}
}

// TestRunRequeues: a turn that reports more input keeps the running bit,
// leaves EvRead pending and puts the connection in the pool's back lane; a
// turn that does not read keeps Heavy and hands the bit back.
func TestRunRequeues(t *testing.T) {
	t.Parallel()
	r, _ := newReactor(t, Config{Loops: 1})
	c := &tconn{handle: func(_ *tworker, _ *tconn, ev uint32) bool { return ev&EvRead != 0 }}
	c.sched.Store(Running | EvRead)
	if !r.Run(&tworker{}, c) {
		t.Fatal("Run does not report the requeue")
	}
	if got := c.sched.Load(); got != Running|EvRead {
		t.Fatalf("word after a cut turn: %#x, want Running|EvRead", got)
	}
	fresh := &tconn{}
	r.pool.Put(fresh)
	// workq's first take looks at the fresh lane first.
	if got, _ := r.pool.Get(); got != fresh {
		t.Fatal("the requeued connection went ahead of fresh work")
	}
	if got, _ := r.pool.Get(); got != c {
		t.Fatal("the requeued connection is not in the pool")
	}

	tick := &tconn{}
	tick.sched.Store(Running | Heavy | EvTimer)
	if r.Run(&tworker{}, tick) {
		t.Fatal("a timer turn reports a requeue")
	}
	if got := tick.sched.Load(); got != Heavy {
		t.Fatalf("word after a timer turn: %#x, want Heavy alone", got)
	}
}
