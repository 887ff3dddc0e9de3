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
	"github.com/weir-ws/weir/internal/wsconn"
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
		cfg       Config
		goroutine bool
		open      bool
	}{
		{"pool/handshaking", Config{}, false, false},
		{"inline/handshaking", Config{Dispatch: DispatchInline}, false, false},
		{"pool/open", Config{}, false, true},
		{"goroutine/handshaking", Config{GoroutinePerConn: true}, true, false},
		{"goroutine/open", Config{GoroutinePerConn: true}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := NewServer(NopHandler{}, &tc.cfg, nil)
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
			e.Goroutine(func() {
				for !e.Goroutines.Closed() {
					time.Sleep(time.Millisecond)
				}
				c := startAfter(t, e, nc, tc.goroutine, tc.open)
				started <- c
				<-release
			})
			closed := make(chan struct{})
			go func() { s.Close(); close(closed) }()
			c := <-started
			st, live := c.State(), e.Census.Live.Load()
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
// open, the way an accept or an upgrade would; in the handshake state as a
// TLS connection whose request may have come with its handshake (startTLS),
// read at once.
func startAfter(t *testing.T, e *wsconn.Engine, nc net.Conn, goroutine, open bool) *Conn {
	var c *wsconn.Conn
	if goroutine {
		c = e.NewConn(-1, false)
		c.SetGoroutine(perconn.New(nc))
	} else {
		fd, ok := sock.TakeConn(nc) // the engine owns the fd from here
		if !ok {
			t.Error("cannot take the socket")
		}
		nc.Close()
		c = e.NewConn(int32(fd), false)
	}
	c.SetRemote(wsconn.AddrPort(nc.RemoteAddr()))
	if open {
		e.StartOpenConn(c, nil)
	} else {
		if e.StartServerConn(c) {
			c.Post(wsconn.EvRead)
		}
	}
	return pub(c)
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

// TestAdoptedWhileStopping: Adopt on a stopping Server returns a Conn that is
// over already (1001); every call its user may make on it then does nothing
// harmful. Before, with DispatchInline, Abort or CloseNow posted to a loop
// the connection was never placed on: a nil pointer panic.
func TestAdoptedWhileStopping(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		for _, dispatch := range []Dispatch{DispatchPool, DispatchInline} {
			cfg.Dispatch = dispatch
			s, err := NewServer(NopHandler{}, &cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			peer, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			nc, err := ln.Accept()
			ln.Close()
			if err != nil {
				t.Fatal(err)
			}
			c := s.Adopt(nc, nil, nil)
			if c.State() != StateClosed {
				t.Fatalf("dispatch %v: state %v, want closed", dispatch, c.State())
			}
			c.Abort()
			c.CloseNow(frame.StatusNormalClosure, "")
			c.Close(frame.StatusNormalClosure, "")
			c.PauseRead()
			c.ResumeRead()
			if err := c.WriteText("x"); err == nil {
				t.Fatalf("dispatch %v: a write on a closed connection succeeded", dispatch)
			}
			peer.Close()
		}
	})
}

// TestCloseAfterGivingUp: a handler that blocks past the bound Close waits for
// its aborts (abortFor) holds its loop; Close then stops the loops, and the
// other connections of that loop, whose abort turns were queued behind the
// blocked one and never run, are still ended before Close returns: OnClose
// for each, their sockets closed, none counted live. Before, under
// DispatchInline, they were left open, live, without OnClose.
func TestCloseAfterGivingUp(t *testing.T) {
	t.Parallel()
	forLoopModes(t, func(t *testing.T, cfg Config) {
		cfg.Loops = 1
		h := &blocker{block: make(chan struct{}), blocked: make(chan struct{}, 1)}
		s, addr := startServer(t, h, cfg, nil)
		s.e.AbortFor = 200 * time.Millisecond
		a := dialRaw(t, addr)
		b := dialRaw(t, addr)
		a.send(true, frame.OpText, []byte("block"))
		<-h.blocked
		closed := make(chan struct{})
		go func() { s.Close(); close(closed) }()
		time.Sleep(400 * time.Millisecond) // past abortFor: Close gave up, stops the loops
		close(h.block)
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatal("Close did not return")
		}
		if n := s.e.Census.Live.Load(); n != 0 {
			t.Fatalf("%d connections live after Close", n)
		}
		if o, c := h.opened.Load(), h.closed.Load(); o != 2 || c != 2 {
			t.Fatalf("%d opened, %d closed when Close returned", o, c)
		}
		b.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, b.nc); err != nil {
			t.Fatalf("the other connection's socket: %v (not closed)", err)
		}
	})
}

// blocker counts opens and closes; a message "block" waits until block is
// closed (blocked tells it began).
type blocker struct {
	openCloseCounter
	block   chan struct{}
	blocked chan struct{}
}

func (h *blocker) OnMessage(c *Conn, op frame.Opcode, p []byte) {
	if string(p) == "block" {
		h.blocked <- struct{}{}
		<-h.block
	}
}
