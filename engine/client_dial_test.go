package engine

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// The client's dial: cancel and timeout, HTTP CONNECT proxies, redirects,
// OnRequest, LocalAddr, MaskKey.

func TestClientDialCancel(t *testing.T) {
	t.Parallel()
	// cancelDial dials u with a minute of HandshakeTimeout, waits for started (the
	// server side has seen the client) and cancels: the error must say Canceled,
	// not a deadline, so the minute never ran out.
	cancelDial := func(t *testing.T, u string, o *DialOptions, started func()) error {
		t.Helper()
		if o == nil {
			o = &DialOptions{}
		}
		o.HandshakeTimeout = time.Minute
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		errc := make(chan error, 1)
		go func() {
			c, _, err := cliClient(t, nil, Config{}).Dial(ctx, u, o)
			if c != nil {
				c.Abort()
			}
			errc <- err
		}()
		started()
		cancel()
		err := cliRecv(t, errc, "Dial to return after cancel")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v (%T), want one wrapping context.Canceled", err, err)
		}
		return err
	}
	t.Run("already canceled", func(t *testing.T) {
		t.Parallel()
		addr, _ := cliSilentServer(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, _, err := cliClient(t, nil, Config{}).Dial(ctx, "ws://"+addr+"/", nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want one wrapping context.Canceled", err)
		}
	})
	t.Run("handshake", func(t *testing.T) {
		t.Parallel()
		addr, accepted := cliSilentServer(t)
		var nc net.Conn
		cancelDial(t, "ws://"+addr+"/", nil, func() {
			nc = cliRecv(t, accepted, "accept")
			// The request arrives: the client waits for the answer now.
			buf := make([]byte, 4)
			if _, err := io.ReadFull(nc, buf); err != nil || string(buf) != "GET " {
				t.Fatalf("request %q %v", buf, err)
			}
		})
		cliPeerGone(t, nc)
	})
	t.Run("tls handshake", func(t *testing.T) {
		t.Parallel()
		addr, accepted := cliSilentServer(t)
		var nc net.Conn
		cancelDial(t, "wss://"+addr+"/", &DialOptions{TLSConfig: &tls.Config{RootCAs: cliTestCert(t).pool}}, func() {
			nc = cliRecv(t, accepted, "accept")
			buf := make([]byte, 1)
			if _, err := io.ReadFull(nc, buf); err != nil || buf[0] != 0x16 { // a TLS handshake record
				t.Fatalf("ClientHello %x %v", buf, err)
			}
		})
		cliPeerGone(t, nc)
	})
	t.Run("proxy CONNECT", func(t *testing.T) {
		t.Parallel()
		p := cliStartProxy(t, "", true)
		cancelDial(t, "ws://127.0.0.1:1/", &DialOptions{Proxy: http.ProxyURL(p.url(nil))}, func() {
			cliRecv(t, p.seen, "CONNECT")
		})
	})
	t.Run("node ws never answers", func(t *testing.T) {
		t.Parallel()
		n := cliNode(t, false)
		id := cliNodeID(t)
		ev := n.events(id)
		cancelDial(t, "ws://"+n.addr+"/hang?id="+id, nil, func() {
			if e := cliRecv(t, ev, "node holding the request"); e.Event != "hang" {
				t.Fatalf("node reported %+v", e)
			}
		})
	})
}

func TestClientHandshakeTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) (string, *DialOptions)
	}{
		{"handshake", func(t *testing.T) (string, *DialOptions) {
			addr, _ := cliSilentServer(t)
			return "ws://" + addr + "/", &DialOptions{}
		}},
		{"proxy CONNECT", func(t *testing.T) (string, *DialOptions) {
			p := cliStartProxy(t, "", true)
			return "ws://127.0.0.1:1/", &DialOptions{Proxy: http.ProxyURL(p.url(nil))}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u, o := tc.setup(t)
			o.HandshakeTimeout = 200 * time.Millisecond
			_, _, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), u, o)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v (%T), want one wrapping context.DeadlineExceeded", err, err)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// HTTP CONNECT proxies.

func TestClientProxy(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, newCliPeer(true), Config{}, nil)
	echoOnce := func(t *testing.T, c *Conn) {
		t.Helper()
		if err := c.WriteText("through the tunnel"); err != nil {
			t.Fatal(err)
		}
		if _, p, err := c.ReadMessage(cliCtx(t)); err != nil || string(p) != "through the tunnel" {
			t.Fatalf("echo %q %v", p, err)
		}
	}
	t.Run("Proxy func", func(t *testing.T) {
		t.Parallel()
		srv := newCliPeer(true)
		_, addr := startServer(t, srv, Config{}, nil)
		p := cliStartProxy(t, "", false)
		var asked atomic.Int32
		c := cliDial(t, cliClient(t, nil, Config{}), "ws://"+addr+"/", &DialOptions{Proxy: func(r *http.Request) (*url.URL, error) {
			asked.Add(1)
			if r.URL.Host != addr || r.URL.Scheme != "http" {
				t.Errorf("Proxy asked for %v", r.URL)
			}
			return p.url(nil), nil
		}})
		echoOnce(t, c)
		if got := p.used(); len(got) != 1 || got[0].target != addr || got[0].auth != "" || asked.Load() != 1 {
			t.Fatalf("CONNECTs %+v, Proxy calls %d", got, asked.Load())
		}
		// The server's peer is the proxy's own socket, not the client's.
		sc := cliRecv(t, srv.opened, "server OnOpen")
		if sc.RemoteAddr() == c.LocalAddr() {
			t.Fatal("the connection did not go through the proxy")
		}
	})
	t.Run("Proxy-Authorization from user info", func(t *testing.T) {
		t.Parallel()
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:s3cr:t"))
		p := cliStartProxy(t, want, false)
		c := cliDial(t, cliClient(t, nil, Config{}), "ws://"+addr+"/", &DialOptions{
			Proxy: http.ProxyURL(p.url(url.UserPassword("alice", "s3cr:t"))),
		})
		echoOnce(t, c)
		if got := p.used(); len(got) != 1 || got[0].auth != want {
			t.Fatalf("CONNECTs %+v", got)
		}
	})
	t.Run("407 is ErrProxy", func(t *testing.T) {
		t.Parallel()
		p := cliStartProxy(t, "Basic bm9ib2R5Om5vcGU=", false)
		_, _, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), "ws://"+addr+"/", &DialOptions{
			Proxy: http.ProxyURL(p.url(url.UserPassword("alice", "wrong"))),
		})
		if !errors.Is(err, ErrProxy) || !strings.Contains(err.Error(), "407") {
			t.Fatalf("err = %v, want ErrProxy with 407", err)
		}
	})
	t.Run("Proxy error", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("no proxy today")
		_, _, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), "ws://"+addr+"/", &DialOptions{
			Proxy: func(*http.Request) (*url.URL, error) { return nil, boom },
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want the Proxy func's", err)
		}
	})
	t.Run("NoProxy", func(t *testing.T) {
		t.Parallel()
		p := cliStartProxy(t, "", false)
		c := cliDial(t, cliClient(t, nil, Config{}), "ws://"+addr+"/", &DialOptions{
			NoProxy: true, Proxy: http.ProxyURL(p.url(nil)),
		})
		echoOnce(t, c)
		if got := p.used(); len(got) != 0 {
			t.Fatalf("NoProxy still used the proxy: %+v", got)
		}
	})
	t.Run("wss through the proxy", func(t *testing.T) {
		t.Parallel()
		taddr := cliTLSServer(t, newCliPeer(true), Config{}, nil)
		_, port, _ := net.SplitHostPort(taddr)
		p := cliStartProxy(t, "", false)
		var scheme string
		c := cliDial(t, cliClient(t, nil, Config{}), "wss://localhost:"+port+"/", &DialOptions{
			TLSConfig: &tls.Config{RootCAs: cliTestCert(t).pool},
			Proxy: func(r *http.Request) (*url.URL, error) {
				scheme = r.URL.Scheme
				return p.url(nil), nil
			},
		})
		echoOnce(t, c)
		if got := p.used(); len(got) != 1 || got[0].target != "localhost:"+port || scheme != "https" {
			t.Fatalf("CONNECTs %+v, Proxy saw scheme %q", got, scheme)
		}
	})
	t.Run("node ws through the proxy", func(t *testing.T) {
		t.Parallel()
		n := cliNode(t, false)
		p := cliStartProxy(t, "", false)
		c := cliDial(t, cliClient(t, nil, Config{}), "ws://"+n.addr+"/echo", &DialOptions{Proxy: http.ProxyURL(p.url(nil))})
		echoOnce(t, c)
		if got := p.used(); len(got) != 1 || got[0].target != n.addr {
			t.Fatalf("CONNECTs %+v", got)
		}
	})
}

