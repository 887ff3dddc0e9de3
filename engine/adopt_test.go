package engine

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// Server.Adopt carries what the handshake negotiated (upgrade.Result) into the
// Conn: reached through ServeHTTP, where net/http did the upgrade, and called
// directly with a Result made by hand.

// adoptDial sends a handshake request for target (path and query) with the
// given header lines to addr and returns the client end after the answer, which
// must be a 101.
func adoptDial(t *testing.T, addr, target string, lines ...string) (*rawClient, *http.Response) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(cliWait))
	req := "GET " + target + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\n" + strings.Join(lines, "\r\n") + "\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake for %s: status %d", target, resp.StatusCode)
	}
	return &rawClient{t: t, nc: nc, br: br}, resp
}

// adoptCompressedEcho sends a compressed text message and checks that the
// server (an echo, compressing everything without context takeover) got it
// inflated and answered with a compressed frame (RSV1).
func adoptCompressedEcho(t *testing.T, rc *rawClient) {
	t.Helper()
	msg := []byte(strings.Repeat("compress me, both ways. ", 40))
	rc.write(frameBytes(true, frame.OpText, frame.Rsv1, mustCompress(t, msg), true))
	h, p, err := rc.readFrame()
	if err != nil {
		t.Fatal(err)
	}
	if h.Opcode != frame.OpText || h.Rsv != frame.Rsv1 {
		t.Fatalf("echo: %v rsv %x, want a compressed text frame", h.Opcode, h.Rsv)
	}
	if len(p) >= len(msg) {
		t.Fatalf("echo of %d bytes is %d bytes on the wire", len(msg), len(p))
	}
	got, err := deflate.Decompress(nil, p, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, got, msg) // the server inflated ours, or the echo would differ
}

// adoptPlainEcho checks an uncompressed echo (RSV1 clear).
func adoptPlainEcho(t *testing.T, rc *rawClient) {
	t.Helper()
	msg := []byte(strings.Repeat("plain text, both ways. ", 40))
	rc.send(true, frame.OpText, msg)
	h, p, err := rc.readFrame()
	if err != nil {
		t.Fatal(err)
	}
	if h.Rsv != 0 {
		t.Fatalf("echo has rsv %x on a connection without deflate", h.Rsv)
	}
	mustEqual(t, p, msg)
}

// adoptDeflate is the server's permessage-deflate: every message compressed, no
// context takeover, so that each frame inflates alone.
func adoptDeflate() *deflate.Options {
	return &deflate.Options{Threshold: -1, ServerNoContextTakeover: true, ClientNoContextTakeover: true}
}

