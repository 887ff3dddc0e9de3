package engine

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// TestNoIPLimits: a Server without MaxConnsPerIP has no per-IP counter (the
// counting itself is internal/iplimit's, tested there).
func TestNoIPLimits(t *testing.T) {
	t.Parallel()
	s, err := NewServer(NopHandler{}, &Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.e.Gate.PerIP() != nil {
		t.Fatal("Server without MaxConnsPerIP has a per-IP counter")
	}
}

// capHandler counts opens and closes.
type capHandler struct {
	NopHandler
	opens, closes atomic.Int32
}

func (h *capHandler) OnOpen(*Conn)                                   { h.opens.Add(1) }
func (h *capHandler) OnClose(*Conn, frame.StatusCode, string, error) { h.closes.Add(1) }

// capEntry is one way into a Server. open connects from the local address
// from (nil: any) and returns the open client, or nil after checking that the
// connection was refused the way this entry refuses.
type capEntry struct {
	name  string
	start func(t *testing.T, s *Server) func(t *testing.T, from net.IP) *rawClient
}

// capDial connects to addr from the local IP from and sends a handshake.
func capDial(t *testing.T, addr string, from net.IP) (net.Conn, *bufio.Reader) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if from != nil {
		d.LocalAddr = &net.TCPAddr{IP: from}
	}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Skipf("dial from %v: %v", from, err) // no 127.0.0.2 on this system
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(nc, "GET /ws HTTP/1.1\r\nHost: "+addr+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: "+testKey+"\r\nSec-WebSocket-Version: 13\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	return nc, bufio.NewReader(nc)
}

// capHTTPOpen opens a connection through a handshake, or checks the refusal:
// the TCP connection dropped before any answer (dropped), or the 503 of
// ServeHTTP.
func capHTTPOpen(t *testing.T, addr string, from net.IP, dropped bool) *rawClient {
	t.Helper()
	nc, br := capDial(t, addr, from)
	resp, err := http.ReadResponse(br, nil)
	if dropped {
		var ne net.Error
		if err == nil || errors.As(err, &ne) && ne.Timeout() {
			if err == nil && resp.StatusCode == 101 {
				return &rawClient{t: t, nc: nc, br: br}
			}
			t.Fatalf("over the cap: answer %v, err %v; want the connection dropped", resp, err)
		}
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	switch resp.StatusCode {
	case 101:
		return &rawClient{t: t, nc: nc, br: br}
	case 503:
		body, _ := io.ReadAll(resp.Body)
		if resp.Header.Get("Retry-After") == "" || !resp.Close || !strings.HasPrefix(string(body), "too many connections") {
			t.Fatalf("503 without Retry-After, close or reason: %v %q", resp.Header, body)
		}
		(&rawClient{t: t, nc: nc, br: br}).expectEOF()
		return nil
	}
	t.Fatalf("status %d", resp.StatusCode)
	return nil
}

var capEntries = []capEntry{
	{"listener", func(t *testing.T, s *Server) func(*testing.T, net.IP) *rawClient {
		if err := s.Listen("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		addr := s.Addr().String()
		return func(t *testing.T, from net.IP) *rawClient { return capHTTPOpen(t, addr, from, true) }
	}},
	{"ServeHTTP", func(t *testing.T, s *Server) func(*testing.T, net.IP) *rawClient {
		ts := httptest.NewServer(s)
		t.Cleanup(ts.Close)
		addr := ts.Listener.Addr().String()
		return func(t *testing.T, from net.IP) *rawClient { return capHTTPOpen(t, addr, from, false) }
	}},
	{"Adopt", func(t *testing.T, s *Server) func(*testing.T, net.IP) *rawClient {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		return func(t *testing.T, from net.IP) *rawClient {
			t.Helper()
			d := net.Dialer{Timeout: 5 * time.Second}
			if from != nil {
				d.LocalAddr = &net.TCPAddr{IP: from}
			}
			cc, err := d.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Skipf("dial from %v: %v", from, err)
			}
			sc, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cc.Close(); sc.Close() })
			cc.SetDeadline(time.Now().Add(20 * time.Second))
			rc := &rawClient{t: t, nc: cc, br: bufio.NewReader(cc)}
			c := s.Adopt(sc, nil, nil)
			if c.State() != StateClosed {
				return rc
			}
			if code, reason := c.CloseStatus(); code != frame.StatusTryAgainLater || reason != "try again later" {
				t.Fatalf("refused Conn: CloseStatus %d %q", code, reason)
			}
			if reason := rc.expectClose(frame.StatusTryAgainLater); reason != "try again later" {
				t.Fatalf("close reason %q", reason)
			}
			rc.expectEOF()
			return nil
		}
	}},
}

