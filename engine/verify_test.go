package engine

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// The opening handshake on the engine's own listener: the verify hook (synchronous,
// deferred, rejected, timed out), subprotocols, kept request fields, version 8, and
// the exact status of malformed requests.

// vfHandler records what OnOpen saw and echoes messages.
type vfHandler struct {
	NopHandler
	opened chan vfOpen
	closed chan closeRecord
}

type vfOpen struct {
	c       *Conn
	sub     string
	user    any
	kept    *Kept
	version int
}

func newVFHandler() *vfHandler {
	return &vfHandler{opened: make(chan vfOpen, 4), closed: make(chan closeRecord, 4)}
}

func (h *vfHandler) OnOpen(c *Conn) {
	h.opened <- vfOpen{c: c, sub: c.Subprotocol(), user: c.UserData(), kept: c.Request(), version: c.Version()}
}

func (h *vfHandler) OnMessage(c *Conn, op frame.Opcode, p []byte) { c.WriteMessage(op, p) }

func (h *vfHandler) OnClose(c *Conn, code frame.StatusCode, reason string, err error) {
	h.closed <- closeRecord{code, reason, err}
}

func (h *vfHandler) open(t testing.TB) vfOpen {
	t.Helper()
	select {
	case o := <-h.opened:
		return o
	case <-time.After(10 * time.Second):
		t.Fatal("no OnOpen within 10s")
	}
	return vfOpen{}
}

func (h *vfHandler) noOpen(t testing.TB) {
	t.Helper()
	select {
	case o := <-h.opened:
		t.Fatalf("OnOpen called for a rejected handshake (path %v)", o.kept)
	default:
	}
}

// vfRequest builds a handshake request; lines replace nothing, they are added.
func vfRequest(method, target, host string, lines ...string) string {
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n")
	for _, l := range lines {
		b.WriteString(l + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// vfStd are the header lines of a valid version 13 request.
var vfStd = []string{"Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: " + testKey, "Sec-WebSocket-Version: 13"}

func vfLines(extra ...string) []string { return append(append([]string{}, vfStd...), extra...) }

// vfSend writes raw (a request and possibly frames after it) in one write and reads the
// response head.
func vfSend(t *testing.T, addr, raw string) (*rawClient, *http.Response) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(nc, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the handshake response: %v", err)
	}
	return &rawClient{t: t, nc: nc, br: br}, resp
}

// expectRejected checks a rejection: status, reason header and body, then the end
// of the connection.
func (rc *rawClient) expectRejected(resp *http.Response, status int, reason string) {
	rc.t.Helper()
	if resp.StatusCode != status {
		rc.t.Fatalf("status %d, want %d", resp.StatusCode, status)
	}
	if reason != "" {
		if got := resp.Header.Get("X-WebSocket-Reject-Reason"); got != reason {
			rc.t.Fatalf("X-WebSocket-Reject-Reason %q, want %q", got, reason)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			rc.t.Fatalf("body: %v", err)
		}
		if string(body) != reason+"\n" {
			rc.t.Fatalf("body %q, want %q", body, reason+"\n")
		}
	}
	rc.expectEOF()
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		u := &upgrade.Upgrader{Verify: func(r *upgrade.Request, d *upgrade.Decision) {
			if r.Header("Authorization") == "" {
				d.Header().Add("Retry-After", "3")
				d.Reject(http.StatusForbidden, "no token")
			}
		}}
		h := newVFHandler()
		s, addr := startServer(t, h, cfg, u)
		rc, resp := dialRawResp(t, addr)
		if got := resp.Header.Get("Retry-After"); got != "3" {
			t.Errorf("Retry-After %q, want 3", got)
		}
		rc.expectRejected(resp, http.StatusForbidden, "no token")
		h.noOpen(t)
		waitFor(t, func() bool { return s.NumConns() == 0 })

		// The same server accepts a request the hook likes.
		rc = dialRaw(t, addr, "Authorization: Bearer x")
		h.open(t)
		rc.send(true, frame.OpText, []byte("in"))
		if _, p := rc.readMessage(); string(p) != "in" {
			t.Fatalf("echo %q", p)
		}
	})
}