// TestServeHTTPAdoptResult: through ServeHTTP, the Conn reports the negotiated
// subprotocol, version and compression, and what the verify hook kept.
func TestServeHTTPAdoptResult(t *testing.T) {
	t.Parallel()
	keepAll := func(r *upgrade.Request, d *upgrade.Decision) {
		d.Keep(upgrade.KeepPath | upgrade.KeepRawQuery | upgrade.KeepHeader)
		d.SetUserValue("user-" + r.Header("X-Token"))
	}
	cases := []struct {
		name     string
		verify   func(*upgrade.Request, *upgrade.Decision)
		target   string
		lines    []string
		version  int
		sub      string
		deflate  bool
		kept     *Kept // Header checked for X-Token only
		userData any
	}{
		{
			name:   "v13 subprotocol deflate kept",
			verify: keepAll,
			target: "/ws/room?x=1&y=%20z",
			lines: []string{"Sec-WebSocket-Version: 13", "Sec-WebSocket-Protocol: chat.v1, chat.v2",
				"Sec-WebSocket-Extensions: permessage-deflate", "X-Token: abc"},
			version: 13, sub: "chat.v2", deflate: true,
			kept:     &Kept{Path: "/ws/room", Query: "x=1&y=%20z", Header: http.Header{"X-Token": {"abc"}}},
			userData: "user-abc",
		},
		{
			name:    "v8",
			verify:  keepAll,
			target:  "/v8?old=1",
			lines:   []string{"Sec-WebSocket-Version: 8", "Sec-WebSocket-Protocol: chat.v1", "X-Token: eight"},
			version: 8, sub: "chat.v1",
			kept:     &Kept{Path: "/v8", Query: "old=1", Header: http.Header{"X-Token": {"eight"}}},
			userData: "user-eight",
		},
		{
			name:    "v8 deflate",
			target:  "/",
			lines:   []string{"Sec-WebSocket-Version: 8", "Sec-WebSocket-Extensions: permessage-deflate"},
			version: 8, deflate: true,
		},
		{
			name:    "nothing negotiated, nothing kept",
			target:  "/plain?q=1",
			lines:   []string{"Sec-WebSocket-Version: 13", "X-Token: ignored"},
			version: 13,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				cfg.Compression = adoptDeflate()
				h := newCliPeer(true)
				s, err := NewServer(h, &cfg, &upgrade.Upgrader{Subprotocols: []string{"chat.v2", "chat.v1"}, Verify: tc.verify})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				ts := httptest.NewServer(s)
				t.Cleanup(ts.Close)
				rc, resp := adoptDial(t, ts.Listener.Addr().String(), tc.target, tc.lines...)
				if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != tc.sub {
					t.Fatalf("101 picked subprotocol %q, want %q", got, tc.sub)
				}
				c := cliRecv(t, h.opened, "OnOpen")
				if c.Subprotocol() != tc.sub {
					t.Errorf("Subprotocol() = %q, want %q", c.Subprotocol(), tc.sub)
				}
				if c.Version() != tc.version {
					t.Errorf("Version() = %d, want %d", c.Version(), tc.version)
				}
				if c.IsClient() {
					t.Error("IsClient() on an adopted server connection")
				}
				p, ok := c.Compression()
				if ok != tc.deflate {
					t.Fatalf("Compression() ok = %v, want %v (101 extensions %q)", ok, tc.deflate, resp.Header.Get("Sec-WebSocket-Extensions"))
				}
				if ok && !p.ServerNoContextTakeover {
					t.Errorf("Compression() = %+v, want the negotiated server_no_context_takeover", p)
				}
				k := c.Request()
				switch {
				case tc.kept == nil && k != nil:
					t.Errorf("Request() = %+v, want nil: nothing was kept", k)
				case tc.kept != nil && k == nil:
					t.Error("Request() = nil, want what the verify hook kept")
				case tc.kept != nil:
					if k.Path != tc.kept.Path || k.Query != tc.kept.Query {
						t.Errorf("Request() path %q query %q, want %q %q", k.Path, k.Query, tc.kept.Path, tc.kept.Query)
					}
					if got := http.Header(k.Header).Values("X-Token"); !slices.Equal(got, tc.kept.Header["X-Token"]) {
						t.Errorf("kept X-Token %q, want %q", got, tc.kept.Header["X-Token"])
					}
					if got := http.Header(k.Header).Get("Sec-WebSocket-Key"); got != testKey {
						t.Errorf("kept Sec-WebSocket-Key %q: the whole header should be kept", got)
					}
				}
				if c.UserData() != tc.userData {
					t.Errorf("UserData() = %v, want %v", c.UserData(), tc.userData)
				}
				if tc.deflate {
					adoptCompressedEcho(t, rc)
				} else {
					adoptPlainEcho(t, rc)
				}
			})
		})
	}
}