// closeClient ends an open client connection with a clean close handshake.
func closeClient(rc *rawClient) {
	rc.t.Helper()
	rc.send(true, frame.OpClose, []byte{0x03, 0xe8})
	rc.expectClose(frame.StatusNormalClosure)
	rc.expectEOF()
}

// TestConnCaps: MaxConns and MaxConnsPerIP hold at every way in (the Server's
// listener on a loop or, in goroutine mode, in acceptLoop; ServeHTTP; Adopt),
// each refusing its own way, and a place freed is taken again. The per-IP
// count covers a connection from accept to its end and goes back to zero.
func TestConnCaps(t *testing.T) {
	t.Parallel()
	local, other := net.IPv4(127, 0, 0, 1), net.IPv4(127, 0, 0, 2)
	limits := []struct {
		name       string
		cfg        Config
		otherFits  bool // a connection from another address fits while 127.0.0.1 is at the cap
		wantPerIP  bool
		refusedErr error
	}{
		{"MaxConns", Config{MaxConns: 2}, false, false, ErrTooManyConns},
		{"MaxConnsPerIP", Config{MaxConnsPerIP: 2}, true, true, ErrTooManyConns},
	}
	for _, lim := range limits {
		for _, entry := range capEntries {
			t.Run(lim.name+"/"+entry.name, func(t *testing.T) {
				t.Parallel()
				forModes(t, func(t *testing.T, cfg Config) {
					cfg.MaxConns, cfg.MaxConnsPerIP = lim.cfg.MaxConns, lim.cfg.MaxConnsPerIP
					h := &capHandler{}
					var mu sync.Mutex
					var refusals []*upgrade.HandshakeError
					u := &upgrade.Upgrader{OnHandshakeError: func(_ netip.AddrPort, _ *http.Request, err *upgrade.HandshakeError) {
						mu.Lock()
						refusals = append(refusals, err)
						mu.Unlock()
					}}
					s, err := NewServer(h, &cfg, u)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { s.Close() })
					if (s.e.Gate.PerIP() != nil) != lim.wantPerIP {
						t.Fatalf("per-IP counter %v", s.e.Gate.PerIP())
					}
					open := entry.start(t, s)
					ip := netip.MustParseAddr("127.0.0.1")

					c1, c2 := open(t, local), open(t, local)
					if c1 == nil || c2 == nil {
						t.Fatal("refused under the cap")
					}
					waitFor(t, func() bool { return s.NumConns() == 2 })
					if open(t, local) != nil {
						t.Fatal("a third connection was let in")
					}
					waitFor(t, func() bool { return s.NumConns() == 2 })
					if lim.wantPerIP && s.e.Gate.PerIP().Count(ip) != 2 {
						t.Fatalf("per-IP count %d after a refusal, want 2", s.e.Gate.PerIP().Count(ip))
					}
					if c3 := open(t, other); (c3 != nil) != lim.otherFits {
						t.Fatalf("from another address: open %v, want %v", c3 != nil, lim.otherFits)
					} else if c3 != nil {
						closeClient(c3)
					}
					// A place freed is taken again.
					closeClient(c1)
					waitFor(t, func() bool { return s.NumConns() == 1 })
					c4 := open(t, local)
					if c4 == nil {
						t.Fatal("refused after a place was freed")
					}
					closeClient(c2)
					closeClient(c4)
					waitFor(t, func() bool { return s.NumConns() == 0 && s.e.Gate.PerIP().Count(ip) == 0 })
					if s.e.Gate.PerIP() != nil {
						n := s.e.Gate.PerIP().Len()
						if n != 0 {
							t.Fatalf("per-IP map keeps %d addresses", n)
						}
					}
					// Refused connections never reach the Handler: OnOpen for
					// c1, c2, c4 (and c3 when it fit), each with its OnClose.
					want := int32(3)
					if lim.otherFits {
						want = 4
					}
					waitFor(t, func() bool { return h.closes.Load() == want })
					if o := h.opens.Load(); o != want {
						t.Fatalf("OnOpen %d, OnClose %d; want %d each", o, h.closes.Load(), want)
					}
					mu.Lock()
					defer mu.Unlock()
					for _, r := range refusals {
						if entry.name != "ServeHTTP" || r.Status != 503 || !errors.Is(r, lim.refusedErr) {
							t.Errorf("OnHandshakeError %v (%s)", r, entry.name)
						}
					}
					if entry.name == "ServeHTTP" && len(refusals) == 0 {
						t.Error("ServeHTTP's 503 not told to OnHandshakeError")
					}
				})
			})
		}
	}
}

