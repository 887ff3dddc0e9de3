package engine

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// The client against weir and Node ws: echo, subprotocols, non-101 answers,
// version 8, TLS, ping and pong, close codes.

func TestClientEcho(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		_, addr := startServer(t, newCliPeer(true), cfg, nil)
		t.Run("ReadMessage", func(t *testing.T) {
			t.Parallel()
			c := cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", nil)
			cliEchoRead(t, c)
			cliCloseRead(t, c)
		})
		t.Run("Handler", func(t *testing.T) {
			t.Parallel()
			h := newCliPeer(false)
			c := cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", &DialOptions{Handler: h})
			if got := cliRecv(t, h.opened, "client OnOpen"); got != c {
				t.Fatal("OnOpen got another Conn")
			}
			if _, _, err := c.ReadMessage(cliCtx(t)); !errors.Is(err, ErrNoQueue) {
				t.Fatalf("ReadMessage on a Handler conn = %v, want ErrNoQueue", err)
			}
			cliEchoHandler(t, c, h)
			c.Close(frame.StatusNormalClosure, "")
			if r := cliRecv(t, h.closed, "client OnClose"); r.code != frame.StatusNormalClosure || r.err != nil {
				t.Fatalf("client OnClose %d %q %v", r.code, r.reason, r.err)
			}
		})
		t.Run("ClientDefaultHandler", func(t *testing.T) {
			// NewClient's handler serves connections dialled without one.
			t.Parallel()
			h := newCliPeer(false)
			c := cliDial(t, cliClient(t, h, cfg), "ws://"+addr+"/", nil)
			cliRecv(t, h.opened, "client OnOpen")
			if err := c.WriteText("default handler"); err != nil {
				t.Fatal(err)
			}
			if m := cliRecv(t, h.msgs, "echo"); string(m.data) != "default handler" {
				t.Fatalf("echo %q", m.data)
			}
		})
	})
}

func TestClientEchoNodeWS(t *testing.T) {
	t.Parallel()
	n := cliNode(t, false)
	forModes(t, func(t *testing.T, cfg Config) {
		t.Run("ReadMessage", func(t *testing.T) {
			t.Parallel()
			c := cliDial(t, cliClient(t, nil, cfg), "ws://"+n.addr+"/echo", nil)
			cliEchoRead(t, c)
			cliCloseRead(t, c)
		})
		t.Run("Handler", func(t *testing.T) {
			t.Parallel()
			h := newCliPeer(false)
			c := cliDial(t, cliClient(t, nil, cfg), "ws://"+n.addr+"/echo", &DialOptions{Handler: h})
			cliRecv(t, h.opened, "client OnOpen")
			cliEchoHandler(t, c, h)
		})
	})
}

