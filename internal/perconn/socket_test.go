package perconn

import (
	"bytes"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeReader records what ReadLoop hands it; events are posted by the test.
type fakeReader struct {
	mu     sync.Mutex
	in     bytes.Buffer
	posted atomic.Int32 // events posted, not yet handled
	seen   atomic.Int32 // events handled
	held   atomic.Bool
	done   atomic.Bool
	eof    chan struct{}
	err    error
}

func (r *fakeReader) Done() bool { return r.done.Load() }
func (r *fakeReader) Events() bool {
	n := r.posted.Swap(0)
	r.seen.Add(n)
	return n != 0
}
func (r *fakeReader) Held() bool { return r.held.Load() }
func (r *fakeReader) Input(p []byte) {
	r.mu.Lock()
	r.in.Write(p)
	r.mu.Unlock()
}
func (r *fakeReader) EOF()             { r.done.Store(true); close(r.eof) }
func (r *fakeReader) Failed(err error) { r.err = err; r.done.Store(true); close(r.eof) }

func (r *fakeReader) input() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.in.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// ReadLoop hands every byte to the Reader in order, across the buffer's
// sizes; Wake gets an event seen while the loop is blocked in Read, and while
// the Reader holds input back; the peer's close ends it with EOF.
func TestReadLoop(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	defer b.Close()
	s := New(a)
	r := &fakeReader{eof: make(chan struct{})}
	ended := make(chan struct{})
	go func() { defer close(ended); s.ReadLoop(r) }()

	var want bytes.Buffer
	for i, n := range []int{10, SmallBuf, BigBuf + 7, 3} {
		p := bytes.Repeat([]byte{byte('a' + i)}, n)
		want.Write(p)
		if _, err := b.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the input", func() bool { return r.input() == want.String() })

	r.posted.Add(1) // while blocked in Read
	s.Wake()
	waitFor(t, "an event during a Read", func() bool { return r.seen.Load() == 1 })

	r.held.Store(true)
	r.posted.Add(1)
	s.Wake()
	waitFor(t, "an event while held", func() bool { return r.seen.Load() == 2 })
	go b.Write([]byte("late")) // not read while held
	time.Sleep(20 * time.Millisecond)
	if r.input() != want.String() {
		t.Fatal("read while the Reader held input back")
	}
	r.held.Store(false)
	s.Wake()
	waitFor(t, "input after the hold", func() bool { return r.input() == want.String()+"late" })

	b.Close()
	<-r.eof
	<-ended
	if r.err != nil {
		t.Fatalf("the peer's close was reported as %v, want EOF", r.err)
	}
}

// Accept closes what admit refuses, returns what it takes with the peer's
// address, and reports false once the listener is closed.
func TestAccept(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int32
	admit := func(remote netip.AddrPort) bool {
		if !remote.Addr().IsLoopback() {
			t.Errorf("remote %v", remote)
		}
		return asked.Add(1) > 1 // the first is refused
	}
	refused, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer refused.Close()
	admitted, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer admitted.Close()
	nc, remote, ok := Accept(ln, admit)
	if !ok {
		t.Fatal("no connection admitted")
	}
	defer nc.Close()
	if remote != AddrPort(admitted.LocalAddr()) {
		t.Fatalf("admitted %v, want the second dialer %v", remote, admitted.LocalAddr())
	}
	refused.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := refused.Read(make([]byte, 1)); err == nil {
		t.Fatal("the refused connection was not closed")
	}
	ln.Close()
	if _, _, ok := Accept(ln, admit); ok {
		t.Fatal("Accept on a closed listener reported a connection")
	}
}

func TestAddrPort(t *testing.T) {
	t.Parallel()
	ap := netip.MustParseAddrPort("192.0.2.1:80")
	for _, tc := range []struct {
		a    net.Addr
		want netip.AddrPort
	}{
		{net.TCPAddrFromAddrPort(ap), ap},
		{net.UDPAddrFromAddrPort(ap), ap},
		{&net.UnixAddr{Name: "/tmp/x", Net: "unix"}, netip.AddrPort{}},
	} {
		if got := AddrPort(tc.a); got != tc.want {
			t.Errorf("AddrPort(%v) = %v, want %v", tc.a, got, tc.want)
		}
	}
}

// Tick calls fn until stop is closed, then returns.
func TestTick(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	var n atomic.Int32
	ended := make(chan struct{})
	go func() { defer close(ended); Tick(time.Millisecond, stop, func(time.Time) { n.Add(1) }) }()
	waitFor(t, "three ticks", func() bool { return n.Load() >= 3 })
	close(stop)
	<-ended
}
