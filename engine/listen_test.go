package engine

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// TestReusePort: with ReusePort every loop has its own SO_REUSEPORT listener on the
// same port, and connections through any of them work.
func TestReusePort(t *testing.T) {
	t.Parallel()
	h := newEcho()
	s, addr := startServer(t, h, Config{Loops: 3, ReusePort: true}, nil)
	s.mu.Lock()
	n := len(s.lis.listeners)
	s.mu.Unlock()
	if n != 3 {
		t.Fatalf("%d listeners for 3 loops", n)
	}
	for i := range 12 {
		rc := dialRaw(t, addr)
		p := []byte{byte(i)}
		rc.send(true, frame.OpBinary, p)
		if _, got := rc.readMessage(); len(got) != 1 || got[0] != byte(i) {
			t.Fatalf("connection %d: echo %v", i, got)
		}
	}
	if got := s.NumConns(); got != 12 {
		t.Fatalf("NumConns %d, want 12", got)
	}
}

// TestMaxConns: a connection over the cap is closed at once; when one closes, a new
// one fits again.
func TestMaxConns(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.MaxConns = 2
		h := newEcho()
		s, addr := startServer(t, h, cfg, nil)
		a := dialRaw(t, addr)
		dialRaw(t, addr)
		waitFor(t, func() bool { return s.NumConns() == 2 })
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		if n, err := nc.Read(make([]byte, 1)); err != io.EOF && n != 0 {
			t.Fatalf("third connection: read %d, %v; want EOF", n, err)
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("third connection was kept over MaxConns")
		}
		a.send(true, frame.OpClose, []byte{0x03, 0xe8})
		a.expectEOF()
		waitFor(t, func() bool { return s.NumConns() == 1 })
		dialRaw(t, addr) // fits again
	})
}
