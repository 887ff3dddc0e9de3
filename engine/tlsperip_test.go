package engine

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"testing"
	"time"
)

// MaxConnsPerIP over wss: a TLS handshake in progress counts under its
// address, on ListenTLS (for the connection's whole life) and on a
// TLSListener (until the handshake ends; net/http's connections are
// net/http's until ServeHTTP upgrades one, which counts it again). Without
// it, one address dripping ClientHellos holds every MaxTLSHandshakes slot
// and nobody else gets a handshake until HandshakeTimeout.
func TestTLSPerIPHandshakes(t *testing.T) {
	t.Parallel()
	const perIP, slots = 2, 3
	cfg := Config{MaxConnsPerIP: perIP, MaxTLSHandshakes: slots, HandshakeTimeout: 4 * time.Second}
	forTLSListeners(t, cfg, func(t *testing.T, s *Server, addr string) {
		// Silent connections from 127.0.0.1: two take handshake slots,
		// the ones over the cap are closed at their accept.
		var silent []net.Conn
		for range slots + 1 {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			silent = append(silent, nc)
		}
		// Each read at once, in parallel: a read past its deadline reports
		// the deadline even when the peer's FIN is there.
		gone := make(chan bool, len(silent))
		for _, nc := range silent {
			go func() {
				nc.SetReadDeadline(time.Now().Add(time.Second))
				_, err := nc.Read(make([]byte, 1))
				gone <- !errors.Is(err, os.ErrDeadlineExceeded)
			}()
		}
		closed := 0
		for range silent {
			if <-gone {
				closed++
			}
		}
		if closed != len(silent)-perIP {
			t.Errorf("%d of %d silent connections from one address closed at once, want %d", closed, len(silent), len(silent)-perIP)
		}
		// Another address gets a slot at once.
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Deadline: time.Now().Add(2 * time.Second)}
		other, err := tls.DialWithDialer(d, "tcp", addr, clientTLS(t))
		if err != nil {
			t.Fatalf("a handshake from 127.0.0.2 beside 127.0.0.1's silent connections: %v", err)
		}
		other.Close()
		for _, nc := range silent {
			nc.Close()
		}
		lo := netip.MustParseAddr("127.0.0.1")
		for start := time.Now(); s.e.Gate.PerIP().Count(lo) != 0; time.Sleep(5 * time.Millisecond) {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("127.0.0.1 still counts %d after its connections closed", s.e.Gate.PerIP().Count(lo))
			}
		}
	})
}

// TestTLSListenerPerIPLife: on a TLSListener a connection counts under
// MaxConnsPerIP while its handshake runs and again once upgraded, not while
// net/http serves it plain HTTPS: with a cap of one, three kept-alive HTTPS
// connections from one address are served, then one of them upgrades, and a
// second upgrade from that address gets 503 while the first is open.
func TestTLSListenerPerIPLife(t *testing.T) {
	t.Parallel()
	ls := startLate(t, Config{MaxConnsPerIP: 1}, nil)
	lo := netip.MustParseAddr("127.0.0.1")
	get := func(tc *tls.Conn, br *bufio.Reader) int {
		io.WriteString(tc, "GET /plain?n=3 HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	upgrade := func(tc *tls.Conn, br *bufio.Reader) int {
		io.WriteString(tc, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: "+testKey+"\r\nSec-WebSocket-Version: 13\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	type held struct {
		tc *tls.Conn
		br *bufio.Reader
	}
	var conns []held
	for i := range 3 {
		tc, br := ls.dialTLS(t)
		if code := get(tc, br); code != http.StatusOK {
			t.Fatalf("HTTPS connection %d: %d", i, code)
		}
		conns = append(conns, held{tc, br})
	}
	if n := ls.s.e.Gate.PerIP().Count(lo); n != 0 {
		t.Fatalf("three handshaken HTTPS connections count %d under MaxConnsPerIP, want 0", n)
	}
	if code := upgrade(conns[0].tc, conns[0].br); code != http.StatusSwitchingProtocols {
		t.Fatalf("first upgrade: %d", code)
	}
	ls.h.open(t)
	if n := ls.s.e.Gate.PerIP().Count(lo); n != 1 {
		t.Fatalf("an open wss connection counts %d, want 1", n)
	}
	if code := upgrade(conns[1].tc, conns[1].br); code != http.StatusServiceUnavailable {
		t.Fatalf("second upgrade from the address at its cap: %d, want 503", code)
	}
	conns[0].tc.Close()
	for start := time.Now(); ls.s.e.Gate.PerIP().Count(lo) != 0; time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatal("the closed wss connection still counts")
		}
	}
	if code := upgrade(conns[2].tc, conns[2].br); code != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade after the first closed: %d", code)
	}
}

// forTLSListeners runs test, in parallel, against a Server with cfg serving
// wss both ways a Server takes TLS itself: ListenTLS, and a TLSListener under
// an http.Server (ServeHTTP).
func forTLSListeners(t *testing.T, cfg Config, test func(t *testing.T, s *Server, addr string)) {
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) (*Server, string)
	}{
		{"ListenTLS", func(t *testing.T) (*Server, string) { return startTLS(t, echoOnly{}, cfg) }},
		{"TLSListener", func(t *testing.T) (*Server, string) { ls := startLate(t, cfg, nil); return ls.s, ls.addr }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, addr := tc.start(t)
			test(t, s, addr)
		})
	}
}
