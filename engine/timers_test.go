package engine

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

func fastTimers(cfg Config) Config {
	cfg.TimerResolution = 10 * time.Millisecond
	return cfg
}

func TestKeepaliveDropsSilentPeer(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg = fastTimers(cfg)
		cfg.PingInterval = 100 * time.Millisecond
		cfg.PongTimeout = 100 * time.Millisecond
		h := newEcho()
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		hd, _, err := rc.readFrame()
		if err != nil || hd.Opcode != frame.OpPing {
			t.Fatalf("want a keepalive ping, got %v %v", hd.Opcode, err)
		}
		// No answer: dropped without a close frame.
		r := h.waitClose(t)
		if !errors.Is(r.err, ErrPeerTimeout) || r.code != frame.StatusAbnormalClosure {
			t.Fatalf("OnClose = %d %v", r.code, r.err)
		}
		rc.expectEOF()
	})
}

func TestKeepaliveKeepsLivePeer(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg = fastTimers(cfg)
		cfg.PingInterval = 60 * time.Millisecond
		cfg.PongTimeout = 2 * time.Second // generous: the machine may be loaded
		h := newEcho()
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		pings := 0
		deadline := time.Now().Add(600 * time.Millisecond)
		for time.Now().Before(deadline) {
			rc.nc.SetReadDeadline(deadline)
			hd, p, err := rc.readFrame()
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				break
			}
			if err != nil {
				t.Fatalf("connection dropped: %v", err)
			}
			if hd.Opcode == frame.OpPing {
				pings++
				rc.send(true, frame.OpPong, p)
			}
		}
		if pings < 2 {
			t.Fatalf("%d keepalive pings in 600ms with a 60ms interval", pings)
		}
		select {
		case r := <-h.closed:
			t.Fatalf("live peer dropped: %d %v", r.code, r.err)
		default:
		}
	})
}

func TestKeepalivePingOnlyNeverDrops(t *testing.T) {
	t.Parallel()
	cfg := fastTimers(Config{PingInterval: 50 * time.Millisecond, PongTimeout: -1})
	h := newEcho()
	_, addr := startServer(t, h, cfg, nil)
	rc := dialRaw(t, addr)
	pings := 0
	rc.nc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	for {
		hd, _, err := rc.readFrame()
		if err != nil {
			break
		}
		if hd.Opcode == frame.OpPing {
			pings++
		}
	}
	if pings < 2 {
		t.Fatalf("%d pings", pings)
	}
	select {
	case r := <-h.closed:
		t.Fatalf("dropped with PongTimeout < 0: %d %v", r.code, r.err)
	default:
	}
}

func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg = fastTimers(cfg)
		cfg.PingInterval = -1
		cfg.IdleTimeout = 100 * time.Millisecond
		h := newEcho()
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		if reason := rc.expectClose(frame.StatusGoingAway); reason != "idle timeout" {
			t.Fatalf("reason %q", reason)
		}
		rc.send(true, frame.OpClose, []byte{0x03, 0xe9})
		rc.expectEOF()
		r := h.waitClose(t)
		if r.code != frame.StatusGoingAway {
			t.Fatalf("OnClose = %d %v", r.code, r.err)
		}
	})
}

func TestHandshakeTimeout(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg = fastTimers(cfg)
		cfg.HandshakeTimeout = 100 * time.Millisecond
		s, addr := startServer(t, newEcho(), cfg, nil)
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n")) // and then nothing
		start := time.Now()
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		var b [1]byte
		if _, err := nc.Read(b[:]); err == nil {
			t.Fatal("read data from a timed-out handshake")
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("a silent client held its slot past the handshake timeout")
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("closed after %v", d)
		}
		waitFor(t, func() bool { return s.NumConns() == 0 })
	})
}

// waitFor polls cond for up to 10 s.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
