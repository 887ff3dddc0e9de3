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
)

// tcpOpts is what the kernel reports for a socket's keepalive and user timeout.
type tcpOpts struct {
	keepAlive, idle, intvl, cnt, userTimeout int
}

// readTCPOpts asks the kernel for fd's options.
func readTCPOpts(t testing.TB, fd int) tcpOpts {
	t.Helper()
	var o tcpOpts
	for _, q := range []struct {
		level, opt int
		dst        *int
	}{
		{unix.SOL_SOCKET, unix.SO_KEEPALIVE, &o.keepAlive},
		{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, &o.idle},
		{unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, &o.intvl},
		{unix.IPPROTO_TCP, unix.TCP_KEEPCNT, &o.cnt},
		{unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, &o.userTimeout},
	} {
		v, err := unix.GetsockoptInt(fd, q.level, q.opt)
		if err != nil {
			t.Fatalf("getsockopt %d/%d: %v", q.level, q.opt, err)
		}
		*q.dst = v
	}
	return o
}

// withTCPFD runs f on the socket under a TCP net.Conn (or the one under a *tls.Conn).
func withTCPFD(t testing.TB, nc net.Conn, f func(fd int)) {
	t.Helper()
	tc := tcpConnOf(nc)
	if tc == nil {
		t.Fatalf("%T has no TCP socket under it", nc)
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Control(func(fd uintptr) { f(int(fd)) }); err != nil {
		t.Fatal(err)
	}
}

// connTCPOpts reads the options of c's socket: its fd on the loops, the net.Conn's
// in goroutine mode.
func connTCPOpts(t testing.TB, c *Conn) tcpOpts {
	t.Helper()
	if c.goroutine == nil {
		return readTCPOpts(t, c.fd.Int())
	}
	var o tcpOpts
	withTCPFD(t, c.goroutine.nc, func(fd int) { o = readTCPOpts(t, fd) })
	return o
}

// TestSetTCPOpts checks each field against a socket whose options hold known
// markers first, so "left as it is" is told apart from "set".
func TestSetTCPOpts(t *testing.T) {
	t.Parallel()
	marker := tcpOpts{keepAlive: 0, idle: 111, intvl: 22, cnt: 3, userTimeout: 4444}
	tests := []struct {
		name string
		ka   net.KeepAliveConfig
		ut   time.Duration
		want tcpOpts
	}{
		{"nothing", net.KeepAliveConfig{}, 0, marker},
		{"disabled fields ignored", net.KeepAliveConfig{Idle: time.Minute, Interval: time.Minute, Count: 7}, 0, marker},
		{"user timeout only", net.KeepAliveConfig{}, 1500 * time.Millisecond, tcpOpts{0, 111, 22, 3, 1500}},
		{"user timeout rounds up", net.KeepAliveConfig{}, time.Nanosecond, tcpOpts{0, 111, 22, 3, 1}},
		{"negative user timeout", net.KeepAliveConfig{}, -time.Second, marker},
		{"enable, zero fields keep the socket's", net.KeepAliveConfig{Enable: true}, 0, tcpOpts{1, 111, 22, 3, 4444}},
		{"enable, negative fields keep the socket's", net.KeepAliveConfig{Enable: true, Idle: -1, Interval: -1, Count: -1}, 0, tcpOpts{1, 111, 22, 3, 4444}},
		{"all set", net.KeepAliveConfig{Enable: true, Idle: 7 * time.Second, Interval: 3 * time.Second, Count: 4}, 2 * time.Second, tcpOpts{1, 7, 3, 4, 2000}},
		{"seconds round up", net.KeepAliveConfig{Enable: true, Idle: 1500 * time.Millisecond, Interval: time.Nanosecond, Count: 5}, 0, tcpOpts{1, 2, 1, 5, 4444}},
		{"only idle", net.KeepAliveConfig{Enable: true, Idle: 9 * time.Second}, 0, tcpOpts{1, 9, 22, 3, 4444}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cc, _ := tcpPair(t)
			withTCPFD(t, cc, func(fd int) {
				for _, s := range []struct{ level, opt, v int }{
					{unix.SOL_SOCKET, unix.SO_KEEPALIVE, marker.keepAlive},
					{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, marker.idle},
					{unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, marker.intvl},
					{unix.IPPROTO_TCP, unix.TCP_KEEPCNT, marker.cnt},
					{unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, marker.userTimeout},
				} {
					if err := unix.SetsockoptInt(fd, s.level, s.opt, s.v); err != nil {
						t.Fatal(err)
					}
				}
			})
			if err := setTCPConnOpts(cc, tc.ka, tc.ut); err != nil {
				t.Fatal(err)
			}
			var got tcpOpts
			withTCPFD(t, cc, func(fd int) { got = readTCPOpts(t, fd) })
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestTCPConnOf(t *testing.T) {
	t.Parallel()
	cc, _ := tcpPair(t)
	p1, p2 := net.Pipe()
	t.Cleanup(func() { p1.Close(); p2.Close() })
	tests := []struct {
		name string
		nc   net.Conn
		want *net.TCPConn
	}{
		{"tcp", cc, cc},
		{"tls over tcp", tls.Client(cc, &tls.Config{}), cc},
		{"tls over tls over tcp", tls.Client(tls.Client(cc, &tls.Config{}), &tls.Config{}), cc},
		{"pipe", p1, nil},
		{"tls over pipe", tls.Client(p1, &tls.Config{}), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tcpConnOf(tc.nc); got != tc.want {
				t.Fatalf("tcpConnOf = %v, want %v", got, tc.want)
			}
		})
	}
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
	want := tcpOpts{keepAlive: 1, idle: 7, intvl: 3, cnt: 4, userTimeout: 1500}
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
			if onLoops := sc.goroutine == nil; onLoops != tc.serverOnLoops {
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
		fresh := readTCPOpts(t, fd)
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
