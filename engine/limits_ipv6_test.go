package engine

import (
	"crypto/tls"
	"net"
	"net/http/httptest"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/weir-ws/weir/upgrade"
)

// listenV6 listens on [::1]:0, or skips the test on a machine with no IPv6
// loopback (under CI=true that is a failure: CI must run it).
func listenV6(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no IPv6 loopback under CI: %v", err)
		}
		t.Skipf("no IPv6 loopback: %v", err)
	}
	return ln
}

// MaxConnsPerIP on real sockets from [::1]: the connections count under
// ::1's /64 (so ::2 sees them too) at every way in, the engine's listener in
// each mode, ServeHTTP, ListenTLS; the one over the cap is refused. (The
// counting over many addresses is internal/admit's and internal/iplimit's
// test: the loopback has one.)
func TestMaxConnsPerIPv6Prefix(t *testing.T) {
	t.Parallel()
	listenV6(t).Close()
	const perIP = 2
	sibling := netip.MustParseAddr("::2") // ::1's /64
	type way struct {
		name  string
		start func(t *testing.T, cfg Config) (*Server, string)
		dial  func(t *testing.T, addr string) (ok bool)
	}
	dialWS := func(t *testing.T, addr string) bool {
		st, _ := handshakeStatus(t, addr)
		return st == 101
	}
	listen := func(t *testing.T, cfg Config) (*Server, string) {
		s, err := NewServer(newEcho(), &cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.Listen("[::1]:0"); err != nil {
			t.Fatal(err)
		}
		return s, s.Addr().String()
	}
	ways := []way{
		{"ServeHTTP", func(t *testing.T, cfg Config) (*Server, string) {
			s, err := NewServer(newEcho(), &cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			hs := httptest.NewUnstartedServer(s)
			hs.Listener.Close()
			hs.Listener = listenV6(t)
			hs.Start()
			t.Cleanup(func() { hs.Close(); s.Close() })
			return s, hs.Listener.Addr().String()
		}, dialWS},
		{"ListenTLS", func(t *testing.T, cfg Config) (*Server, string) {
			s, err := NewServer(echoOnly{}, &cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			if err := s.ListenTLS("[::1]:0", &tls.Config{Certificates: []tls.Certificate{cliTestCert(t).cert}}); err != nil {
				t.Fatal(err)
			}
			return s, s.Addr().String()
		}, func(t *testing.T, addr string) bool {
			nc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, clientTLS(t))
			if err != nil {
				return false
			}
			t.Cleanup(func() { nc.Close() })
			nc.SetDeadline(time.Now().Add(20 * time.Second))
			_, resp := handshakeRaw(t, nc, addr)
			return resp != nil && resp.StatusCode == 101
		}},
	}
	for _, m := range modes {
		ways = append(ways, way{"Listen/" + m.name, func(t *testing.T, cfg Config) (*Server, string) {
			cfg.Dispatch, cfg.GoroutinePerConn = m.cfg.Dispatch, m.cfg.GoroutinePerConn
			return listen(t, cfg)
		}, dialWS})
	}
	for _, w := range ways {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			s, addr := w.start(t, Config{MaxConnsPerIP: perIP, HandshakeTimeout: 10 * time.Second})
			for i, want := range []bool{true, true, false} {
				if got := w.dial(t, addr); got != want {
					t.Fatalf("connection %d from ::1: upgraded %v, want %v", i+1, got, want)
				}
			}
			if n := s.e.Gate.PerIP().Count(sibling); n != perIP {
				t.Fatalf("::1's /64 counts %d connections (seen from ::2), want %d", n, perIP)
			}
		})
	}
	// IPv6PrefixLen 128 counts ::1 alone, on the loops as in goroutine mode.
	for _, m := range modes {
		t.Run("128/"+m.name, func(t *testing.T) {
			t.Parallel()
			cfg := Config{MaxConnsPerIP: perIP, IPv6PrefixLen: 128, Dispatch: m.cfg.Dispatch, GoroutinePerConn: m.cfg.GoroutinePerConn}
			s, addr := listen(t, cfg)
			for i, want := range []bool{true, true, false} {
				if got := dialWS(t, addr); got != want {
					t.Fatalf("connection %d from ::1: upgraded %v, want %v", i+1, got, want)
				}
			}
			if a, b := s.e.Gate.PerIP().Count(netip.MustParseAddr("::1")), s.e.Gate.PerIP().Count(sibling); a != perIP || b != 0 {
				t.Fatalf("::1 counts %d, ::2 %d, want %d and 0", a, b, perIP)
			}
		})
	}
}

// Behind a trusted proxy the forwarded IPv6 client counts by its /64 too,
// on the engine's listener in each mode.
func TestMaxConnsPerIPv6BehindProxy(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.MaxConnsPerIP = 2
		u := &upgrade.Upgrader{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
		_, addr := startServer(t, newEcho(), cfg, u)
		for i, tc := range []struct {
			client string
			want   int
		}{
			{"2001:db8:1:2::1", 101}, {"2001:db8:1:2::2", 101},
			{"2001:db8:1:2:ffff::3", 503}, // the /64 is full
			{"2001:db8:1:3::1", 101},      // another /64
		} {
			if st, _ := handshakeStatus(t, addr, "X-Forwarded-For: "+tc.client); st != tc.want {
				t.Fatalf("client %d (%s): status %d, want %d", i+1, tc.client, st, tc.want)
			}
		}
	})
}
