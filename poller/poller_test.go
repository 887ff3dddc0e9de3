//go:build linux || darwin || freebsd

package poller_test

import (
	"errors"
	"io/fs"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/poller"
	"golang.org/x/sys/unix"
)

func TestReadable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pair func(testing.TB) (int, int)
	}{
		{"socketpair", socketPair},
		{"tcp", func(t testing.TB) (int, int) { return tcpPair(t, 0, 0) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPoller(t)
			a, b := tt.pair(t)
			if err := p.Add(a, 0, poller.Read); err != nil {
				t.Fatal(err)
			}
			expectNone(t, p, a)
			mustWrite(t, b, "hello")
			got := expectEvent(t, p, a, poller.Readable)
			if got&(poller.Writable|poller.HangUp|poller.Error) != 0 {
				t.Fatalf("flags %v, want only readable", got)
			}
			if n := readAll(t, a); n != 5 {
				t.Fatalf("read %d bytes, want 5", n)
			}
		})
	}
}

// TestEdgeTriggered checks that data left unread is not reported twice and
// that each new arrival is a new edge.
func TestEdgeTriggered(t *testing.T) {
	t.Parallel()
	p := newPoller(t)
	a, b := socketPair(t)
	if err := p.Add(a, 0, poller.Read); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, b, "x")
	expectEvent(t, p, a, poller.Readable)
	expectNone(t, p, a) // "x" is still unread: level-triggered would repeat it

	mustWrite(t, b, "y")
	expectEvent(t, p, a, poller.Readable)
	if n := readAll(t, a); n != 2 {
		t.Fatalf("read %d bytes, want 2", n)
	}
	expectNone(t, p, a)
}

// TestWritableAfterDrain fills a TCP connection until write returns EAGAIN,
// checks that no Writable event comes while it stays full, then drains the
// peer and expects Writable.
func TestWritableAfterDrain(t *testing.T) {
	t.Parallel()
	p := newPoller(t)
	c, s := tcpPair(t, 4096, 4096)
	if err := p.Add(c, 0, poller.Read|poller.Write); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, p, c, poller.Writable) // connected, buffer empty

	chunk := make([]byte, 16<<10)
	fill := func() int {
		total := 0
		for {
			n, err := unix.Write(c, chunk)
			if errors.Is(err, unix.EAGAIN) {
				return total
			}
			if err != nil {
				t.Fatal("write:", err)
			}
			total += n
		}
	}
	// While filling, ACKs free space and may queue a Writable edge; refill
	// after each such edge until the connection stays full (the receiver
	// does not read, so this converges).
	sent := fill()
	for round := 0; ; round++ {
		got, _ := collect(t, p, c, poller.Writable, quiet)
		if got&poller.Writable == 0 {
			break
		}
		if round == 100 {
			t.Fatal("connection never stayed full")
		}
		sent += fill()
	}
	if sent == 0 {
		t.Fatal("nothing was written")
	}

	received := 0
	deadline := time.Now().Add(patience)
	for {
		received += readAll(t, s)
		if got, _ := collect(t, p, c, poller.Writable, quiet); got&poller.Writable != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no Writable after draining %d of %d bytes", received, sent)
		}
	}
	if _, err := unix.Write(c, chunk[:1]); err != nil {
		t.Fatalf("write after Writable: %v", err)
	}
	t.Logf("filled with %d bytes, Writable after draining %d", sent, received)
}

func TestHangUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// setup returns the watched fd and makes its peer hang up.
		setup func(testing.TB) (watched int, hangUp func())
		want  poller.Flags
	}{
		{"socketpair close", func(t testing.TB) (int, func()) {
			a, b := socketPair(t)
			return a, func() { closeFd(b) }
		}, poller.Readable | poller.HangUp},
		{"tcp close", func(t testing.TB) (int, func()) {
			c, s := tcpPair(t, 0, 0)
			return c, func() { closeFd(s) }
		}, poller.Readable | poller.HangUp},
		{"tcp shutdown write", func(t testing.TB) (int, func()) {
			c, s := tcpPair(t, 0, 0)
			return c, func() { unix.Shutdown(s, unix.SHUT_WR) }
		}, poller.Readable | poller.HangUp},
		{"tcp reset", func(t testing.TB) (int, func()) {
			c, s := tcpPair(t, 0, 0)
			return c, func() {
				// Linger 0: close sends RST instead of FIN.
				unix.SetsockoptLinger(s, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
				closeFd(s)
			}
		}, poller.HangUp | poller.Error},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPoller(t)
			fd, hangUp := tt.setup(t)
			if err := p.Add(fd, 0, poller.Read); err != nil {
				t.Fatal(err)
			}
			expectNone(t, p, fd)
			hangUp()
			expectEvent(t, p, fd, tt.want)
		})
	}
}

