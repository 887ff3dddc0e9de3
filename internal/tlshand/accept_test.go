package tlshand

import (
	"crypto/tls"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// TestAcceptor: a TLS 1.3 client ends in Done in loop mode, a TLS 1.2 one in
// goroutine mode with a working tls.Conn, garbage in Failed, and a connection
// that finds every slot taken for its Timeout in Busy; each that ends here is
// closed, and Serve returns once Accept reports the listener closed.
func TestAcceptor(t *testing.T) {
	t.Parallel()
	ln, got, served, wg := serveAcceptor(t, NewSlots(1), 5*time.Second, nil)
	dial := func(max uint16) {
		cfg := clientConfig(t)
		cfg.MaxVersion = max
		nc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Error(err)
			return
		}
		defer nc.Close()
		tc := tls.Client(nc, cfg)
		if err := tc.Handshake(); err != nil {
			t.Errorf("client handshake (max %#x): %v", max, err)
		}
	}

	go dial(tls.VersionTLS13)
	o := expect(t, got, "loop")
	if o.res.Reader == nil || o.res.Writer == nil {
		t.Fatal("loop mode without the record layer")
	}
	o.nc.Close()

	go dial(tls.VersionTLS12)
	o = expect(t, got, "goroutine")
	if o.res.Conn.ConnectionState().Version != tls.VersionTLS12 {
		t.Fatal("goroutine mode without a working tls.Conn")
	}
	o.nc.Close()

	bad, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	bad.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
	expect(t, got, "failed")
	expectClosed(t, bad)
	stopAcceptor(t, ln, served, wg)
}

// TestAcceptorBusy: a connection that finds every slot taken for its Timeout
// ends in Busy, closed.
func TestAcceptorBusy(t *testing.T) {
	t.Parallel()
	slots := NewSlots(1)
	if !slots.Acquire(time.Time{}) { // the only slot, held
		t.Fatal("no slot")
	}
	ln, got, served, wg := serveAcceptor(t, slots, 100*time.Millisecond, nil)
	busy, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	expect(t, got, "busy")
	expectClosed(t, busy)
	slots.Release()
	stopAcceptor(t, ln, served, wg)
}

// TestAcceptorNoGoroutine: a connection whose handshake Go will not start
// (the engine is stopping) ends in Busy, closed, and gives its slot back.
func TestAcceptorNoGoroutine(t *testing.T) {
	t.Parallel()
	slots := NewSlots(1)
	ln, got, served, wg := serveAcceptor(t, slots, 5*time.Second, func() bool { return true })
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	expect(t, got, "busy")
	expectClosed(t, nc)
	if !slots.Acquire(time.Now().Add(time.Second)) {
		t.Fatal("the slot was not given back")
	}
	slots.Release()
	stopAcceptor(t, ln, served, wg)
}

type outcome struct {
	what string
	nc   net.Conn
	res  *Result
}

// serveAcceptor serves an Acceptor on a fresh listener; got reports what
// became of each connection. Its Go starts nothing while refuse (if not nil)
// reports true.
func serveAcceptor(t *testing.T, slots *Slots, timeout time.Duration, refuse func() bool) (net.Listener, chan outcome, chan struct{}, *sync.WaitGroup) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan outcome, 8)
	wg := new(sync.WaitGroup)
	a := &Acceptor{
		Prepared: Prepare(serverConfig(t), Options{}),
		Slots:    slots,
		Timeout:  timeout,
		Accept: func() (net.Conn, netip.AddrPort, bool) {
			nc, err := ln.Accept()
			if err != nil {
				return nil, netip.AddrPort{}, false
			}
			return nc, nc.RemoteAddr().(*net.TCPAddr).AddrPort(), true
		},
		Go: func(f func()) bool {
			if refuse != nil && refuse() {
				return false
			}
			wg.Go(f)
			return true
		},
		Busy:   func(netip.AddrPort) { got <- outcome{what: "busy"} },
		Failed: func(netip.AddrPort) { got <- outcome{what: "failed"} },
		Done: func(nc net.Conn, _ netip.AddrPort, res *Result, goroutine bool) {
			what := "loop"
			if goroutine {
				what = "goroutine"
			}
			got <- outcome{what, nc, res}
		},
	}
	served := make(chan struct{})
	go func() { a.Serve(); close(served) }()
	return ln, got, served, wg
}

func expect(t *testing.T, got chan outcome, want string) outcome {
	t.Helper()
	select {
	case o := <-got:
		if o.what != want {
			t.Fatalf("got %s, want %s", o.what, want)
		}
		return o
	case <-time.After(10 * time.Second):
		t.Fatalf("no outcome, want %s", want)
	}
	return outcome{}
}

// expectClosed checks that the Acceptor closed the server end of nc.
func expectClosed(t *testing.T, nc net.Conn) {
	t.Helper()
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 512)
	for {
		if _, err := nc.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the connection was not closed")
			}
			return
		}
	}
}

// stopAcceptor closes the listener and checks that Serve returns.
func stopAcceptor(t *testing.T, ln net.Listener, served chan struct{}, wg *sync.WaitGroup) {
	t.Helper()
	ln.Close()
	select {
	case <-served:
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return once the listener closed")
	}
	wg.Wait()
}
