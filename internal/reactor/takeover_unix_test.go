//go:build unix

package reactor

import (
	"syscall"
	"testing"
)

// socketPair returns a connected non-blocking pair, closed at the end.
func socketPair(t *testing.T) (a, b int) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Skip("socketpair:", err)
	}
	for _, fd := range fds {
		if err := syscall.SetNonblock(fd, true); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { syscall.Close(fds[0]); syscall.Close(fds[1]) })
	return fds[0], fds[1]
}

// drain reads fd until it would block.
func drain(fd int) {
	var buf [64]byte
	for {
		if n, err := syscall.Read(fd, buf[:]); n <= 0 || err != nil {
			return
		}
	}
}

// TestTakeover: a turn run on the loop (a lone ready connection) that blocks
// does not stall the loop's other connections: after turns.StuckAfter
// another goroutine takes the loop over with a worker of its own (TookOver is
// told once), and runs the next connection's turn. No pool workers run, so
// every turn the test sees ran on a loop runner.
func TestTakeover(t *testing.T) {
	t.Parallel()
	a0, a1 := socketPair(t)
	b0, b1 := socketPair(t)
	r, ops := newReactor(t, Config{Loops: 1})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // before Stop: the blocked runner must end
	l := r.loops[0]
	blocked := make(chan *tworker, 1)
	ran := make(chan *tworker, 1)
	// Each registration starts with a writable event: only input counts.
	a := &tconn{loop: l, handle: func(w *tworker, _ *tconn, ev uint32) bool {
		if ev&EvRead == 0 {
			return false
		}
		drain(a0)
		blocked <- w
		<-release
		return false
	}}
	b := &tconn{loop: l, handle: func(w *tworker, _ *tconn, ev uint32) bool {
		if ev&EvRead == 0 {
			return false
		}
		drain(b0)
		ran <- w
		return false
	}}
	a.fd.Own(a0)
	b.fd.Own(b0)
	r.Start()
	for _, c := range []*tconn{a, b} {
		if err := l.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	// Their first turns (writable) run before the test goes on, so that the
	// blocking turn is alone in its batch (a turn left behind with it would
	// go to the pool, which has no workers here).
	waitFor(t, "the first turns", func() bool {
		return a.turns.Load() > 0 && b.turns.Load() > 0 && a.sched.Load() == 0 && b.sched.Load() == 0
	})
	l.turns.SetSlowUntil(0)
	if _, err := syscall.Write(a1, []byte("x")); err != nil {
		t.Fatal(err)
	}
	wa := <-blocked
	if _, err := syscall.Write(b1, []byte("y")); err != nil {
		t.Fatal(err)
	}
	if wb := <-ran; wb == wa {
		t.Fatal("the runner that took the loop over uses the blocked runner's worker")
	}
	if n := ops.tookOver.Load(); n != 1 {
		t.Fatalf("TookOver told %d times, want 1", n)
	}
}