// TestVerifyDeferredAccept: the hook defers and another goroutine accepts 50 ms
// later, choosing the subprotocol, attaching user data and keeping the path; frames
// the client sent right behind the request wait for the decision.
func TestVerifyDeferredAccept(t *testing.T) {
	t.Parallel()
	type user struct{ name string }
	for _, early := range []bool{false, true} {
		name := "request alone"
		if early {
			name = "frame behind the request"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				alice := &user{"alice"}
				acceptErr := make(chan error, 1)
				u := &upgrade.Upgrader{Verify: func(r *upgrade.Request, d *upgrade.Decision) {
					hd := d.Defer()
					go func() {
						time.Sleep(50 * time.Millisecond)
						acceptErr <- hd.Accept(upgrade.Acceptance{
							Subprotocol: "chat",
							UserValue:   alice,
							Keep:        upgrade.KeepPath,
							Header:      http.Header{"Set-Cookie": {"sid=1"}},
						})
					}()
				}}
				h := newVFHandler()
				_, addr := startServer(t, h, cfg, u)
				raw := vfRequest("GET", "/rooms/7", addr, vfLines("Sec-WebSocket-Protocol: superchat, chat")...)
				if early {
					raw += string(frameBytes(true, frame.OpText, 0, []byte("early"), true))
				}
				rc, resp := vfSend(t, addr, raw)
				if resp.StatusCode != http.StatusSwitchingProtocols {
					t.Fatalf("status %d", resp.StatusCode)
				}
				if err := <-acceptErr; err != nil {
					t.Fatalf("Handle.Accept: %v", err)
				}
				if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != "chat" {
					t.Errorf("Sec-WebSocket-Protocol %q, want chat", got)
				}
				if got := resp.Header.Get("Set-Cookie"); got != "sid=1" {
					t.Errorf("Set-Cookie %q", got)
				}
				o := h.open(t)
				if o.sub != "chat" || o.c.Subprotocol() != "chat" {
					t.Errorf("Subprotocol %q in OnOpen, want chat", o.sub)
				}
				if o.user != alice {
					t.Errorf("UserData in OnOpen %v, want the accepted value", o.user)
				}
				if o.kept == nil || o.kept.Path != "/rooms/7" {
					t.Errorf("Request() %+v, want Path /rooms/7", o.kept)
				}
				if early {
					if op, p := rc.readMessage(); op != frame.OpText || string(p) != "early" {
						t.Fatalf("the early frame came back as %v %q", op, p)
					}
				}
				rc.send(true, frame.OpText, []byte("hello"))
				if op, p := rc.readMessage(); op != frame.OpText || string(p) != "hello" {
					t.Fatalf("echo %v %q", op, p)
				}
			})
		})
	}
}

func TestVerifyDeferredReject(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		u := &upgrade.Upgrader{Verify: func(r *upgrade.Request, d *upgrade.Decision) {
			hd := d.Defer()
			go func() {
				time.Sleep(50 * time.Millisecond)
				hd.Reject(http.StatusUnauthorized, "bad token", http.Header{"Retry-After": {"7"}})
			}()
		}}
		h := newVFHandler()
		s, addr := startServer(t, h, cfg, u)
		rc, resp := dialRawResp(t, addr)
		if got := resp.Header.Get("Retry-After"); got != "7" {
			t.Errorf("Retry-After %q, want 7", got)
		}
		rc.expectRejected(resp, http.StatusUnauthorized, "bad token")
		h.noOpen(t)
		waitFor(t, func() bool { return s.NumConns() == 0 })
	})
}