// TestClientDialDefault uses the package-level Dial and its shared Client. It runs
// alone (not parallel: top-level parallel tests wait for the sequential ones), so
// it can stop the shared client afterwards and leave no goroutine behind.
func TestClientDialDefault(t *testing.T) {
	_, addr := startServer(t, newCliPeer(true), Config{}, nil)
	t.Cleanup(func() {
		if defaultClient != nil {
			defaultClient.Close()
		}
		defaultClientOnce, defaultClient, defaultClientErr = sync.Once{}, nil, nil
	})
	c, resp, err := Dial(cliCtx(t), "ws://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Abort()
	if resp.StatusCode != 101 || !c.IsClient() || c.State() != StateOpen {
		t.Fatalf("status %d client %v state %v", resp.StatusCode, c.IsClient(), c.State())
	}
	if err := c.WriteText("shared"); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.ReadMessage(cliCtx(t)); err != nil || string(p) != "shared" {
		t.Fatalf("read %q %v", p, err)
	}
	cliCloseRead(t, c)
}

// TestClientUnixSocket dials ws+unix:/path:/resource.
func TestClientUnixSocket(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		seen := make(chan string, 1)
		s, err := NewServer(newCliPeer(true), &cfg, &upgrade.Upgrader{Verify: func(r *upgrade.Request, d *upgrade.Decision) {
			seen <- strings.Clone(r.Resource()) // the view aliases the request buffer
		}})
		if err != nil {
			t.Fatal(err)
		}
		sock := filepath.Join(t.TempDir(), "w.sock")
		ln, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(ln); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		c := cliDial(t, cliClient(t, nil, cfg), "ws+unix:"+sock+":/over/unix?x=1", nil)
		if r := cliRecv(t, seen, "handshake"); r != "/over/unix?x=1" {
			t.Fatalf("resource %q", r)
		}
		if err := c.WriteBinary([]byte{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
		if _, p, err := c.ReadMessage(cliCtx(t)); err != nil || !bytes.Equal(p, []byte{1, 2, 3}) {
			t.Fatalf("read %v %v", p, err)
		}
		cliCloseRead(t, c)
	})
}

// ---------------------------------------------------------------------------
// Subprotocols.

func TestClientSubprotocol(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		srv := newCliPeer(true)
		_, addr := startServer(t, srv, cfg, &upgrade.Upgrader{Subprotocols: []string{"v2.weir", "v1.weir"}})
		cl := cliClient(t, nil, cfg)
		for _, tc := range []struct {
			name  string
			offer []string
			want  string
		}{
			{"server preference wins", []string{"v1.weir", "v2.weir"}, "v2.weir"},
			{"only one in common", []string{"x.other", "v1.weir"}, "v1.weir"},
			{"none in common", []string{"x.other"}, ""},
			{"none offered", nil, ""},
		} {
			c := cliDial(t, cl, "ws://"+addr+"/", &DialOptions{Subprotocols: tc.offer})
			sc := cliRecv(t, srv.opened, "server OnOpen")
			if c.Subprotocol() != tc.want || sc.Subprotocol() != tc.want {
				t.Fatalf("%s: client %q server %q, want %q", tc.name, c.Subprotocol(), sc.Subprotocol(), tc.want)
			}
			c.Abort()
		}
	})
}

func TestClientSubprotocolNotOffered(t *testing.T) {
	t.Parallel()
	t.Run("weir server refuses its own bad pick", func(t *testing.T) {
		// weir's server never sends a pick that was not offered: it answers 500.
		t.Parallel()
		_, addr := startServer(t, newCliPeer(true), Config{}, &upgrade.Upgrader{
			SelectSubprotocol: func(*upgrade.Request) string { return "never-offered" },
		})
		_, _, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), "ws://"+addr+"/", &DialOptions{Subprotocols: []string{"a", "b"}})
		he := cliHandshakeError(t, err, http.StatusInternalServerError)
		if !strings.Contains(string(he.Body), "not offered") {
			t.Fatalf("body %q", he.Body)
		}
	})
	t.Run("fake server", func(t *testing.T) {
		t.Parallel()
		addr := cliFakeServer(t, "never-offered")
		_, _, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), "ws://"+addr+"/", &DialOptions{Subprotocols: []string{"a", "b"}})
		if !errors.Is(err, upgrade.ErrUnexpectedSubprotocol) {
			t.Fatalf("err = %v, want ErrUnexpectedSubprotocol", err)
		}
	})
	t.Run("fake server, nothing offered", func(t *testing.T) {
		t.Parallel()
		addr := cliFakeServer(t, "never-offered")
		_, _, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), "ws://"+addr+"/", nil)
		if !errors.Is(err, upgrade.ErrUnexpectedSubprotocol) {
			t.Fatalf("err = %v, want ErrUnexpectedSubprotocol", err)
		}
	})
}

