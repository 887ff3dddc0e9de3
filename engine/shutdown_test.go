package engine

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// Server.Shutdown and Server.Close: what open connections, handshakes in flight and
// new connections see, what OnClose reports, and the counters before and after.

// sdHandler hands out server Conns and records every OnClose.
type sdHandler struct {
	NopHandler
	opened chan *Conn
	closed chan closeRecord
}

func newSDHandler() *sdHandler {
	return &sdHandler{opened: make(chan *Conn, 16), closed: make(chan closeRecord, 16)}
}

func (h *sdHandler) OnOpen(c *Conn) { h.opened <- c }

func (h *sdHandler) OnClose(c *Conn, code frame.StatusCode, reason string, err error) {
	h.closed <- closeRecord{code, reason, err}
}

func (h *sdHandler) waitClose(t testing.TB) closeRecord {
	t.Helper()
	select {
	case r := <-h.closed:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no OnClose within 10s")
	}
	return closeRecord{}
}

// sdOpen dials n clients and waits until the server has opened them all.
func sdOpen(t *testing.T, s *Server, h *sdHandler, addr string, n int) []*rawClient {
	t.Helper()
	var rcs []*rawClient
	for range n {
		rcs = append(rcs, dialRaw(t, addr))
		select {
		case <-h.opened:
		case <-time.After(10 * time.Second):
			t.Fatal("no OnOpen")
		}
	}
	return rcs
}

func countConns(s *Server) int {
	n := 0
	for range s.Conns() {
		n++
	}
	return n
}

// sdShutdown runs Shutdown(ctx) with a bound of its own, so that a Shutdown that
// never returns fails the test instead of hanging it.
func sdShutdown(t *testing.T, s *Server, ctx context.Context) <-chan error {
	t.Helper()
	ch := make(chan error, 1)
	go func() { ch <- s.Shutdown(ctx) }()
	return ch
}

func sdWait(t *testing.T, ch <-chan error, within time.Duration) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(within):
		t.Fatalf("Shutdown did not return within %v", within)
	}
	return nil
}

// TestShutdownGraceful: every open connection gets 1001; once all have answered,
// Shutdown returns nil, and the counters are zero.
func TestShutdownGraceful(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.PingInterval = -1
		h := newSDHandler()
		s, addr := startServer(t, h, cfg, nil)
		rcs := sdOpen(t, s, h, addr, 3)
		if n := s.NumConns(); n != 3 {
			t.Fatalf("NumConns %d before Shutdown, want 3", n)
		}
		if n := countConns(s); n != 3 {
			t.Fatalf("Conns yields %d before Shutdown, want 3", n)
		}
		done := sdShutdown(t, s, context.Background())
		for i, rc := range rcs {
			if reason := rc.expectClose(frame.StatusGoingAway); reason == "" {
				t.Logf("client %d: 1001 without a reason", i)
			}
			select {
			case err := <-done:
				t.Fatalf("Shutdown returned %v before client %d answered", err, i)
			default:
			}
			rc.send(true, frame.OpClose, []byte{0x03, 0xe9})
			rc.expectEOF()
		}
		if err := sdWait(t, done, 10*time.Second); err != nil {
			t.Fatalf("Shutdown = %v, want nil", err)
		}
		for range rcs {
			if r := h.waitClose(t); r.code != frame.StatusGoingAway || r.err != nil {
				t.Errorf("OnClose = %d %q %v, want 1001 nil", r.code, r.reason, r.err)
			}
		}
		if n := s.NumConns(); n != 0 {
			t.Errorf("NumConns %d after Shutdown", n)
		}
		if n := countConns(s); n != 0 {
			t.Errorf("Conns yields %d after Shutdown", n)
		}
		if err := s.Listen("127.0.0.1:0"); !errors.Is(err, ErrServerClosed) {
			t.Errorf("Listen after Shutdown = %v, want ErrServerClosed", err)
		}
	})
}

