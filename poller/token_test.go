//go:build linux || darwin || freebsd

package poller_test

import (
	"testing"

	"github.com/weir-ws/weir/poller"
	"golang.org/x/sys/unix"
)

// tokenOf waits for an event on fd and returns the token it carries; every event
// for fd seen on the way must carry the same one.
func tokenOf(t *testing.T, p *poller.Poller, fd int) uint32 {
	t.Helper()
	events := make([]poller.Event, 16)
	var tok uint32
	seen := false
	for !seen {
		n, err := p.Wait(events, int(patience.Milliseconds()))
		if err != nil {
			t.Fatal("Wait:", err)
		}
		if n == 0 {
			t.Fatalf("no event for fd %d within %v", fd, patience)
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) != fd {
				continue
			}
			if seen && ev.Token != tok {
				t.Fatalf("fd %d: tokens %#x and %#x in one batch", fd, tok, ev.Token)
			}
			tok, seen = ev.Token, true
		}
	}
	return tok
}

// TestTokens: every event carries the token of the registration that reported
// it, all 32 bits of it; Modify replaces it; a new registration of a reused fd
// number reports its own.
func TestTokens(t *testing.T) {
	t.Parallel()
	p := newPoller(t)
	a, b := socketPair(t)
	const first, second, reused = 0xdeadbeef, 0x80000001, 7
	if err := p.Add(a, first, poller.Read); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, b, "x")
	if got := tokenOf(t, p, a); got != first {
		t.Fatalf("after Add: token %#x, want %#x", got, uint32(first))
	}
	if err := p.Modify(a, second, poller.Read|poller.Write); err != nil {
		t.Fatal(err)
	}
	if got := tokenOf(t, p, a); got != second {
		t.Fatalf("after Modify: token %#x, want %#x", got, uint32(second))
	}
	// Close a and take its number again (the lowest free one; retry if a
	// parallel test got it first).
	old := a
	unix.Close(a)
	var c, d int
	for range 50 {
		c, d = socketPair(t)
		if c == old {
			break
		}
	}
	if c != old {
		t.Skipf("fd %d was not reused", old)
	}
	if err := p.Add(c, reused, poller.Read); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, d, "y")
	if got := tokenOf(t, p, c); got != reused {
		t.Fatalf("reused fd %d: token %#x, want %#x", c, got, reused)
	}
}