// TestVerifyDeferredAbandoned: a deferred handshake nobody answers ends at
// HandshakeTimeout, and one whose client hangs up ends then; either way the
// Handle's context ends with the reason and a late Accept is refused.
func TestVerifyDeferredAbandoned(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		timeout time.Duration
		hangUp  bool
		cause   error // nil: any cause
	}{
		{"handshake timeout", 200 * time.Millisecond, false, ErrHandshakeTimeout},
		{"client hangs up", 60 * time.Second, true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				cfg.TimerResolution = 10 * time.Millisecond
				cfg.HandshakeTimeout = tc.timeout
				handles := make(chan *upgrade.Handle, 1)
				u := &upgrade.Upgrader{Verify: func(r *upgrade.Request, d *upgrade.Decision) { handles <- d.Defer() }}
				h := newVFHandler()
				s, addr := startServer(t, h, cfg, u)
				// Before the dial: the server arms HandshakeTimeout at its
				// accept, which can come before a loaded client's Dial returns
				// (seen: closed 138-145 ms after a start taken after Dial,
				// at load 30).
				start := time.Now()
				nc, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer nc.Close()
				io.WriteString(nc, vfRequest("GET", "/", addr, vfStd...))
				var hd *upgrade.Handle
				select {
				case hd = <-handles:
				case <-time.After(10 * time.Second):
					t.Fatal("verify hook not called")
				}
				if tc.hangUp {
					nc.Close()
				} else {
					// The server ends the connection without a 101.
					nc.SetReadDeadline(time.Now().Add(10 * time.Second))
					got, err := io.ReadAll(nc)
					var ne net.Error
					if errors.As(err, &ne) && ne.Timeout() {
						t.Fatal("the connection outlived HandshakeTimeout")
					}
					if strings.HasPrefix(string(got), "HTTP/1.1 101") {
						t.Fatalf("got a 101 for an unanswered handshake: %q", got)
					}
					if d := time.Since(start); d < tc.timeout*3/4 {
						t.Errorf("closed after %v, before HandshakeTimeout %v", d, tc.timeout)
					}
				}
				select {
				case <-hd.Context().Done():
				case <-time.After(10 * time.Second):
					t.Fatal("the Handle's context did not end")
				}
				cause := context.Cause(hd.Context())
				if tc.cause != nil && !errors.Is(cause, tc.cause) {
					t.Errorf("context cause %v, want %v", cause, tc.cause)
				}
				if err := hd.Accept(upgrade.Acceptance{}); !errors.Is(err, upgrade.ErrCanceled) {
					t.Errorf("late Accept: %v, want upgrade.ErrCanceled", err)
				}
				waitFor(t, func() bool { return s.NumConns() == 0 })
				h.noOpen(t)
			})
		})
	}
}

func TestSubprotocolNegotiation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		server []string
		offer  string // "" sends no Sec-WebSocket-Protocol
		want   string
	}{
		{"server preference wins", []string{"v2", "v1"}, "v1, v2", "v2"},
		{"only common one", []string{"v2", "v1"}, "v0, v1", "v1"},
		{"none in common", []string{"v2"}, "v3", ""},
		{"client offers none", []string{"v2"}, "", ""},
		{"server has none", nil, "v1", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				h := newVFHandler()
				_, addr := startServer(t, h, cfg, &upgrade.Upgrader{Subprotocols: tc.server})
				var extra []string
				if tc.offer != "" {
					extra = append(extra, "Sec-WebSocket-Protocol: "+tc.offer)
				}
				_, resp := dialRawResp(t, addr, extra...)
				if resp.StatusCode != http.StatusSwitchingProtocols {
					t.Fatalf("status %d", resp.StatusCode)
				}
				if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != tc.want {
					t.Errorf("Sec-WebSocket-Protocol %q, want %q", got, tc.want)
				}
				if _, present := resp.Header["Sec-Websocket-Protocol"]; present && tc.want == "" {
					t.Errorf("an empty Sec-WebSocket-Protocol was sent")
				}
				if o := h.open(t); o.sub != tc.want {
					t.Errorf("Conn.Subprotocol %q, want %q", o.sub, tc.want)
				}
			})
		})
	}
}

