//go:build linux

package engine

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/weir-ws/weir/internal/sock"
	"github.com/weir-ws/weir/internal/sock/socktest"
)

type tcpOpts = socktest.TCPOpts

// withTCPFD runs f on the socket under a TCP net.Conn (or the one under a *tls.Conn).
func withTCPFD(t testing.TB, nc net.Conn, f func(fd int)) {
	t.Helper()
	socktest.WithFD(t, sock.TCPConnOf(nc), f)
}

// connTCPOpts reads the options of c's socket: its fd on the loops, the net.Conn's
// in goroutine mode.
func connTCPOpts(t testing.TB, c *Conn) tcpOpts {
	t.Helper()
	if c.c.Goroutine() == nil {
		return socktest.ReadTCPOpts(t, c.c.FD.Int())
	}
	var o tcpOpts
	withTCPFD(t, c.c.Goroutine().NetConn(), func(fd int) { o = socktest.ReadTCPOpts(t, fd) })
	return o
}

// warnCounter is a slog handler that counts warnings (and worse).
type warnCounter struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnCounter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnCounter) Handle(_ context.Context, r slog.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	w.msgs = append(w.msgs, b.String())
	return nil
}
func (w *warnCounter) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnCounter) WithGroup(string) slog.Handler      { return w }

func (w *warnCounter) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}

// TestTCPOptionsApplied reads the options back from both ends of real connections:
// every way a server gets a socket (its own listener on a loop, a net.Listener in
// goroutine mode, a tls.Listener, net/http through ServeHTTP onto a loop or in
// goroutine mode) and every way a client dials (onto a loop, goroutine mode, wss).
func TestTCPOptionsApplied(t *testing.T) {
	t.Parallel()
	tune := func(cfg Config) Config {
		cfg.TCPKeepAlive = net.KeepAliveConfig{Enable: true, Idle: 7 * time.Second, Interval: 3 * time.Second, Count: 4}
		cfg.TCPUserTimeout = 1500 * time.Millisecond
		return cfg
	}
	want := tcpOpts{KeepAlive: 1, Idle: 7, Intvl: 3, Cnt: 4, UserTimeout: 1500}
	type serve func(t *testing.T, s *Server) (url string, tlsCfg *tls.Config)
	listen := func(t *testing.T, s *Server) (string, *tls.Config) {
		if err := s.Listen("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		return "ws://" + s.Addr().String() + "/", nil
	}
	tlsListener := func(t *testing.T, s *Server) (string, *tls.Config) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		cert := cliTestCert(t)
		if err := s.Start(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert.cert}})); err != nil {
			t.Fatal(err)
		}
		return "wss://" + ln.Addr().String() + "/", &tls.Config{RootCAs: cert.pool}
	}
	serveHTTP := func(t *testing.T, s *Server) (string, *tls.Config) {
		hs := httptest.NewServer(s)
		t.Cleanup(hs.Close)
		return "ws" + strings.TrimPrefix(hs.URL, "http") + "/", nil
	}
	tests := []struct {
		name          string
		server        Config
		client        Config
		serve         serve
		serverOnLoops bool
	}{
		{"listen on a loop, client on a loop", Config{}, Config{}, listen, true},
		{"listen inline", Config{Dispatch: DispatchInline}, Config{Dispatch: DispatchInline}, listen, true},
		{"listen in goroutine mode", Config{GoroutinePerConn: true}, Config{GoroutinePerConn: true}, listen, false},
		{"tls listener", Config{}, Config{}, tlsListener, false},
		{"ServeHTTP onto a loop", Config{}, Config{}, serveHTTP, true},
		{"ServeHTTP in goroutine mode", Config{GoroutinePerConn: true}, Config{}, serveHTTP, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			logs := &warnCounter{}
			scfg, ccfg := tune(tc.server), tune(tc.client)
			scfg.Logger, ccfg.Logger = slog.New(logs), slog.New(logs)
			h := newOpenedHandler()
			s, err := NewServer(h, &scfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			url, tlsCfg := tc.serve(t, s)
			c := cliDial(t, cliClient(t, nil, ccfg), url, &DialOptions{TLSConfig: tlsCfg})
			sc := cliRecv(t, h.opened, "server OnOpen")
			if onLoops := sc.c.Goroutine() == nil; onLoops != tc.serverOnLoops {
				t.Fatalf("server connection on the loops: %v, want %v", onLoops, tc.serverOnLoops)
			}
			if got := connTCPOpts(t, sc); got != want {
				t.Errorf("server side: %+v, want %+v", got, want)
			}
			if got := connTCPOpts(t, c); got != want {
				t.Errorf("client side: %+v, want %+v", got, want)
			}
			if l := logs.list(); len(l) > 0 {
				t.Errorf("warnings: %q", l)
			}
		})
	}
}

// TestTCPOptionsDefault checks that with the zero Config the engine leaves its own
// listener's sockets as the kernel made them (the accept path sets nothing).
func TestTCPOptionsDefault(t *testing.T) {
	t.Parallel()
	forLoopModes(t, func(t *testing.T, cfg Config) {
		h := newOpenedHandler()
		_, addr := startServer(t, h, cfg, nil)
		cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", nil)
		sc := cliRecv(t, h.opened, "server OnOpen")
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		fresh := socktest.ReadTCPOpts(t, fd)
		unix.Close(fd)
		if got := connTCPOpts(t, sc); got != fresh {
			t.Fatalf("accepted socket %+v, want the kernel's %+v", got, fresh)
		}
	})
}

// TestTCPOptionsSkipUnixAndReportErrors checks that the options are not tried on
// Unix sockets (which would fail and be logged), and, as the control, that a
// value the kernel refuses is logged and the connection still works.
func TestTCPOptionsSkipUnixAndReportErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		unix     bool
		idle     time.Duration
		wantWarn bool
	}{
		{"unix socket", true, 7 * time.Second, false},
		{"tcp, idle over the kernel's maximum", false, 100000 * time.Hour, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				logs := &warnCounter{}
				cfg.Logger = slog.New(logs)
				cfg.TCPKeepAlive = net.KeepAliveConfig{Enable: true, Idle: tc.idle}
				cfg.TCPUserTimeout = time.Second
				h := newOpenedHandler()
				s, err := NewServer(h, &cfg, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				var url string
				if tc.unix {
					sock := filepath.Join(t.TempDir(), "w.sock")
					ln, err := net.Listen("unix", sock)
					if err != nil {
						t.Fatal(err)
					}
					if err := s.Start(ln); err != nil {
						t.Fatal(err)
					}
					url = "ws+unix:" + sock + ":/"
				} else {
					if err := s.Listen("127.0.0.1:0"); err != nil {
						t.Fatal(err)
					}
					url = "ws://" + s.Addr().String() + "/"
				}
				c := cliDial(t, cliClient(t, nil, cfg), url, nil)
				sc := cliRecv(t, h.opened, "server OnOpen")
				if err := sc.WriteText("up"); err != nil {
					t.Fatal(err)
				}
				if _, p, err := c.ReadMessage(cliCtx(t)); err != nil || string(p) != "up" {
					t.Fatalf("read %q %v", p, err)
				}
				l := logs.list()
				if got := len(l) > 0; got != tc.wantWarn {
					t.Fatalf("warnings %q, want some: %v", l, tc.wantWarn)
				}
				for _, m := range l {
					if !strings.Contains(m, "TCP_KEEPIDLE") {
						t.Errorf("warning %q does not name the option", m)
					}
				}
			})
		})
	}
}