// ---------------------------------------------------------------------------
// Redirects.

type cliSeen struct {
	path, host, auth, cookie string
	hops                     []string
}

func TestClientRedirect(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		seen := make(chan cliSeen, 16)
		s, err := NewServer(newCliPeer(true), &cfg, &upgrade.Upgrader{
			Verify: func(r *upgrade.Request, d *upgrade.Decision) {
				var hops []string
				for v := range r.Values("X-Hop") {
					hops = append(hops, strings.Clone(v))
				}
				seen <- cliSeen{strings.Clone(r.Path()), strings.Clone(r.Host()), strings.Clone(r.Header("Authorization")), strings.Clone(r.Header("Cookie")), hops}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		mux := http.NewServeMux()
		mux.Handle("/ws", s)
		hs := httptest.NewServer(mux)
		t.Cleanup(hs.Close)
		port := hs.Listener.Addr().(*net.TCPAddr).Port
		redirect := func(from, to string) {
			mux.HandleFunc(from, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, to, http.StatusFound)
			})
		}
		redirect("/same", "/ws")
		redirect("/same-abs", fmt.Sprintf("ws://127.0.0.1:%d/ws", port))
		redirect("/other", fmt.Sprintf("ws://localhost:%d/ws", port))
		redirect("/other-http", fmt.Sprintf("http://localhost:%d/ws", port))
		redirect("/hop2", "/hop1")
		redirect("/hop1", "/ws")
		redirect("/hop3", "/hop2")
		base := fmt.Sprintf("ws://127.0.0.1:%d", port)
		creds := func() http.Header {
			return http.Header{"Authorization": {"Bearer t0k3n"}, "Cookie": {"session=abc"}}
		}
		cl := cliClient(t, nil, cfg)

		t.Run("MaxRedirects 0 returns the 302", func(t *testing.T) {
			_, _, err := cl.Dial(cliCtx(t), base+"/same", nil)
			he := cliHandshakeError(t, err, http.StatusFound)
			if he.Header.Get("Location") != "/ws" {
				t.Fatalf("Location %q", he.Header.Get("Location"))
			}
		})
		for _, path := range []string{"/same", "/same-abs"} {
			t.Run("same host keeps credentials "+path, func(t *testing.T) {
				c := cliDial(t, cl, base+path, &DialOptions{MaxRedirects: 2, Header: creds()})
				r := cliRecv(t, seen, "handshake")
				if r.path != "/ws" || r.auth != "Bearer t0k3n" || r.cookie != "session=abc" {
					t.Fatalf("server saw %+v", r)
				}
				cliEchoOnce(t, c)
			})
		}
		for _, path := range []string{"/other", "/other-http"} {
			t.Run("other host drops credentials "+path, func(t *testing.T) {
				h := creds()
				c := cliDial(t, cl, base+path, &DialOptions{MaxRedirects: 2, Header: h})
				r := cliRecv(t, seen, "handshake")
				if r.path != "/ws" || r.host != fmt.Sprintf("localhost:%d", port) || r.auth != "" || r.cookie != "" {
					t.Fatalf("server saw %+v", r)
				}
				if h.Get("Authorization") == "" {
					t.Fatal("Dial changed the caller's Header")
				}
				cliEchoOnce(t, c)
			})
		}
		for _, path := range []string{"/same", "/same-abs"} {
			t.Run("same host keeps URL user info "+path, func(t *testing.T) {
				// Like ws: the Basic credentials of the dialled URL are the
				// first request's Authorization, kept while the host stays the
				// same, whether Location is relative or absolute.
				u := fmt.Sprintf("ws://alice:pw@127.0.0.1:%d%s", port, path)
				c := cliDial(t, cl, u, &DialOptions{MaxRedirects: 2})
				want := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:pw"))
				if r := cliRecv(t, seen, "handshake"); r.path != "/ws" || r.auth != want {
					t.Errorf("server saw %+v, want Authorization %q", r, want)
				}
				cliEchoOnce(t, c)
			})
		}
		t.Run("other host drops URL user info", func(t *testing.T) {
			u := fmt.Sprintf("ws://alice:pw@127.0.0.1:%d/other", port)
			c := cliDial(t, cl, u, &DialOptions{MaxRedirects: 2})
			if r := cliRecv(t, seen, "handshake"); r.path != "/ws" || r.auth != "" {
				t.Fatalf("server saw %+v", r)
			}
			cliEchoOnce(t, c)
		})
		t.Run("one DialOptions shared by concurrent dials", func(t *testing.T) {
			// Dial must not write to the caller's options (the race detector
			// watches): a program keeps one DialOptions for all its dials.
			o := &DialOptions{MaxRedirects: 2, Header: creds(), Subprotocols: []string{"a"},
				OnRequest: func(r *upgrade.ClientRequest) error { r.Header.Add("X-Hop", "1"); return nil }}
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					path := []string{"/same", "/other"}[i%2]
					c, _, err := cl.Dial(cliCtx(t), base+path, o)
					if err != nil {
						errs <- err
						return
					}
					c.Abort()
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			for range 8 {
				r := cliRecv(t, seen, "handshake")
				if len(r.hops) != 1 {
					t.Fatalf("X-Hop %q", r.hops)
				}
			}
			if len(o.Header) != 2 || o.Header.Get("Authorization") != "Bearer t0k3n" {
				t.Fatalf("the shared Header changed: %v", o.Header)
			}
		})
		t.Run("two hops within MaxRedirects 2", func(t *testing.T) {
			c := cliDial(t, cl, base+"/hop2", &DialOptions{MaxRedirects: 2})
			if r := cliRecv(t, seen, "handshake"); r.path != "/ws" {
				t.Fatalf("server saw %+v", r)
			}
			cliEchoOnce(t, c)
		})
		t.Run("three hops over MaxRedirects 2", func(t *testing.T) {
			_, _, err := cl.Dial(cliCtx(t), base+"/hop3", &DialOptions{MaxRedirects: 2})
			he := cliHandshakeError(t, err, http.StatusFound)
			if he.Header.Get("Location") != "/ws" {
				t.Fatalf("stopped at Location %q, want the third hop's", he.Header.Get("Location"))
			}
		})
		t.Run("OnRequest runs per hop on its own copy", func(t *testing.T) {
			// The hook adds a header on every request. Each request must carry it
			// once, and the caller's DialOptions.Header must not change.
			h := creds()
			var calls atomic.Int32
			c := cliDial(t, cl, base+"/same", &DialOptions{MaxRedirects: 2, Header: h, OnRequest: func(r *upgrade.ClientRequest) error {
				calls.Add(1)
				if r.Header == nil {
					r.Header = http.Header{}
				}
				r.Header.Add("X-Hop", r.Resource)
				return nil
			}})
			r := cliRecv(t, seen, "handshake")
			if calls.Load() != 2 {
				t.Fatalf("OnRequest ran %d times, want 2", calls.Load())
			}
			if len(r.hops) != 1 || r.hops[0] != "/ws" {
				t.Errorf("the redirected request carried X-Hop %q, want [/ws]", r.hops)
			}
			if _, ok := h["X-Hop"]; ok {
				t.Errorf("OnRequest changed the caller's DialOptions.Header: %v", h)
			}
			cliEchoOnce(t, c)
		})
	})
}