func TestClientSubprotocolNodeWS(t *testing.T) {
	t.Parallel()
	n := cliNode(t, false)
	forModes(t, func(t *testing.T, cfg Config) {
		cl := cliClient(t, nil, cfg)
		c := cliDial(t, cl, "ws://"+n.addr+"/info", &DialOptions{Subprotocols: []string{"v1.weir", "v2.weir"}})
		info := cliReadNodeInfo(t, c)
		if c.Subprotocol() != "v2.weir" || info.Protocol != "v2.weir" {
			t.Fatalf("client %q, node %q, want v2.weir", c.Subprotocol(), info.Protocol)
		}
		if got := info.Headers["sec-websocket-protocol"]; got != "v1.weir, v2.weir" {
			t.Fatalf("node saw offer %q", got)
		}
		c = cliDial(t, cl, "ws://"+n.addr+"/info", &DialOptions{Subprotocols: []string{"x.other"}})
		if info := cliReadNodeInfo(t, c); c.Subprotocol() != "" || info.Protocol != "" {
			t.Fatalf("no common subprotocol: client %q node %q", c.Subprotocol(), info.Protocol)
		}
		// handleProtocols picks a name the client never offered.
		_, _, err := cl.Dial(cliCtx(t), "ws://"+n.addr+"/bogus-proto", &DialOptions{Subprotocols: []string{"v1.weir"}})
		if !errors.Is(err, upgrade.ErrUnexpectedSubprotocol) {
			t.Fatalf("err = %v, want ErrUnexpectedSubprotocol", err)
		}
	})
}

// ---------------------------------------------------------------------------
// Non-101 answers.

func TestClientHandshakeRejected(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, newCliPeer(true), Config{}, &upgrade.Upgrader{
		Verify: func(r *upgrade.Request, d *upgrade.Decision) {
			switch r.Path() {
			case "/forbidden":
				d.Header().Add("Retry-After", "120")
				d.Reject(http.StatusForbidden, "members only")
			case "/old":
				d.Header().Add("Sec-WebSocket-Version", "13")
				d.Reject(http.StatusUpgradeRequired, "upgrade your client")
			}
		},
	})
	cl := cliClient(t, nil, Config{})
	for _, tc := range []struct {
		name, path string
		o          *DialOptions
		status     int
		body       string
		header     [2]string
	}{
		{"403 from verify", "/forbidden", nil, 403, "members only", [2]string{"Retry-After", "120"}},
		{"403 origin policy", "/", &DialOptions{Origin: "https://elsewhere.example"}, 403, "origin not allowed", [2]string{"Connection", "close"}},
		{"426 from verify", "/old", nil, 426, "upgrade your client", [2]string{"Sec-WebSocket-Version", "13"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, resp, err := cl.Dial(cliCtx(t), "ws://"+addr+tc.path, tc.o)
			if c != nil || resp != nil {
				t.Fatalf("a failed Dial returned conn %v resp %v", c, resp)
			}
			he := cliHandshakeError(t, err, tc.status)
			if !strings.Contains(string(he.Body), tc.body) {
				t.Fatalf("body %q, want %q", he.Body, tc.body)
			}
			if got := he.Header.Get(tc.header[0]); !strings.EqualFold(got, tc.header[1]) {
				t.Fatalf("header %s = %q, want %q (%v)", tc.header[0], got, tc.header[1], he.Header)
			}
		})
	}
}

// TestClientHandshakeRejectedLongBody: a rejection's body is kept up to
// upgrade.DefaultErrorBodyLimit, de-chunked (net/http sends a long body chunked).
func TestClientHandshakeRejectedLongBody(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("0123456789abcdef", 1<<10) // 16 KiB
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Why", "long")
		w.WriteHeader(http.StatusForbidden)
		for i := 0; i < len(body); i += 1000 {
			io.WriteString(w, body[i:min(i+1000, len(body))])
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(hs.Close)
	_, _, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), "ws"+strings.TrimPrefix(hs.URL, "http")+"/", nil)
	he := cliHandshakeError(t, err, http.StatusForbidden)
	if he.Header.Get("X-Why") != "long" || he.Header.Get("Transfer-Encoding") == "" && len(he.Body) == 0 {
		t.Fatalf("headers %v", he.Header)
	}
	if string(he.Body) != body[:upgrade.DefaultErrorBodyLimit] {
		t.Fatalf("body: %d bytes %q..., want the first %d bytes of the body", len(he.Body), trunc(he.Body), upgrade.DefaultErrorBodyLimit)
	}
}

