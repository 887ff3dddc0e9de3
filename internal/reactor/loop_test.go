package reactor

import (
	"testing"

	"github.com/weir-ws/weir/poller"
)

// TestLoopDropsStaleEvents: an event taken from the poller for an fd's
// earlier owner (its token is that owner's generation) is not delivered to
// the connection that owns the number now, and a hang-up among such events
// cannot end it; a token-0 event goes to the fd's listener, if any. No socket
// is involved: the table and the events are set up by hand, and the owner
// holds its running bit, so that a delivered event only shows as a pending
// bit.
func TestLoopDropsStaleEvents(t *testing.T) {
	t.Parallel()
	r, _ := newReactor(t, Config{Loops: 1, Inline: true})
	l := r.loops[0]
	const fd, lfd = 9, 11 // never a syscall: nothing is registered
	older, owner := &tconn{}, &tconn{}
	older.fd.Own(fd)
	owner.fd.Own(fd)
	l.conns = make([]*tconn, 16)
	l.conns[fd] = owner
	accepts := 0
	l.listeners[lfd] = func() { accepts++ }
	cases := []struct {
		name    string
		ev      poller.Event
		want    uint32
		accepts int
	}{
		{"an earlier owner's hang-up", poller.Event{Fd: fd, Token: older.fd.Gen(), Flags: poller.HangUp | poller.Readable}, 0, 0},
		{"a listener's token on a connection's fd", poller.Event{Fd: fd, Token: 0, Flags: poller.Readable}, 0, 0},
		{"an unknown generation", poller.Event{Fd: fd, Token: owner.fd.Gen() + 1, Flags: poller.Writable}, 0, 0},
		{"the owner's own", poller.Event{Fd: fd, Token: owner.fd.Gen(), Flags: poller.HangUp}, EvRead | EvHangUp, 0},
		{"the owner's error", poller.Event{Fd: fd, Token: owner.fd.Gen(), Flags: poller.Error | poller.Writable}, EvRead | EvHangUp | EvReset | EvWrite, 0},
		{"beyond the table", poller.Event{Fd: 1000, Token: owner.fd.Gen(), Flags: poller.Readable}, 0, 0},
		{"a listener's", poller.Event{Fd: lfd, Token: 0, Flags: poller.Readable}, 0, 1},
		{"a stale event on a listener's fd", poller.Event{Fd: lfd, Token: older.fd.Gen(), Flags: poller.Readable}, 0, 0},
	}
	for _, tc := range cases {
		owner.sched.Store(Running)
		accepts = 0
		events := []poller.Event{tc.ev}
		l.lookup(events)
		l.deliver(&runner[tconn, *tworker]{}, events, 7)
		if got := owner.sched.Load() &^ Running; got != tc.want {
			t.Errorf("%s: pending events %#x, want %#x", tc.name, got, tc.want)
		}
		if accepts != tc.accepts {
			t.Errorf("%s: %d accepts, want %d", tc.name, accepts, tc.accepts)
		}
		if got := owner.input.Swap(0); (tc.want&EvRead != 0) != (got == 7) {
			t.Errorf("%s: input stamped %d", tc.name, got)
		}
	}

	// The earlier owner's late Remove leaves the new owner registered.
	l.Remove(older)
	if l.conns[fd] != owner {
		t.Fatal("an earlier owner's Remove cleared the fd's new owner")
	}
	l.Remove(owner)
	if l.conns[fd] != nil {
		t.Fatal("the owner's Remove left it in the table")
	}
}

// TestInlinePostRunsOnLoop: with Inline, a post from another goroutine is
// queued on the connection's loop and run there, on the loop's worker.
func TestInlinePostRunsOnLoop(t *testing.T) {
	t.Parallel()
	r, _ := newReactor(t, Config{Loops: 1, Inline: true})
	r.Start()
	l := r.loops[0]
	ran := make(chan *tworker, 1)
	c := &tconn{loop: l, handle: func(w *tworker, _ *tconn, _ uint32) bool { ran <- w; return false }}
	r.Post(c, EvUser)
	if w := <-ran; w != l.w.w {
		t.Fatal("the turn did not run on the loop's worker")
	}
	waitFor(t, "the word to go idle", func() bool { return c.sched.Load() == 0 })
}
