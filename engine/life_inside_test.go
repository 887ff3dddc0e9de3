package engine

import (
	"context"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// TestStopFromCallback: a Handler that stops its own Server (Close, or
// Shutdown with a deadline) or Client from OnOpen, OnMessage or OnClose gets
// the call back at once, and the stop completes once the callback returned:
// a later Close returns, every OnOpen has had its OnClose. Before, the stop
// waited for the loops, the workers or the connection's reader, the caller's
// own goroutine among them: a deadlock in every mode.
func TestStopFromCallback(t *testing.T) {
	t.Parallel()
	for _, when := range []string{"OnOpen", "OnMessage", "OnClose"} {
		for _, how := range []string{"Close", "Shutdown", "Client.Close"} {
			t.Run(when+"/"+how, func(t *testing.T) {
				t.Parallel()
				forModes(t, func(t *testing.T, cfg Config) {
					h := &stopInside{when: when, returned: make(chan error, 1)}
					var stop func()
					if how == "Client.Close" {
						_, addr := startServer(t, hello{}, cfg, nil)
						cl, err := NewClient(h, &cfg) // closed by stop below: a stuck stop is not waited for again
						if err != nil {
							t.Fatal(err)
						}
						h.stop = func() error { return cl.Close() }
						stop = func() { cl.Close() }
						c, _, err := cl.Dial(cliCtx(t), "ws://"+addr, nil)
						if err == nil && when == "OnClose" {
							c.Abort()
						}
					} else {
						s, err := NewServer(h, &cfg, nil)
						if err != nil {
							t.Fatal(err)
						}
						h.stop = func() error { return s.Close() }
						if how == "Shutdown" {
							h.stop = func() error {
								ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
								defer cancel() // as the callback returns: the wait goes on
								return s.Shutdown(ctx)
							}
						}
						stop = func() { s.Close() }
						if err := s.Listen("127.0.0.1:0"); err != nil { // after h.stop is set
							t.Fatal(err)
						}
						if when == "OnOpen" {
							// Close from OnOpen aborts the connection, which
							// may cut the 101 still queued for goroutine
							// mode's writer: its answer is not waited for.
							openOnly(t, s.Addr().String())
						} else {
							rc := dialRaw(t, s.Addr().String())
							rc.send(true, frame.OpText, []byte("x"))
							if when == "OnClose" {
								rc.readMessage()
							}
							rc.nc.Close()
						}
					}
					select {
					case err := <-h.returned:
						if err != nil {
							t.Errorf("%s from %s: %v", how, when, err)
						}
					case <-time.After(3 * time.Second):
						t.Fatalf("%s from %s has not returned in 3 s", how, when)
					}
					done := make(chan struct{})
					go func() { stop(); close(done) }() // waits for the stop begun inside
					select {
					case <-done:
					case <-time.After(3 * time.Second):
						t.Fatalf("the stop %s began in %s has not ended in 3 s", how, when)
					}
					if o, c := h.opened.Load(), h.closed.Load(); o != 1 || c != 1 {
						t.Fatalf("%d OnOpen, %d OnClose once stopped; want 1 each", o, c)
					}
				})
			})
		}
	}
}

// openOnly sends an opening handshake to addr and reads whatever comes back
// until the server closes, or 5 s.
func openOnly(t *testing.T, addr string) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(nc, "GET /ws HTTP/1.1\r\nHost: "+addr+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: "+testKey+"\r\nSec-WebSocket-Version: 13\r\n\r\n")
	io.Copy(io.Discard, nc)
}

// stopInside calls stop from the callback named when, once, and sends what
// it returned.
type stopInside struct {
	when           string
	stop           func() error
	returned       chan error
	opened, closed atomic.Int32
}

func (h *stopInside) at(when string) {
	if when == h.when {
		h.returned <- h.stop()
	}
}

func (h *stopInside) OnOpen(c *Conn) {
	h.opened.Add(1)
	if h.when == "OnClose" {
		c.WriteMessage(frame.OpText, []byte("open")) // the peer waits for it before it goes
	}
	h.at("OnOpen")
}

func (h *stopInside) OnMessage(*Conn, frame.Opcode, []byte) { h.at("OnMessage") }
func (h *stopInside) OnFrame(*Conn, frame.Header, []byte)   {}
func (h *stopInside) OnPing(*Conn, []byte) bool             { return true }
func (h *stopInside) OnPong(*Conn, []byte)                  {}
func (h *stopInside) OnDrain(*Conn)                         {}

func (h *stopInside) OnClose(*Conn, frame.StatusCode, string, error) {
	h.closed.Add(1)
	h.at("OnClose")
}

// hello says hello to every connection.
type hello struct{ NopHandler }

func (hello) OnOpen(c *Conn) { c.WriteMessage(frame.OpText, []byte("hello")) }