func TestClientHandshakeRejectedNodeWS(t *testing.T) {
	t.Parallel()
	n := cliNode(t, false)
	cl := cliClient(t, nil, Config{})
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/forbidden", 403, "forbidden by node ws"},
		{"/upgrade-required", 426, "upgrade required by node ws"},
	} {
		_, _, err := cl.Dial(cliCtx(t), "ws://"+n.addr+tc.path, nil)
		he := cliHandshakeError(t, err, tc.status)
		if string(he.Body) != tc.body {
			t.Fatalf("%s: body %q, want %q", tc.path, he.Body, tc.body)
		}
		if he.Header.Get("X-Test-Server") != "node-ws" {
			t.Fatalf("%s: headers %v", tc.path, he.Header)
		}
	}
}

// ---------------------------------------------------------------------------
// Version 8 (HyBi drafts).

func TestClientVersion8(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		type hs struct {
			version             int
			origin, secWSOrigin string
		}
		seen := make(chan hs, 1)
		srv := newCliPeer(true)
		_, addr := startServer(t, srv, cfg, &upgrade.Upgrader{
			CheckOrigin: func(*upgrade.Request) bool { return true },
			Verify: func(r *upgrade.Request, d *upgrade.Decision) {
				seen <- hs{r.Version(), strings.Clone(r.Origin()), strings.Clone(r.Header("Sec-WebSocket-Origin"))}
			},
		})
		c := cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", &DialOptions{Version: 8, Origin: "http://app.example"})
		r := cliRecv(t, seen, "handshake")
		sc := cliRecv(t, srv.opened, "server OnOpen")
		if r.version != 8 || r.origin != "http://app.example" || r.secWSOrigin != "http://app.example" {
			t.Fatalf("server saw %+v", r)
		}
		if c.Version() != 8 || sc.Version() != 8 {
			t.Fatalf("Version client %d server %d, want 8", c.Version(), sc.Version())
		}
		cliEchoRead(t, c)
		cliCloseRead(t, c)
	})
}

func TestClientVersion8NodeWS(t *testing.T) {
	t.Parallel()
	n := cliNode(t, false)
	cl := cliClient(t, nil, Config{})
	c := cliDial(t, cl, "ws://"+n.addr+"/info", &DialOptions{Version: 8, Origin: "http://app.example"})
	info := cliReadNodeInfo(t, c)
	if info.Version != "8" || info.Headers["sec-websocket-version"] != "8" || info.Headers["sec-websocket-origin"] != "http://app.example" {
		t.Fatalf("node saw version %q headers %v", info.Version, info.Headers)
	}
	if c.Version() != 8 {
		t.Fatalf("client Version %d", c.Version())
	}
	cliEchoRead(t, c)
	c = cliDial(t, cl, "ws://"+n.addr+"/info", nil)
	if info := cliReadNodeInfo(t, c); info.Version != "13" || c.Version() != 13 {
		t.Fatalf("default version: node %q client %d", info.Version, c.Version())
	}
}

// ---------------------------------------------------------------------------
// wss.

func TestClientTLS(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		srv := newCliPeer(true)
		addr := cliTLSServer(t, srv, cfg, &upgrade.Upgrader{Subprotocols: []string{"v1.weir"}})
		_, port, _ := net.SplitHostPort(addr)
		cl := cliClient(t, nil, cfg)
		roots := &tls.Config{RootCAs: cliTestCert(t).pool}
		for _, host := range []string{"localhost", "127.0.0.1"} {
			c := cliDial(t, cl, "wss://"+host+":"+port+"/", &DialOptions{TLSConfig: roots, Subprotocols: []string{"v1.weir"}})
			cliRecv(t, srv.opened, "server OnOpen")
			if c.Subprotocol() != "v1.weir" {
				t.Fatalf("subprotocol %q", c.Subprotocol())
			}
			cliEchoRead(t, c)
			cliCloseRead(t, c)
		}
		if roots.ServerName != "" {
			t.Fatal("Dial changed the caller's TLSConfig")
		}
		_, _, err := cl.Dial(cliCtx(t), "wss://localhost:"+port+"/", nil)
		var uae x509.UnknownAuthorityError
		if !errors.As(err, &uae) {
			t.Fatalf("without the root: err = %v (%T), want x509.UnknownAuthorityError", err, err)
		}
		_, _, err = cl.Dial(cliCtx(t), "wss://localhost:"+port+"/", &DialOptions{TLSConfig: &tls.Config{RootCAs: cliTestCert(t).pool, ServerName: "wrong.example"}})
		var hne x509.HostnameError
		if !errors.As(err, &hne) {
			t.Fatalf("wrong ServerName: err = %v (%T), want x509.HostnameError", err, err)
		}
	})
}