// TestShutdownDeadline: a client that never answers the 1001 makes Shutdown return
// ctx.Err() when ctx ends, and its connection is closed anyway.
func TestShutdownDeadline(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.PingInterval = -1
		cfg.CloseTimeout = time.Minute // only Shutdown can end the connection in time
		h := newSDHandler()
		s, addr := startServer(t, h, cfg, nil)
		rcs := sdOpen(t, s, h, addr, 2)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		done := sdShutdown(t, s, ctx)
		// One client answers, the other reads the 1001 and stays silent.
		rcs[0].expectClose(frame.StatusGoingAway)
		rcs[0].send(true, frame.OpClose, []byte{0x03, 0xe9})
		rcs[0].expectEOF()
		rcs[1].expectClose(frame.StatusGoingAway)
		if err := sdWait(t, done, 10*time.Second); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Shutdown = %v, want context.DeadlineExceeded", err)
		}
		// The silent client's connection is closed by the server.
		rcs[1].nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _, err := rcs[1].readFrame()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("Shutdown returned but left the silent client's connection open")
		}
		codes := map[frame.StatusCode]int{}
		for range 2 {
			r := h.waitClose(t)
			codes[r.code]++
			if r.code == frame.StatusAbnormalClosure && r.err == nil {
				t.Errorf("forced close reported without an error")
			}
		}
		if codes[frame.StatusGoingAway] != 1 || codes[frame.StatusAbnormalClosure] != 1 {
			t.Errorf("OnClose codes %v, want one 1001 and one 1006", codes)
		}
		if n := s.NumConns(); n != 0 {
			t.Errorf("NumConns %d after a forced Shutdown", n)
		}
	})
}

// TestShutdownHandshakeInFlight: a handshake whose request is only partly sent when
// Shutdown starts is answered 503 once complete (or at once); Shutdown returns nil.
func TestShutdownHandshakeInFlight(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		h := newSDHandler()
		s, addr := startServer(t, h, cfg, nil)
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
		half := len(req) / 2
		if _, err := io.WriteString(nc, req[:half]); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return s.NumConns() == 1 })
		time.Sleep(20 * time.Millisecond) // let the server read the first half
		done := sdShutdown(t, s, context.Background())
		time.Sleep(20 * time.Millisecond)
		io.WriteString(nc, req[half:]) // the server may have answered and closed already
		nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
		if err != nil {
			t.Fatalf("reading the answer to a handshake in flight: %v", err)
		}
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("status %d, want 503", resp.StatusCode)
		}
		if err := sdWait(t, done, 10*time.Second); err != nil {
			t.Fatalf("Shutdown = %v, want nil", err)
		}
		if n := s.NumConns(); n != 0 {
			t.Errorf("NumConns %d after Shutdown", n)
		}
		select {
		case <-h.opened:
			t.Error("OnOpen for a handshake answered 503")
		default:
		}
	})
}

// TestShutdownRefusesNewConns: after Shutdown no new connection is served: the dial is
// refused or the connection ends without a 101.
func TestShutdownRefusesNewConns(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		s, addr := startServer(t, newSDHandler(), cfg, nil)
		if err := sdWait(t, sdShutdown(t, s, context.Background()), 10*time.Second); err != nil {
			t.Fatalf("Shutdown of an idle server = %v", err)
		}
		for i := range 3 {
			nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				continue // refused: the listener is gone
			}
			nc.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(nc, "GET /ws HTTP/1.1\r\nHost: "+addr+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
				"Sec-WebSocket-Key: "+testKey+"\r\nSec-WebSocket-Version: 13\r\n\r\n")
			got, err := io.ReadAll(nc)
			nc.Close()
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("dial %d after Shutdown: connection accepted and left open", i)
			}
			if strings.HasPrefix(string(got), "HTTP/1.1 101") {
				t.Fatalf("dial %d after Shutdown was upgraded", i)
			}
		}
		if n := s.NumConns(); n != 0 {
			t.Errorf("NumConns %d", n)
		}
	})
}