// ---------------------------------------------------------------------------
// OnRequest, LocalAddr, MaskKey.

func TestClientOnRequest(t *testing.T) {
	t.Parallel()
	seen := make(chan string, 4)
	_, addr := startServer(t, newCliPeer(true), Config{}, &upgrade.Upgrader{
		Verify: func(r *upgrade.Request, d *upgrade.Decision) {
			seen <- strings.Clone(r.Header("X-Request-Id") + "|" + r.Header("User-Agent"))
		},
	})
	cl := cliClient(t, nil, Config{})
	c := cliDial(t, cl, "ws://"+addr+"/", &DialOptions{
		Header: http.Header{"User-Agent": {"weir-test"}},
		OnRequest: func(r *upgrade.ClientRequest) error {
			r.Header = http.Header{"X-Request-Id": {"42"}, "User-Agent": r.Header["User-Agent"]}
			return nil
		},
	})
	if got := cliRecv(t, seen, "handshake"); got != "42|weir-test" {
		t.Fatalf("server saw %q", got)
	}
	cliCloseRead(t, c)
	boom := errors.New("not today")
	_, _, err := cl.Dial(cliCtx(t), "ws://"+addr+"/", &DialOptions{OnRequest: func(*upgrade.ClientRequest) error { return boom }})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the hook's", err)
	}
	select {
	case got := <-seen:
		t.Fatalf("a refused request reached the server: %q", got)
	default:
	}
}