// TestAdoptRemoteAddrMoved: when ServeHTTP counted one address and the
// hijacked connection has another (a middleware rewrote RemoteAddr), the
// count follows the connection, and nothing is left behind.
func TestAdoptRemoteAddrMoved(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.MaxConnsPerIP = 1
		s, _ := nhNewServer(t, cfg)
		fake := netip.MustParseAddr("203.0.113.9")
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.RemoteAddr = "203.0.113.9:4000" // as a RealIP middleware would
			s.ServeHTTP(w, r)
		}))
		t.Cleanup(ts.Close)
		rc := dialRaw(t, ts.Listener.Addr().String())
		local := netip.MustParseAddr("127.0.0.1")
		// The Conn is counted (NumConns) before adopt moves the address's
		// count: wait for the move, not for the Conn.
		waitFor(t, func() bool { return s.NumConns() == 1 && s.e.Gate.PerIP().Count(local) == 1 })
		if a, b := s.e.Gate.PerIP().Count(fake), s.e.Gate.PerIP().Count(local); a != 0 || b != 1 {
			t.Fatalf("counts: rewritten address %d, TCP peer %d", a, b)
		}
		closeClient(rc)
		waitFor(t, func() bool { return s.NumConns() == 0 && s.e.Gate.PerIP().Count(local) == 0 })
	})
}

// TestServeHTTPHandshakeTimeout: Config.HandshakeTimeout bounds ServeHTTP's
// handshake (a deferred decision never made is answered 503) through the
// Server's own copy of the Upgrader; the caller's stays as it was, and an
// Upgrader's own timeout wins.
func TestServeHTTPHandshakeTimeout(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		cfg     time.Duration // Config.HandshakeTimeout
		upg     time.Duration // the caller's Upgrader.HandshakeTimeout
		want    time.Duration // the Server's Upgrader.HandshakeTimeout
		timesUp bool          // a deferred decision never made gets 503
	}{
		{"default", 0, 0, 10 * time.Second, false},
		{"from Config", 150 * time.Millisecond, 0, 150 * time.Millisecond, true},
		{"Upgrader's own", 0, 150 * time.Millisecond, 150 * time.Millisecond, true},
		{"none", -1, 0, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			handles := make(chan *upgrade.Handle, 1)
			u := &upgrade.Upgrader{HandshakeTimeout: tc.upg, Verify: func(r *upgrade.Request, d *upgrade.Decision) {
				handles <- d.Defer()
			}}
			s, err := NewServer(newEcho(), &Config{HandshakeTimeout: tc.cfg}, u)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			if s.upg.HandshakeTimeout != tc.want || u.HandshakeTimeout != tc.upg {
				t.Fatalf("Server's timeout %v (want %v), caller's %v", s.upg.HandshakeTimeout, tc.want, u.HandshakeTimeout)
			}
			if !tc.timesUp {
				return
			}
			ts := httptest.NewServer(s)
			t.Cleanup(ts.Close)
			addr := ts.Listener.Addr().String()
			rc, resp := vfSend(t, addr, vfRequest("GET", "/ws", addr, vfStd...))
			rc.expectRejected(resp, 503, "verification timed out")
			h := <-handles
			if err := h.Accept(upgrade.Acceptance{}); err != upgrade.ErrCanceled {
				t.Fatalf("Accept after the timeout: %v", err)
			}
			if s.NumConns() != 0 {
				t.Fatalf("%d connections", s.NumConns())
			}
		})
	}
}