// TestModifyPauseResume drops Read interest, lets data arrive, and checks
// that switching Read back on reports the data that is already waiting.
func TestModifyPauseResume(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pair func(testing.TB) (int, int)
	}{
		{"socketpair", socketPair},
		{"tcp", func(t testing.TB) (int, int) { return tcpPair(t, 0, 0) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPoller(t)
			a, b := tt.pair(t)
			if err := p.Add(a, 0, poller.Read); err != nil {
				t.Fatal(err)
			}
			if err := p.Modify(a, 0, 0); err != nil { // pause
				t.Fatal(err)
			}
			mustWrite(t, b, "while paused")
			expectNone(t, p, a)
			if err := p.Modify(a, 0, poller.Read); err != nil { // resume
				t.Fatal(err)
			}
			expectEvent(t, p, a, poller.Readable)

			// Pausing after an edge was consumed but the data not read:
			// resuming must report it again, or the engine would stall.
			if err := p.Modify(a, 0, 0); err != nil {
				t.Fatal(err)
			}
			expectNone(t, p, a)
			if err := p.Modify(a, 0, poller.Read); err != nil {
				t.Fatal(err)
			}
			expectEvent(t, p, a, poller.Readable)
			if n := readAll(t, a); n != len("while paused") {
				t.Fatalf("read %d bytes", n)
			}
			expectNone(t, p, a)
		})
	}
}

// TestModifyWrite arms and disarms Write interest on an idle socket, the way
// the engine does when a send is short.
func TestModifyWrite(t *testing.T) {
	t.Parallel()
	p := newPoller(t)
	a, b := socketPair(t)
	if err := p.Add(a, 0, poller.Read); err != nil {
		t.Fatal(err)
	}
	expectNone(t, p, a)
	if err := p.Modify(a, 0, poller.Read|poller.Write); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, p, a, poller.Writable)
	if err := p.Modify(a, 0, poller.Read); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, b, "z")
	if got := expectEvent(t, p, a, poller.Readable); got&poller.Writable != 0 {
		t.Fatalf("flags %v: Writable after Write interest was dropped", got)
	}
}

func TestRemove(t *testing.T) {
	t.Parallel()
	p := newPoller(t)
	a, b := socketPair(t)
	if err := p.Add(a, 0, poller.Read|poller.Write); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, p, a, poller.Writable)
	if err := p.Remove(a); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, b, "ignored")
	expectNone(t, p, a)
	if err := p.Remove(a); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("second Remove: %v, want fs.ErrNotExist", err)
	}
	// Re-adding works and reports the waiting data (a fresh registration
	// evaluates the fd).
	if err := p.Add(a, 0, poller.Read); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, p, a, poller.Readable)
}

func TestBadArguments(t *testing.T) {
	t.Parallel()
	p := newPoller(t)
	a, b := socketPair(t)
	if err := p.Add(-1, 0, poller.Read); err == nil {
		t.Error("Add(-1) succeeded")
	}
	if err := p.Modify(a, 0, poller.Read); err == nil && isLinux {
		t.Error("Modify of an fd never added succeeded")
	}
	if err := p.Remove(b); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Remove of an open fd never added: %v, want fs.ErrNotExist", err)
	}
	if _, err := p.Wait(nil, 0); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Wait(nil): %v, want fs.ErrInvalid", err)
	}
}

