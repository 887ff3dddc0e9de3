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
)

// TestStartAfterStop: a goroutine-mode connection that reaches startNetConn
// once stop has begun (Close waited for it, then gave up, or it was counted
// too late) gets no goroutines, which stop would not wait for: it is ended on
// the caller's goroutine before startNetConn returns, told going-away when
// open.
func TestStartAfterStop(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		open bool
	}{{"handshaking", false}, {"open", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := NewServer(NopHandler{}, &Config{GoroutinePerConn: true}, nil)
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
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
			c := e.newConn(-1, false)
			c.setGoroutine(perconn.New(nc))
			c.setRemote(addrPort(nc.RemoteAddr()))
			if tc.open {
				c.state.Store(uint32(StateOpen))
				e.startNetConn(c, nil)
			} else {
				e.startServerConn(c)
			}
			if st := c.State(); st != StateClosed {
				t.Fatalf("state %v when startNetConn returned after stop, want closed", st)
			}
			if n := e.census.Live.Load(); n != 0 {
				t.Fatalf("%d connections live after stop", n)
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

