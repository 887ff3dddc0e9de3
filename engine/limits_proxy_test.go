package engine

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/weir-ws/weir/upgrade"
)

// handshakeStatus dials addr, sends a handshake with extra header lines and
// returns the answer's status (0 when the server closed without one) and the
// connection, closed when the test ends.
func handshakeStatus(t *testing.T, addr string, extra ...string) (int, net.Conn) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n" + strings.Join(extra, "\r\n") + "\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		return 0, nc
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		return 0, nc
	}
	return resp.StatusCode, nc
}

// Behind a trusted proxy MaxConnsPerIP counts the client IP the handshake
// resolves, not the proxy's: on the engine's own listener and through
// ServeHTTP.
func TestMaxConnsPerIPBehindProxy(t *testing.T) {
	for _, via := range []string{"listener", "nethttp"} {
		t.Run(via, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				cfg.MaxConnsPerIP = 2
				u := &upgrade.Upgrader{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
				var addr string
				var s *Server
				if via == "listener" {
					s, addr = startServer(t, newEcho(), cfg, u)
				} else {
					var err error
					if s, err = NewServer(newEcho(), &cfg, u); err != nil {
						t.Fatal(err)
					}
					hs := httptest.NewServer(s)
					t.Cleanup(func() { hs.Close(); s.Close() })
					addr = hs.Listener.Addr().String()
				}
				var conns []net.Conn
				for _, client := range []string{"203.0.113.1", "203.0.113.2"} {
					for i, want := range []int{101, 101, 503} {
						st, nc := handshakeStatus(t, addr, "X-Forwarded-For: "+client)
						if st != want {
							t.Fatalf("client %s, connection %d: status %d, want %d", client, i+1, st, want)
						}
						if st == 101 {
							conns = append(conns, nc)
						}
					}
				}
				for _, nc := range conns {
					nc.Close()
				}
				deadline := time.Now().Add(10 * time.Second)
				for s.e.Gate.PerIP().Count(netip.MustParseAddr("203.0.113.1"))+s.e.Gate.PerIP().Count(netip.MustParseAddr("127.0.0.1")) != 0 {
					if time.Now().After(deadline) {
						t.Fatal("per-IP counts never went back to zero")
					}
					time.Sleep(5 * time.Millisecond)
				}
			})
		})
	}
}
