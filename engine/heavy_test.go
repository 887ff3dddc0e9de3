package engine

import (
	"testing"

	"github.com/weir-ws/weir/internal/turns"
	"github.com/weir-ws/weir/internal/workq"
)

// TestHeavyGoesToBackLane: a connection whose last read turn ended on its
// budget (stHeavy) is handed to the pool's back lane whatever wakes it, by
// Conn.post and by the loop's post alike, and keeps the state across a turn
// that does not read; a light one goes to the fresh lane. Before, a flooder's
// every new edge queued it in the fresh lane, ahead of the work put back, and
// the loop could run its turn itself: a fresh client's handshake waited behind
// a turn of every flooder (issue 12: 200 senders that never read).
func TestHeavyGoesToBackLane(t *testing.T) {
	t.Parallel()
	e := &engine{pool: workq.New[*Conn](16)}
	heavy := &Conn{identity: identity{eng: e}}
	heavy.sched.Store(stHeavy)
	light := &Conn{identity: identity{eng: e}}
	heavy.post(evRead) // first, but in the back lane
	light.post(evRead)
	// The first take looks at the fresh lane first (workq's backEvery).
	if c, _ := e.pool.Get(); c != light {
		t.Fatalf("first take: the heavy connection, want the light one")
	}
	if c, _ := e.pool.Get(); c != heavy {
		t.Fatalf("second take: not the heavy connection")
	}

	// The loop's own post: a small batch would run on the loop (r.take), but
	// not a heavy connection's turn.
	l := &loop{eng: e}
	r := &runner{take: true, taken: make([]*Conn, 0, turns.Batch)}
	loopHeavy := &Conn{identity: identity{eng: e}}
	loopHeavy.sched.Store(stHeavy)
	l.post(r, loopHeavy, evRead)
	if len(r.taken) != 0 {
		t.Fatalf("the loop kept a heavy connection's turn for itself")
	}
	loopLight := &Conn{identity: identity{eng: e}}
	l.post(r, loopLight, evRead)
	if len(r.taken) != 1 || r.taken[0] != loopLight {
		t.Fatalf("the loop did not keep a light connection's turn (taken %d)", len(r.taken))
	}
	if c, _ := e.pool.Get(); c != loopHeavy {
		t.Fatalf("the heavy connection is not in the pool")
	}

	// A turn that does not read (a timer) hands the running bit back and
	// keeps stHeavy: the next post still goes to the back lane.
	tick := &Conn{identity: identity{eng: e}}
	tick.sched.Store(evRunning | stHeavy | evTimer)
	tick.run(newWorker(64))
	if got := tick.sched.Load(); got != stHeavy {
		t.Fatalf("after a turn: sched %#x, want stHeavy alone (%#x)", got, stHeavy)
	}
}