func TestKeepRequest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		keep   upgrade.Keep
		target string
		want   *Kept
	}{
		{"nothing kept", 0, "/a?b=c", nil},
		{"path", upgrade.KeepPath, "/chat/room%201?x=1", &Kept{Path: "/chat/room 1"}},
		{"path and query", upgrade.KeepPath | upgrade.KeepRawQuery, "/chat?x=1&y=%20", &Kept{Path: "/chat", Query: "x=1&y=%20"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				u := &upgrade.Upgrader{Verify: func(r *upgrade.Request, d *upgrade.Decision) {
					if tc.keep != 0 {
						d.Keep(tc.keep)
					}
				}}
				h := newVFHandler()
				_, addr := startServer(t, h, cfg, u)
				_, resp := vfSend(t, addr, vfRequest("GET", tc.target, addr, vfStd...))
				if resp.StatusCode != http.StatusSwitchingProtocols {
					t.Fatalf("status %d", resp.StatusCode)
				}
				o := h.open(t)
				switch {
				case tc.want == nil && o.kept != nil:
					t.Fatalf("Request() = %+v, want nil", o.kept)
				case tc.want != nil && (o.kept == nil || o.kept.Path != tc.want.Path || o.kept.Query != tc.want.Query):
					t.Fatalf("Request() = %+v, want %+v", o.kept, tc.want)
				}
			})
		})
	}
}

func TestVersion8(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		h := newVFHandler()
		_, addr := startServer(t, h, cfg, nil)
		lines := []string{"Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: " + testKey,
			"Sec-WebSocket-Version: 8", "Sec-WebSocket-Origin: http://" + addr}
		rc, resp := vfSend(t, addr, vfRequest("GET", "/", addr, lines...))
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("status %d", resp.StatusCode)
		}
		o := h.open(t)
		if o.version != 8 || o.c.Version() != 8 {
			t.Fatalf("Version() %d, want 8", o.version)
		}
		rc.send(true, frame.OpBinary, []byte{1, 2, 3})
		if op, p := rc.readMessage(); op != frame.OpBinary || string(p) != "\x01\x02\x03" {
			t.Fatalf("echo %v %x", op, p)
		}

		// A version 13 client reports 13.
		dialRaw(t, addr)
		if o := h.open(t); o.version != 13 {
			t.Fatalf("Version() %d, want 13", o.version)
		}
	})
}

// TestBadHandshakeStatus: malformed or refused requests on the engine's own listener
// get their exact status and fields, and the connection is closed.
func TestBadHandshakeStatus(t *testing.T) {
	t.Parallel()
	noKey := []string{"Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13"}
	v7 := []string{"Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: " + testKey, "Sec-WebSocket-Version: 7"}
	v8Evil := []string{"Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: " + testKey,
		"Sec-WebSocket-Version: 8", "Sec-WebSocket-Origin: http://evil.example"}
	cases := []struct {
		name   string
		req    func(addr string) string
		status int
		header map[string]string
	}{
		{"POST", func(a string) string { return vfRequest("POST", "/ws", a, vfStd...) }, 405, map[string]string{"Allow": "GET"}},
		{"missing key", func(a string) string { return vfRequest("GET", "/ws", a, noKey...) }, 400, nil},
		{"version 7", func(a string) string { return vfRequest("GET", "/ws", a, v7...) }, 426,
			map[string]string{"Sec-WebSocket-Version": "13, 8"}},
		{"wrong path", func(a string) string { return vfRequest("GET", "/elsewhere", a, vfStd...) }, 404, nil},
		{"cross origin", func(a string) string { return vfRequest("GET", "/ws", a, vfLines("Origin: http://evil.example")...) }, 403, nil},
		{"cross origin version 8", func(a string) string { return vfRequest("GET", "/ws", a, v8Evil...) }, 403, nil},
		{"HTTP/1.0", func(a string) string {
			return strings.Replace(vfRequest("GET", "/ws", a, vfStd...), "HTTP/1.1", "HTTP/1.0", 1)
		}, 400, nil},
		{"no Upgrade", func(a string) string { return vfRequest("GET", "/ws", a, vfStd[1:]...) }, 426,
			map[string]string{"Upgrade": "websocket", "Sec-WebSocket-Version": "13, 8"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				h := newVFHandler()
				s, addr := startServer(t, h, cfg, &upgrade.Upgrader{Path: "/ws"})
				rc, resp := vfSend(t, addr, tc.req(addr))
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
				}
				for k, v := range tc.header {
					if got := resp.Header.Get(k); got != v {
						t.Errorf("%s: %q, want %q", k, got, v)
					}
				}
				if !resp.Close {
					t.Errorf("rejection without Connection: close")
				}
				rc.expectEOF()
				h.noOpen(t)
				waitFor(t, func() bool { return s.NumConns() == 0 })
			})
		})
	}
}