// cliCanBind reports whether ip is a local address here (127.0.0.2 is on Linux,
// not on macOS without an alias).
func cliCanBind(ip net.IP) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

func TestClientLocalAddr(t *testing.T) {
	t.Parallel()
	if !cliCanBind(net.IPv4(127, 0, 0, 2)) {
		t.Skip("127.0.0.2 is not a local address on this machine")
	}
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}
	want := netip.MustParseAddr("127.0.0.2")
	t.Run("weir", func(t *testing.T) {
		t.Parallel()
		forModes(t, func(t *testing.T, cfg Config) {
			srv := newCliPeer(true)
			_, addr := startServer(t, srv, cfg, nil)
			c := cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", &DialOptions{LocalAddr: local})
			sc := cliRecv(t, srv.opened, "server OnOpen")
			if c.LocalAddr().Addr() != want || sc.RemoteAddr() != c.LocalAddr() {
				t.Fatalf("client local %v, server sees %v", c.LocalAddr(), sc.RemoteAddr())
			}
			if c.RemoteAddr().String() != addr {
				t.Fatalf("client remote %v, want %s", c.RemoteAddr(), addr)
			}
		})
	})
	t.Run("node ws", func(t *testing.T) {
		t.Parallel()
		n := cliNode(t, false)
		c := cliDial(t, cliClient(t, nil, Config{}), "ws://"+n.addr+"/info", &DialOptions{LocalAddr: local})
		if info := cliReadNodeInfo(t, c); info.Remote != "127.0.0.2" && info.Remote != "::ffff:127.0.0.2" {
			t.Fatalf("node saw remote %q", info.Remote)
		}
	})
}

// TestClientMaskKey checks that client frames are masked with the hook's key: the
// raw bytes on the wire are the payload XOR the key (RFC 6455 §5.3).
func TestClientMaskKey(t *testing.T) {
	t.Parallel()
	frames := make(chan []byte, 1)
	addr := cliHostileServer(t, "", func(nc net.Conn, br *bufio.Reader) {
		b := make([]byte, 2+4+5)
		if _, err := io.ReadFull(br, b); err == nil {
			frames <- b
		}
		io.Copy(io.Discard, br)
	})
	c := cliDial(t, cliClient(t, nil, Config{}), "ws://"+addr+"/", &DialOptions{
		MaskKey: func() [4]byte { return [4]byte{0xA1, 0xB2, 0xC3, 0xD4} },
	})
	if err := c.WriteText("hello"); err != nil {
		t.Fatal(err)
	}
	got := cliRecv(t, frames, "client frame")
	want := frameBytes(true, frame.OpText, 0, []byte("hello"), false)
	want[1] |= 0x80
	want = append(want[:2:2], 0xA1, 0xB2, 0xC3, 0xD4)
	for i, b := range []byte("hello") {
		want = append(want, b^[]byte{0xA1, 0xB2, 0xC3, 0xD4}[i%4])
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("wire % x, want % x", got, want)
	}
}

// TestClientCloseRightAfterDial closes a connection as soon as Dial returns, before
// its reader may have run: the close handshake must still complete and be reported
// (ReadMessage returns the *CloseError; a Handler gets OnOpen, then OnClose).
func TestClientCloseRightAfterDial(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		_, addr := startServer(t, newCliPeer(true), cfg, nil)
		cl := cliClient(t, nil, cfg)
		for i := range 20 {
			c := cliDial(t, cl, "ws://"+addr+"/", nil)
			c.Close(4005, "early")
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, _, err := c.ReadMessage(ctx)
			cancel()
			if CloseStatus(err) != 4005 {
				t.Fatalf("dial %d: ReadMessage after an early Close = %v (state %v)", i, err, c.State())
			}
			h := newCliPeer(false)
			c = cliDial(t, cl, "ws://"+addr+"/", &DialOptions{Handler: h})
			c.Close(4006, "early")
			cliRecv(t, h.opened, fmt.Sprintf("dial %d: OnOpen", i))
			if r := cliRecv(t, h.closed, fmt.Sprintf("dial %d: OnClose", i)); r.code != 4006 {
				t.Fatalf("dial %d: OnClose %d %q %v", i, r.code, r.reason, r.err)
			}
		}
	})
}