func TestClientTLSNodeWS(t *testing.T) {
	t.Parallel()
	n := cliNode(t, true)
	_, port, _ := net.SplitHostPort(n.addr)
	forModes(t, func(t *testing.T, cfg Config) {
		cl := cliClient(t, nil, cfg)
		c := cliDial(t, cl, "wss://localhost:"+port+"/info", &DialOptions{TLSConfig: &tls.Config{RootCAs: cliTestCert(t).pool}})
		if info := cliReadNodeInfo(t, c); info.Headers["host"] != "localhost:"+port {
			t.Fatalf("node saw %+v", info)
		}
		cliEchoRead(t, c)
		cliCloseRead(t, c)
	})
}

// ---------------------------------------------------------------------------
// Ping and pong.

func TestClientPingPong(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		srv := newCliPeer(true)
		_, addr := startServer(t, srv, cfg, nil)
		h := newCliPeer(false)
		c := cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", &DialOptions{Handler: h})
		sc := cliRecv(t, srv.opened, "server OnOpen")
		// Client ping: the server answers on its own.
		if err := c.Ping([]byte("from client")); err != nil {
			t.Fatal(err)
		}
		if p := cliRecv(t, srv.pings, "server OnPing"); p != "from client" {
			t.Fatalf("server ping %q", p)
		}
		if p := cliRecv(t, h.pongs, "client OnPong"); p != "from client" {
			t.Fatalf("client pong %q", p)
		}
		// Server ping: the client answers on its own.
		if err := sc.Ping([]byte("from server")); err != nil {
			t.Fatal(err)
		}
		if p := cliRecv(t, h.pings, "client OnPing"); p != "from server" {
			t.Fatalf("client ping %q", p)
		}
		if p := cliRecv(t, srv.pongs, "server OnPong"); p != "from server" {
			t.Fatalf("server pong %q", p)
		}
		if err := c.Ping(make([]byte, 126)); !errors.Is(err, ErrControlTooLong) {
			t.Fatalf("126-byte ping: %v", err)
		}
	})
}

func TestClientPingPongNodeWS(t *testing.T) {
	t.Parallel()
	n := cliNode(t, false)
	forModes(t, func(t *testing.T, cfg Config) {
		h := newCliPeer(false)
		c := cliDial(t, cliClient(t, nil, cfg), "ws://"+n.addr+"/ping", &DialOptions{Handler: h})
		// ws pings first; the client's automatic pong comes back as a message.
		if p := cliRecv(t, h.pings, "client OnPing"); p != "from-ws" {
			t.Fatalf("client ping %q", p)
		}
		if m := cliRecv(t, h.msgs, "node's pong report"); string(m.data) != "pong:from-ws" {
			t.Fatalf("node reported %q", m.data)
		}
		if err := c.Ping([]byte("to ws")); err != nil {
			t.Fatal(err)
		}
		if p := cliRecv(t, h.pongs, "client OnPong"); p != "to ws" {
			t.Fatalf("client pong %q", p)
		}
	})
}

// ---------------------------------------------------------------------------
// Close codes both ways.