// TestServeHTTPAdoptWeirClient: weir's client through ServeHTTP; both ends agree
// on the subprotocol and the deflate parameters, and messages go compressed.
func TestServeHTTPAdoptWeirClient(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		scfg := cfg
		scfg.Compression = adoptDeflate()
		h := newCliPeer(true)
		s, err := NewServer(h, &scfg, &upgrade.Upgrader{Subprotocols: []string{"b", "a"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		ts := httptest.NewServer(s)
		t.Cleanup(ts.Close)
		c := cliDial(t, cliClient(t, nil, cfg), "ws://"+ts.Listener.Addr().String()+"/", &DialOptions{
			Subprotocols: []string{"a", "b"}, Compression: &deflate.Options{Threshold: -1},
		})
		sc := cliRecv(t, h.opened, "OnOpen")
		if c.Subprotocol() != "b" || sc.Subprotocol() != "b" {
			t.Fatalf("subprotocol: client %q, server %q, want b", c.Subprotocol(), sc.Subprotocol())
		}
		cp, cok := c.Compression()
		sp, sok := sc.Compression()
		if !cok || !sok || cp != sp {
			t.Fatalf("compression: client %+v %v, server %+v %v", cp, cok, sp, sok)
		}
		msg := jsonish(64 << 10)
		for range 3 {
			if err := c.WriteMessage(frame.OpText, msg); err != nil {
				t.Fatal(err)
			}
			_, got, err := c.ReadMessage(cliCtx(t))
			if err != nil {
				t.Fatal(err)
			}
			mustEqual(t, got, msg)
		}
		if in, out := c.Stats().BytesIn, c.Stats().BytesOut; in >= uint64(len(msg)) || out >= uint64(len(msg)) {
			t.Fatalf("3 messages of %d bytes took %d bytes in, %d out: not compressed", len(msg), in, out)
		}
	})
}

// TestAdoptResultByHand: Adopt with a Result built by hand (a handshake done by
// other code) and with none.
func TestAdoptResultByHand(t *testing.T) {
	t.Parallel()
	agreed := deflate.Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 12}
	cases := []struct {
		name    string
		res     *upgrade.Result
		version int
		sub     string
		deflate bool
		kept    *Kept
		user    any
	}{
		{"nil result", nil, 13, "", false, nil, nil},
		{"zero result", &upgrade.Result{}, 13, "", false, nil, nil},
		{"everything", &upgrade.Result{
			Status: http.StatusSwitchingProtocols, Version: 8, Subprotocol: "mqtt",
			Extensions: agreed.Agreement(), UserValue: 42,
			Path: "/adopted", RawQuery: "a=b", Header: http.Header{"X-Token": {"t"}},
		}, 8, "mqtt", true, &Kept{Path: "/adopted", Query: "a=b", Header: http.Header{"X-Token": {"t"}}}, 42},
		{"only the query kept", &upgrade.Result{Version: 13, RawQuery: "only=1"}, 13, "", false, &Kept{Query: "only=1"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				cfg.Compression = adoptDeflate()
				h := newCliPeer(true)
				s, err := NewServer(h, &cfg, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				nc, rc := tcpPairRaw(t)
				c := s.Adopt(nc, nil, tc.res)
				if got := cliRecv(t, h.opened, "OnOpen"); got != c {
					t.Fatal("OnOpen got another Conn than Adopt returned")
				}
				if c.Version() != tc.version || c.Subprotocol() != tc.sub || c.UserData() != tc.user {
					t.Fatalf("Version %d Subprotocol %q UserData %v, want %d %q %v",
						c.Version(), c.Subprotocol(), c.UserData(), tc.version, tc.sub, tc.user)
				}
				p, ok := c.Compression()
				if ok != tc.deflate || (ok && p != agreed.Agreement().Params()) {
					t.Fatalf("Compression() = %+v %v, want %+v %v", p, ok, agreed.Agreement().Params(), tc.deflate)
				}
				k := c.Request()
				if (k == nil) != (tc.kept == nil) {
					t.Fatalf("Request() = %+v, want %+v", k, tc.kept)
				}
				if k != nil && (k.Path != tc.kept.Path || k.Query != tc.kept.Query ||
					http.Header(k.Header).Get("X-Token") != http.Header(tc.kept.Header).Get("X-Token")) {
					t.Fatalf("Request() = %+v, want %+v", k, tc.kept)
				}
				if tc.deflate {
					adoptCompressedEcho(t, rc)
				} else {
					adoptPlainEcho(t, rc)
				}
			})
		})
	}
}