func TestWakeUnblocksWait(t *testing.T) {
	t.Parallel()
	p := newPoller(t)
	watchdog(t, p)
	a, _ := socketPair(t) // an idle watched fd: must not show up
	if err := p.Add(a, 0, poller.Read); err != nil {
		t.Fatal(err)
	}
	events := make([]poller.Event, 8)

	// Wake before Wait.
	if err := p.Wake(); err != nil {
		t.Fatal(err)
	}
	if n, err := p.Wait(events, -1); n != 0 || err != nil {
		t.Fatalf("Wait after Wake: %d, %v; want 0, nil", n, err)
	}

	// Wake from another goroutine while Wait blocks, many times in a row:
	// a wake-up that were never re-armed would hang here.
	for i := 0; i < 100; i++ {
		done := make(chan error, 1)
		go func() {
			if i%2 == 1 {
				time.Sleep(time.Millisecond) // let Wait block, sometimes
			}
			done <- p.Wake()
		}()
		n, err := p.Wait(events, -1)
		if n != 0 || err != nil {
			t.Fatalf("round %d: Wait: %d, %v; want 0, nil", i, n, err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestWakeCoalesces sends a burst of Wakes from several goroutines and checks
// that one Wait consumes them all.
func TestWakeCoalesces(t *testing.T) {
	t.Parallel()
	p := newPoller(t)
	watchdog(t, p)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				if err := p.Wake(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	events := make([]poller.Event, 8)
	if n, err := p.Wait(events, -1); n != 0 || err != nil {
		t.Fatalf("Wait: %d, %v", n, err)
	}
	assertWakeConsumed(t, p)
}

// TestWakeWithEvents checks that a wake-up arriving together with socket
// events is not among the events returned.
func TestWakeWithEvents(t *testing.T) {
	t.Parallel()
	p := newPoller(t)
	a, b := socketPair(t)
	if err := p.Add(a, 0, poller.Read); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, b, "x")
	if err := p.Wake(); err != nil {
		t.Fatal(err)
	}
	events := make([]poller.Event, 8)
	seen := 0
	for seen == 0 {
		n, err := p.Wait(events, int(patience/time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) != a {
				t.Fatalf("unexpected event %+v (the wake-up leaked?)", ev)
			}
			seen++
		}
		if n == 0 && seen == 0 {
			continue // the wake-up alone, or a timeout: the data event follows
		}
	}
}

// TestAddWhileWaiting registers an fd while another goroutine is blocked in
// Wait(-1); the new fd's event must end that Wait.
func TestAddWhileWaiting(t *testing.T) {
	t.Parallel()
	p := newPoller(t)
	watchdog(t, p)
	a, b := socketPair(t)
	result := make(chan []poller.Event, 1)
	go func() {
		events := make([]poller.Event, 8)
		for {
			n, err := p.Wait(events, -1)
			if err != nil {
				result <- nil
				return
			}
			if n > 0 {
				result <- events[:n]
				return
			}
		}
	}()
	time.Sleep(10 * time.Millisecond) // usually lets Wait block first; either order must work
	if err := p.Add(a, 0, poller.Read); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, b, "x")
	evs := <-result
	if len(evs) != 1 || int(evs[0].Fd) != a || evs[0].Flags&poller.Readable == 0 {
		t.Fatalf("events %+v, want one Readable for fd %d", evs, a)
	}
}

func TestCloseUnblocksWait(t *testing.T) {
	t.Parallel()
	p := openPoller(t)
	a, _ := socketPair(t)
	if err := p.Add(a, 0, poller.Read); err != nil {
		t.Fatal(err)
	}
	waitErr := make(chan error, 1)
	go func() {
		events := make([]poller.Event, 8)
		for {
			if _, err := p.Wait(events, -1); err != nil {
				waitErr <- err
				return
			}
		}
	}()
	time.Sleep(10 * time.Millisecond) // usually lets Wait block first; either order must work
	if err := p.Close(); err != nil {
		t.Fatal("Close:", err)
	}
	select {
	case err := <-waitErr:
		if !errors.Is(err, poller.ErrClosed) || !errors.Is(err, fs.ErrClosed) {
			t.Fatalf("Wait after Close: %v, want ErrClosed", err)
		}
	case <-time.After(patience):
		t.Fatal("Close did not unblock Wait")
	}
	assertAllClosed(t, p, a)
}

func TestCloseIdle(t *testing.T) {
	t.Parallel()
	p := openPoller(t)
	a, _ := socketPair(t)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	assertAllClosed(t, p, a)
}

func assertAllClosed(t *testing.T, p *poller.Poller, fd int) {
	t.Helper()
	events := make([]poller.Event, 1)
	_, waitErr := p.Wait(events, 0)
	for name, err := range map[string]error{
		"Add":    p.Add(fd, 0, poller.Read),
		"Modify": p.Modify(fd, 0, poller.Read),
		"Remove": p.Remove(fd),
		"Wake":   p.Wake(),
		"Wait":   waitErr,
		"Close":  p.Close(),
	} {
		if !errors.Is(err, poller.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

// TestConcurrentUse runs Wait in a loop while other goroutines Add, Modify,
// Remove and Wake, then closes the poller under them. It is meant for -race.
// It always blocks in epoll_wait: its four goroutines never leave their
// CPUs, and a Wait parked in Go's netpoller would get a turn only when the
// runtime polls (sysmon, every 10 ms), by which time each fd it could have
// seen has been removed again. Even a blocking Wait's thread may get no CPU
// while an fd is registered and readable, on a busy machine: the test runs
// until the loop has seen an event (bounded by patience), not for a fixed
// time, so that its check that events flow cannot fail for want of CPU.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	p, err := poller.New()
	if err != nil {
		t.Fatal(err)
	}
	const workers = 4
	var seen atomic.Int64
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		events := make([]poller.Event, 32)
		for {
			n, err := p.Wait(events, -1)
			if err != nil {
				return
			}
			seen.Add(int64(n))
		}
	}()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < workers; w++ {
		a, b := socketPair(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := p.Add(a, uint32(i), poller.Read); err != nil {
					if errors.Is(err, poller.ErrClosed) {
						return
					}
					t.Error("Add:", err)
					return
				}
				unix.Write(b, []byte{byte(i)})
				p.Modify(a, uint32(i), poller.Read|poller.Write)
				p.Wake()
				p.Remove(a)
				readAll(t, a)
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	for deadline := time.Now().Add(patience); seen.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if err := p.Close(); err != nil {
		t.Fatal("Close:", err)
	}
	close(stop)
	wg.Wait()
	select {
	case <-loopDone:
		if seen.Load() == 0 {
			t.Errorf("the loop saw no events in %v", patience)
		}
	case <-time.After(patience):
		t.Fatal("Close did not stop the loop")
	}
}

// TestManyFds watches 1000 socketpairs, makes all of them readable and
// expects each exactly once, in batches smaller than the total.
func TestManyFds(t *testing.T) {
	t.Parallel()
	const pairs = 1000
	p := newPoller(t)
	peer := make(map[int]int, pairs)
	for i := 0; i < pairs; i++ {
		a, b := socketPair(t)
		if err := p.Add(a, 0, poller.Read); err != nil {
			t.Fatal(err)
		}
		peer[a] = b
	}
	for _, b := range peer {
		mustWrite(t, b, "x")
	}
	seen := make(map[int]int, pairs)
	events := make([]poller.Event, 64)
	deadline := time.Now().Add(patience)
	for len(seen) < pairs && time.Now().Before(deadline) {
		n, err := p.Wait(events, 100)
		if err != nil {
			t.Fatal(err)
		}
		if n > len(events) {
			t.Fatalf("Wait returned %d > len(events)", n)
		}
		for _, ev := range events[:n] {
			if _, ok := peer[int(ev.Fd)]; !ok {
				t.Fatalf("event for unknown fd %d", ev.Fd)
			}
			if ev.Flags&poller.Readable == 0 {
				t.Fatalf("fd %d: flags %v", ev.Fd, ev.Flags)
			}
			seen[int(ev.Fd)]++
		}
	}
	if len(seen) != pairs {
		t.Fatalf("saw %d of %d fds", len(seen), pairs)
	}
	for fd, c := range seen {
		if c != 1 {
			t.Fatalf("fd %d reported %d times, want 1", fd, c)
		}
	}
	if n, err := p.Wait(events, int(quiet/time.Millisecond)); n != 0 || err != nil {
		t.Fatalf("after all edges: %d events, %v", n, err)
	}
}

func TestFlagsString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f    poller.Flags
		want string
	}{
		{0, "0"},
		{poller.Readable, "readable"},
		{poller.Readable | poller.HangUp, "readable|hangup"},
		{poller.Writable | poller.Error, "writable|error"},
		{poller.Readable | 0x80, "readable|0x80"},
	}
	for _, tt := range tests {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("Flags(%#x).String() = %q, want %q", uint8(tt.f), got, tt.want)
		}
	}
}

func TestAllocs(t *testing.T) {
	p := newPoller(t)
	watchdog(t, p)
	a, b := socketPair(t)
	if err := p.Add(a, 0, poller.Read); err != nil {
		t.Fatal(err)
	}
	events := make([]poller.Event, 16)
	p.Wait(events, 0) // size the internal buffer
	one := []byte{1}
	buf := make([]byte, 16)
	tests := []struct {
		name string
		f    func()
	}{
		{"Wake+Wait", func() {
			p.Wake()
			p.Wait(events, -1)
		}},
		{"readable event", func() {
			unix.Write(b, one)
			for {
				if n, err := p.Wait(events, -1); n > 0 || err != nil {
					break
				}
			}
			unix.Read(a, buf)
		}},
		{"Modify", func() {
			p.Modify(a, 0, poller.Read|poller.Write)
			p.Modify(a, 0, poller.Read)
		}},
	}
	for _, tt := range tests {
		if allocs := testing.AllocsPerRun(200, tt.f); allocs != 0 {
			t.Errorf("%s: %v allocs/op, want 0", tt.name, allocs)
		}
	}
}