func TestClientCloseCodes(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		srv := newCliPeer(true)
		_, addr := startServer(t, srv, cfg, nil)
		cl := cliClient(t, nil, cfg)
		t.Run("client closes", func(t *testing.T) {
			c := cliDial(t, cl, "ws://"+addr+"/", nil)
			cliRecv(t, srv.opened, "server OnOpen")
			if err := c.Close(4001, "client bye"); err != nil {
				t.Fatal(err)
			}
			r := cliRecv(t, srv.closed, "server OnClose")
			if r.code != 4001 || r.reason != "client bye" || r.err != nil {
				t.Fatalf("server OnClose %d %q %v", r.code, r.reason, r.err)
			}
			_, _, err := c.ReadMessage(cliCtx(t))
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != 4001 {
				t.Fatalf("client ReadMessage after Close: %v", err)
			}
			if code, _ := c.CloseStatus(); code != 4001 || c.State() != StateClosed {
				t.Fatalf("CloseStatus %d, state %v", code, c.State())
			}
		})
		t.Run("server closes", func(t *testing.T) {
			h := newCliPeer(false)
			c := cliDial(t, cl, "ws://"+addr+"/", &DialOptions{Handler: h})
			sc := cliRecv(t, srv.opened, "server OnOpen")
			if err := sc.Close(4002, "server bye"); err != nil {
				t.Fatal(err)
			}
			r := cliRecv(t, h.closed, "client OnClose")
			if r.code != 4002 || r.reason != "server bye" || r.err != nil {
				t.Fatalf("client OnClose %d %q %v", r.code, r.reason, r.err)
			}
			if r := cliRecv(t, srv.closed, "server OnClose"); r.code != 4002 || r.err != nil {
				t.Fatalf("server OnClose %d %q %v", r.code, r.reason, r.err)
			}
			if c.State() != StateClosed {
				t.Fatalf("state %v", c.State())
			}
		})
		t.Run("server closes, ReadMessage", func(t *testing.T) {
			c := cliDial(t, cl, "ws://"+addr+"/", nil)
			sc := cliRecv(t, srv.opened, "server OnOpen")
			sc.WriteText("last words")
			sc.Close(frame.StatusGoingAway, "shutting down")
			if _, p, err := c.ReadMessage(cliCtx(t)); err != nil || string(p) != "last words" {
				t.Fatalf("message before the close: %q %v", p, err)
			}
			_, _, err := c.ReadMessage(cliCtx(t))
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != frame.StatusGoingAway || ce.Reason != "shutting down" {
				t.Fatalf("ReadMessage = %v", err)
			}
			cliRecv(t, srv.closed, "server OnClose")
		})
		t.Run("server drops TCP", func(t *testing.T) {
			c := cliDial(t, cl, "ws://"+addr+"/", nil)
			sc := cliRecv(t, srv.opened, "server OnOpen")
			sc.Abort()
			_, _, err := c.ReadMessage(cliCtx(t))
			if err == nil || CloseStatus(err) == frame.StatusNormalClosure {
				t.Fatalf("ReadMessage after the server aborted: %v", err)
			}
			cliRecv(t, srv.closed, "server OnClose")
		})
	})
}

func TestClientCloseCodesNodeWS(t *testing.T) {
	t.Parallel()
	n := cliNode(t, false)
	forModes(t, func(t *testing.T, cfg Config) {
		cl := cliClient(t, nil, cfg)
		t.Run("node closes", func(t *testing.T) {
			id := cliNodeID(t)
			ev := n.events(id)
			c := cliDial(t, cl, "ws://"+n.addr+"/close?code=4003&reason=node-bye&id="+id, nil)
			_, _, err := c.ReadMessage(cliCtx(t))
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != 4003 || ce.Reason != "node-bye" {
				t.Fatalf("ReadMessage = %v", err)
			}
			if e := cliRecv(t, ev, "node close event"); e.Code != 4003 {
				t.Fatalf("node saw %+v", e)
			}
		})
		t.Run("client closes", func(t *testing.T) {
			id := cliNodeID(t)
			ev := n.events(id)
			h := newCliPeer(false)
			c := cliDial(t, cl, "ws://"+n.addr+"/echo?id="+id, &DialOptions{Handler: h})
			cliRecv(t, h.opened, "client OnOpen")
			if err := c.Close(4004, "to-node"); err != nil {
				t.Fatal(err)
			}
			if e := cliRecv(t, ev, "node close event"); e.Code != 4004 || e.Reason != "to-node" {
				t.Fatalf("node saw %+v", e)
			}
			if r := cliRecv(t, h.closed, "client OnClose"); r.code != 4004 || r.err != nil {
				t.Fatalf("client OnClose %d %q %v", r.code, r.reason, r.err)
			}
		})
	})
}
