package engine

import (
	"context"
	"io"
	"net"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/perconn"
	"github.com/weir-ws/weir/internal/sock"
)

// TestStartAfterStop: a connection that starts once stop has begun (a TLS
// handshake goroutine, which stop waits for, handing over its connection
// after Close found none left) runs on nothing: the loops are stopped and no
// goroutine starts, so it is ended on the caller's goroutine before the start
// returns, told going-away when open. Before, a loop connection was added to
// a stopped loop and never closed, and a goroutine-mode one got goroutines
// that stop did not wait for.
func TestStartAfterStop(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		goroutine bool
		open      bool
	}{
		{"loop/handshaking", false, false},
		{"loop/open", false, true},
		{"goroutine/handshaking", true, false},
		{"goroutine/open", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := NewServer(NopHandler{}, &Config{GoroutinePerConn: tc.goroutine}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			peer, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			nc, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			e := s.e
			started := make(chan *Conn)
			release := make(chan struct{})
			// A goroutine stop waits for (as it waits for a TLS handshake's)
			// starts the connection once stop has closed the group, which
			// it does after stopping the loops.
			e.goroutine(func() {
				for !e.goroutines.Closed() {
					time.Sleep(time.Millisecond)
				}
				c := startAfter(t, e, nc, tc.goroutine, tc.open)
				started <- c
				<-release
			})
			closed := make(chan struct{})
			go func() { s.Close(); close(closed) }()
			c := <-started
			st, live := c.State(), e.census.Live.Load()
			close(release)
			<-closed
			if st != StateClosed {
				t.Fatalf("state %v when the start returned after stop, want closed", st)
			}
			if live != 0 {
				t.Fatalf("%d connections live after stop", live)
			}
			peer.SetReadDeadline(time.Now().Add(5 * time.Second))
			got, err := io.ReadAll(peer)
			if err != nil {
				t.Fatalf("peer: %v (the socket was not closed)", err)
			}
			want := ""
			if tc.open {
				want = string([]byte{0x88, 0x16, 0x03, 0xe9}) + "server shutting down"
			}
			if string(got) != want {
				t.Fatalf("peer read %q, want %q", got, want)
			}
		})
	}
}

// startAfter starts nc on e as a server connection, in the handshake state or
// open, the way an accept or an upgrade would.
func startAfter(t *testing.T, e *engine, nc net.Conn, goroutine, open bool) *Conn {
	var c *Conn
	if goroutine {
		c = e.newConn(-1, false)
		c.setGoroutine(perconn.New(nc))
	} else {
		fd, ok := sock.TakeConn(nc) // the engine owns the fd from here
		if !ok {
			t.Error("cannot take the socket")
		}
		nc.Close()
		c = e.newConn(int32(fd), false)
	}
	c.setRemote(addrPort(nc.RemoteAddr()))
	if open {
		e.startOpenConn(c, nil)
	} else {
		e.startServerConn(c)
	}
	return c
}

// TestCloseRacesGoroutineConns: Close of a Server (ServeHTTP) and of a Client
// racing goroutine-mode connections that are starting: when Close returns,
// every connection OnOpen saw has had OnClose. Under -race, a goroutine
// started while Close waits for them was reported (a WaitGroup's Add racing
// its Wait).
func TestCloseRacesGoroutineConns(t *testing.T) {
	t.Parallel()
	cfg := &Config{GoroutinePerConn: true}
	for i := range 60 {
		h := &openCloseCounter{}
		s, err := NewServer(h, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(s)
		cl, err := NewClient(h, cfg)
		if err != nil {
			t.Fatal(err)
		}
		url := "ws://" + ts.Listener.Addr().String()
		var dials sync.WaitGroup
		for range 6 {
			dials.Add(1)
			go func() {
				defer dials.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				cl.Dial(ctx, url, nil)
			}()
		}
		time.Sleep(time.Duration(i%8) * 250 * time.Microsecond)
		if i%2 == 0 {
			s.Close()
			cl.Close()
		} else {
			cl.Close()
			s.Close()
		}
		if o, c := h.opened.Load(), h.closed.Load(); o != c {
			t.Fatalf("round %d: %d opened, %d closed when Close returned", i, o, c)
		}
		dials.Wait()
		ts.Close()
	}
}

// openCloseCounter counts OnOpen and OnClose.
type openCloseCounter struct {
	NopHandler
	opened, closed atomic.Int64
}

func (h *openCloseCounter) OnOpen(*Conn) { h.opened.Add(1) }
func (h *openCloseCounter) OnClose(*Conn, frame.StatusCode, string, error) {
	h.closed.Add(1)
}