// TestServerCloseAbortsAll: Close ends every connection at once without a close
// frame, handshakes in flight included; OnClose reports 1006 ErrAborted.
func TestServerCloseAbortsAll(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.PingInterval = -1
		h := newSDHandler()
		s, addr := startServer(t, h, cfg, nil)
		rcs := sdOpen(t, s, h, addr, 2)
		pending, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer pending.Close()
		io.WriteString(pending, "GET /ws HTTP/1.1\r\n")
		waitFor(t, func() bool { return s.NumConns() == 3 })
		if n := countConns(s); n != 2 {
			t.Fatalf("Conns yields %d, want the 2 open ones", n)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
		if n := s.NumConns(); n != 0 {
			t.Errorf("NumConns %d right after Close", n)
		}
		if n := countConns(s); n != 0 {
			t.Errorf("Conns yields %d after Close", n)
		}
		for i, rc := range rcs {
			rc.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			hd, _, err := rc.readFrame()
			if err == nil {
				t.Fatalf("client %d got a %v frame from Close", i, hd.Opcode)
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("client %d still connected after Close", i)
			}
		}
		pending.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, err := io.ReadAll(pending)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("handshake in flight still connected after Close")
		} else if len(got) != 0 {
			t.Errorf("handshake in flight got %q; want a plain close", got)
		}
		for range rcs {
			if r := h.waitClose(t); r.code != frame.StatusAbnormalClosure || !errors.Is(r.err, ErrAborted) {
				t.Errorf("OnClose = %d %v, want 1006 ErrAborted", r.code, r.err)
			}
		}
	})
}

// tcpPairRaw returns both ends of a real TCP connection: the server end to be
// adopted, the client end wrapped as a rawClient.
func tcpPairRaw(t *testing.T) (net.Conn, *rawClient) {
	t.Helper()
	cc, sc := tcpPair(t)
	cc.SetDeadline(time.Now().Add(20 * time.Second))
	return sc, &rawClient{t: t, nc: cc, br: bufio.NewReader(cc)}
}

// TestAdoptDuringShutdown hands connections to Adopt (as ServeHTTP does after
// net/http wrote the 101) while Shutdown runs and after it returned. Each one
// must get a going-away close frame and then the end of TCP: none may be
// dropped without a close frame (Shutdown's scan missed it) or left open on
// loops that have stopped.
func TestAdoptDuringShutdown(t *testing.T) {
	forModes(t, func(t *testing.T, cfg Config) {
		t.Run("after", func(t *testing.T) {
			t.Parallel()
			s, err := NewServer(NopHandler{}, &cfg, nil) // records nothing: 40 OnCloses must not block
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			sc, rc := tcpPairRaw(t)
			s.Adopt(sc, nil, nil)
			if reason := rc.expectClose(frame.StatusGoingAway); reason != "server shutting down" {
				t.Errorf("reason %q", reason)
			}
			rc.expectEOF()
		})
		t.Run("racing", func(t *testing.T) {
			t.Parallel()
			s, err := NewServer(NopHandler{}, &cfg, nil) // records nothing: 40 OnCloses must not block
			if err != nil {
				t.Fatal(err)
			}
			const n = 40
			clients := make([]*rawClient, n)
			servers := make([]net.Conn, n)
			for i := range n {
				servers[i], clients[i] = tcpPairRaw(t)
			}
			start := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				<-start
				for _, sc := range servers {
					s.Adopt(sc, nil, nil)
				}
			}()
			sdErr := make(chan error, 1)
			go func() {
				<-start
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				defer cancel()
				sdErr <- s.Shutdown(ctx)
			}()
			close(start)
			for _, rc := range clients {
				rc.expectClose(frame.StatusGoingAway)
				rc.send(true, frame.OpClose, []byte{0x03, 0xe9}) // the close reply, 1001
				rc.expectEOF()
			}
			<-done
			if err := <-sdErr; err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			if n := s.NumConns(); n != 0 {
				t.Fatalf("%d connections left", n)
			}
		})
	})
}

// TestBusyAfterOpen: Shutdown's 503 request (rejectBusy) that reaches a
// connection whose handshake has completed meanwhile, or a late accept's, gives
// the open connection going-away, not nothing and not an abort. Both once
// happened: the connection stayed open until Shutdown's ctx ended, or the last
// client of TestShutdownGraceful read EOF instead of 1001 (about 1 run in 300).
func TestBusyAfterOpen(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.PingInterval = -1
		h := newSDHandler()
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		var c *Conn
		select {
		case c = <-h.opened:
		case <-time.After(10 * time.Second):
			t.Fatal("no OnOpen")
		}
		c.c.RejectBusy()
		if reason := rc.expectClose(frame.StatusGoingAway); reason != "server shutting down" {
			t.Errorf("reason %q", reason)
		}
		rc.send(true, frame.OpClose, []byte{0x03, 0xe9})
		rc.expectEOF()
		if r := h.waitClose(t); r.code != frame.StatusGoingAway || r.err != nil {
			t.Fatalf("OnClose = %d %q %v, want 1001 nil", r.code, r.reason, r.err)
		}
	})
}
