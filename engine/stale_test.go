package engine

import (
	"testing"

	"github.com/weir-ws/weir/poller"
)

// TestLoopDropsStaleEvents: an event taken from the poller for an fd's earlier
// owner (its token is that owner's generation) is not delivered to the connection
// that owns the number now, and a hang-up among such events cannot end it. No
// socket is involved: the loop's table and the events are set up by hand, and the
// connections hold their running bit, so that a delivered event only shows as a
// pending bit.
func TestLoopDropsStaleEvents(t *testing.T) {
	t.Parallel()
	e := &engine{cfg: (&Config{Dispatch: DispatchInline}).defaults()}
	l, err := newLoop(e)
	if err != nil {
		t.Skip("no poller:", err)
	}
	defer l.close()
	const fd = 9 // never a syscall: the connections are not registered
	older, owner := &Conn{identity: identity{eng: e}}, &Conn{identity: identity{eng: e}}
	older.fd.Own(fd)
	owner.fd.Own(fd)
	owner.sched.Store(evRunning)
	l.conns = make([]*Conn, 16)
	l.conns[fd] = owner
	cases := []struct {
		name string
		ev   poller.Event
		want uint32
	}{
		{"an earlier owner's hang-up", poller.Event{Fd: fd, Token: older.fd.Gen(), Flags: poller.HangUp | poller.Readable}, 0},
		{"a listener's token", poller.Event{Fd: fd, Token: 0, Flags: poller.Readable}, 0},
		{"an unknown generation", poller.Event{Fd: fd, Token: owner.fd.Gen() + 1, Flags: poller.Writable}, 0},
		{"the owner's own", poller.Event{Fd: fd, Token: owner.fd.Gen(), Flags: poller.HangUp}, evRead | evHangUp},
		{"beyond the table", poller.Event{Fd: 1000, Token: owner.fd.Gen(), Flags: poller.Readable}, 0},
	}
	for _, tc := range cases {
		owner.sched.Store(evRunning)
		events := []poller.Event{tc.ev}
		l.lookup(events)
		l.deliver(&runner{}, events, 0)
		if got := owner.sched.Load() &^ evRunning; got != tc.want {
			t.Errorf("%s: pending events %#x, want %#x", tc.name, got, tc.want)
		}
	}
}
