package upgrade

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/textproto"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookCall is one call of OnHandshakeError.
type hookCall struct {
	peer netip.AddrPort
	r    *http.Request
	err  *HandshakeError
}

// hookLog records OnHandshakeError calls.
type hookLog struct {
	mu    sync.Mutex
	calls []hookCall
}

func (l *hookLog) hook(peer netip.AddrPort, r *http.Request, err *HandshakeError) {
	l.mu.Lock()
	l.calls = append(l.calls, hookCall{peer, r, err})
	l.mu.Unlock()
}

func (l *hookLog) take() []hookCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.calls
	l.calls = nil
	return c
}

// wireAnswer reads a rejection with textproto, which (unlike net/http) keeps
// the Connection field.
func wireAnswer(t *testing.T, br *bufio.Reader) (int, http.Header, []byte) {
	t.Helper()
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		t.Fatalf("status line: %v", err)
	}
	_, rest, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(rest, " ")
	status, err := strconv.Atoi(code)
	if err != nil {
		t.Fatalf("status line %q", line)
	}
	mh, err := tp.ReadMIMEHeader()
	if err != nil {
		t.Fatalf("header: %v", err)
	}
	n, err := strconv.Atoi(mh.Get("Content-Length"))
	if err != nil {
		t.Fatalf("Content-Length %q", mh.Get("Content-Length"))
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		t.Fatalf("body: %v", err)
	}
	return status, http.Header(mh), body
}

// checkCall compares the hook's view of a rejection with the answer on the wire.
func checkCall(t *testing.T, c hookCall, status int, hdr http.Header, body []byte, want error) {
	t.Helper()
	he := c.err
	switch {
	case he.Status != status:
		t.Errorf("hook status %d, wire %d", he.Status, status)
	case !errors.Is(he, want):
		t.Errorf("hook error %v (Err %v), want %v", he, he.Err, want)
	case he.Reason != hdr.Get("X-WebSocket-Reject-Reason"):
		t.Errorf("hook reason %q, wire %q", he.Reason, hdr.Get("X-WebSocket-Reject-Reason"))
	case !bytes.Equal(he.Body, body):
		t.Errorf("hook body %q, wire %q", he.Body, body)
	}
	// net/http adds Date (and may add more) to what it writes.
	got := he.Header.Clone()
	wire := hdr.Clone()
	wire.Del("Date")
	if !reflect.DeepEqual(got, wire) {
		t.Errorf("hook header %v\nwire header %v", got, wire)
	}
}

// connectionHas reports whether the Connection field lists every token.
func connectionHas(h http.Header, tokens ...string) bool {
	for _, tok := range tokens {
		found := false
		for _, v := range h.Values("Connection") {
			for _, e := range strings.Split(v, ",") {
				found = found || strings.EqualFold(strings.TrimSpace(e), tok)
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// TestOnHandshakeErrorRaw: on the raw path the hook sees every rejection that
// Handshake appends, and every refusal passed to Refuse, exactly as written.
func TestOnHandshakeErrorRaw(t *testing.T) {
	t.Parallel()
	const line = "GET /chat HTTP/1.1"
	cases := []struct {
		name   string
		u      Upgrader
		req    string
		refuse error // when set, Refuse answers it instead of the handshake
		status int
		err    error
		field  [2]string // a field the answer carries
	}{
		{"plain GET", Upgrader{}, buildRequest(line, "Host: server.example.com"), nil, 426, ErrUpgradeRequired, [2]string{"Upgrade", "websocket"}},
		{"Upgrade h2c", Upgrader{}, buildRequest(line, withField(validFields, "Upgrade: h2c")...), nil, 400, ErrBadUpgrade, [2]string{}},
		{"version 12", Upgrader{}, buildRequest(line, withField(validFields, "Sec-WebSocket-Version: 12")...), nil, 426, ErrBadVersion,
			[2]string{"Sec-WebSocket-Version", "13, 8"}},
		{"POST", Upgrader{}, buildRequest("POST /chat HTTP/1.1", validFields...), nil, 405, ErrBadMethod, [2]string{"Allow", "GET"}},
		{"path", Upgrader{Path: "/other"}, buildRequest(line, validFields...), nil, 404, ErrNotFound, [2]string{}},
		{"origin", Upgrader{}, buildRequest(line, append(validFields, "Origin: https://evil.example")...), nil, 403, ErrOriginDenied, [2]string{}},
		{"verify", Upgrader{Verify: func(r *Request, d *Decision) {
			_ = d.Header().Add("Retry-After", "30")
			d.Reject(401, "token expired")
		}}, buildRequest(line, validFields...), nil, 401, ErrRejected, [2]string{"Retry-After", "30"}},
		{"subprotocol pick not offered", Upgrader{SelectSubprotocol: func(*Request) string { return "nope" }},
			buildRequest(line, validFields...), nil, 500, ErrSubprotocolNotOffered, [2]string{}},
		{"accepted", Upgrader{}, buildRequest(line, validFields...), nil, 101, nil, [2]string{}},
		{"parse: bare LF", Upgrader{}, "GET / HTTP/1.1\nHost: x\n\n", nil, 400, ErrMalformed, [2]string{}},
		{"parse: line too long", Upgrader{Limits: Limits{MaxLineBytes: 64}},
			buildRequest(line, append(validFields, "X-Long: "+strings.Repeat("a", 100))...), nil, 431, ErrLineTooLong, [2]string{}},
		{"Refuse: shutting down", Upgrader{}, "", &CheckError{Status: 503, Reason: "server shutting down"}, 503, nil, [2]string{}},
		{"Refuse: HandshakeError with fields", Upgrader{}, "", &HandshakeError{Status: 503, Reason: "too many connections",
			Header: http.Header{"Retry-After": {"5"}, "Connection": {"keep-alive"}}, Err: io.ErrNoProgress},
			503, io.ErrNoProgress, [2]string{"Retry-After", "5"}},
		{"Refuse: other error", Upgrader{}, "", io.ErrUnexpectedEOF, 500, io.ErrUnexpectedEOF, [2]string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var log hookLog
			u := tc.u
			u.OnHandshakeError = log.hook
			var out []byte
			switch req := NewRequest(); {
			case tc.refuse != nil:
				out = u.Refuse(nil, testPeer, tc.refuse)
			default:
				if _, err := u.Parse([]byte(tc.req), req); err != nil {
					out = u.Refuse(nil, testPeer, err)
				} else {
					out, _ = u.Handshake(req, testPeer, nil, nil)
				}
			}
			calls := log.take()
			if tc.status == 101 {
				if len(calls) != 0 || !strings.HasPrefix(string(out), "HTTP/1.1 101 ") {
					t.Fatalf("accepted: %d hook calls, answer %q", len(calls), out)
				}
				return
			}
			if len(calls) != 1 {
				t.Fatalf("%d hook calls, want 1", len(calls))
			}
			c := calls[0]
			if c.peer != testPeer || c.r != nil {
				t.Errorf("hook peer %v request %v", c.peer, c.r)
			}
			status, hdr, body := wireAnswer(t, bufio.NewReader(bytes.NewReader(out)))
			if status != tc.status {
				t.Fatalf("status %d, want %d\n%s", status, tc.status, out)
			}
			want := tc.err
			if want == nil {
				want = tc.refuse
			}
			checkCall(t, c, status, hdr, body, want)
			if tc.field[0] != "" && hdr.Get(tc.field[0]) != tc.field[1] {
				t.Errorf("%s = %q, want %q", tc.field[0], hdr.Get(tc.field[0]), tc.field[1])
			}
			upgrade := status == 426
			if !connectionHas(hdr, "close") || connectionHas(hdr, "upgrade") != upgrade || (hdr.Get("Upgrade") != "") != upgrade {
				t.Errorf("Connection %q, Upgrade %q for status %d", hdr.Values("Connection"), hdr.Get("Upgrade"), status)
			}
		})
	}
}

// TestOnHandshakeErrorDeferred: a deferred decision tells the hook when Finish
// appends a rejection, and only then; an acceptance or a cancel does not.
func TestOnHandshakeErrorDeferred(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		decide func(h *Handle) error
		status int // 0: no answer (canceled)
	}{
		{"reject", func(h *Handle) error {
			return h.Reject(503, "auth backend down", http.Header{"Retry-After": {"7"}})
		}, 503},
		{"accept", func(h *Handle) error { return h.Accept(Acceptance{}) }, 101},
		{"cancel", func(h *Handle) error {
			if !h.Cancel(nil) {
				return errors.New("Cancel refused")
			}
			return nil
		}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var log hookLog
			handles := make(chan *Handle, 1)
			u := deferring(handles)
			u.OnHandshakeError = log.hook
			req := NewRequest()
			if _, err := u.Parse([]byte(buildRequest("GET / HTTP/1.1", validFields...)), req); err != nil {
				t.Fatal(err)
			}
			rec := newRecorder()
			if _, res := u.Handshake(req, testPeer, nil, rec); res.Pending == nil {
				t.Fatalf("not deferred: %+v", res)
			}
			h := <-handles
			if n := len(log.take()); n != 0 {
				t.Fatalf("%d hook calls while pending", n)
			}
			if err := tc.decide(h); err != nil {
				t.Fatal(err)
			}
			out, res := h.Finish(nil)
			calls := log.take()
			if tc.status != 503 {
				if len(calls) != 0 || res.Status != tc.status {
					t.Fatalf("%d hook calls, result %+v", len(calls), res)
				}
				return
			}
			if len(calls) != 1 || calls[0].peer != testPeer || calls[0].r != nil {
				t.Fatalf("hook calls %+v", calls)
			}
			status, hdr, body := wireAnswer(t, bufio.NewReader(bytes.NewReader(out)))
			checkCall(t, calls[0], status, hdr, body, ErrRejected)
			if hdr.Get("Retry-After") != "7" || calls[0].err.Status != 503 {
				t.Fatalf("answer %q", out)
			}
		})
	}
}

// nhSend writes a raw request to srv and reads the answer with textproto.
func nhSend(t *testing.T, srv *httptest.Server, req string) (netip.AddrPort, int, http.Header, []byte) {
	t.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	status, hdr, body := wireAnswer(t, br)
	// A rejection ends the connection: net/http must see Connection: close.
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Fatalf("after the %d answer: %q %v, want EOF", status, rest, err)
	}
	la := c.LocalAddr().(*net.TCPAddr).AddrPort()
	return netip.AddrPortFrom(la.Addr().Unmap(), la.Port()), status, hdr, body
}

// TestOnHandshakeErrorNetHTTP: through Upgrade and RefuseHTTP the hook sees the
// *http.Request, the client's address and the answer net/http wrote, and
// Upgrade returns the very *HandshakeError the hook got.
func TestOnHandshakeErrorNetHTTP(t *testing.T) {
	t.Parallel()
	var log hookLog
	handles := make(chan *Handle, 4)
	u := &Upgrader{
		OnHandshakeError: log.hook,
		HandshakeTimeout: 100 * time.Millisecond,
		Verify: func(r *Request, d *Decision) {
			switch r.Path() {
			case "/deny":
				_ = d.Header().Add("Retry-After", "30")
				d.Reject(401, "token expired")
			case "/slow":
				handles <- d.Defer() // never decided
			}
		},
	}
	errs := make(chan error, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Handler", "1")
		c, _, _, err := u.Upgrade(w, r)
		if c != nil {
			c.Close()
		}
		errs <- err
	})
	mux.HandleFunc("/busy", func(w http.ResponseWriter, r *http.Request) {
		errs <- u.RefuseHTTP(w, r, &HandshakeError{Status: 503, Reason: "too many connections",
			Header: http.Header{"Retry-After": {"5"}}, Err: io.ErrNoProgress})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	host := srv.Listener.Addr().String()
	ws := func(method, path string, lines ...string) string {
		return method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + strings.Join(lines, "") + "\r\n"
	}
	std := []string{"Upgrade: websocket\r\n", "Connection: Upgrade\r\n", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "Sec-WebSocket-Version: 13\r\n"}
	cases := []struct {
		name   string
		req    string
		path   string
		status int
		err    error
		field  [2]string
	}{
		{"plain GET", ws("GET", "/ws"), "/ws", 426, ErrUpgradeRequired, [2]string{"Upgrade", "websocket"}},
		{"POST", ws("POST", "/ws", append(std, "Content-Length: 0\r\n")...), "/ws", 405, ErrBadMethod, [2]string{"Allow", "GET"}},
		{"Upgrade h2c", ws("GET", "/ws", append([]string{"Upgrade: h2c\r\n"}, std[1:]...)...), "/ws", 400, ErrBadUpgrade, [2]string{}},
		{"a body", ws("GET", "/ws", append(std, "Content-Length: 2\r\n")...) + "hi", "/ws", 400, ErrRequestBody, [2]string{}},
		{"origin", ws("GET", "/ws", append(std, "Origin: https://evil.example\r\n")...), "/ws", 403, ErrOriginDenied, [2]string{}},
		{"verify", ws("GET", "/deny", std...), "/deny", 401, ErrRejected, [2]string{"Retry-After", "30"}},
		{"deferred past HandshakeTimeout", ws("GET", "/slow", std...), "/slow", 503, ErrVerifyTimeout, [2]string{"X-Handler", "1"}},
		{"RefuseHTTP", ws("GET", "/busy", std...), "/busy", 503, io.ErrNoProgress, [2]string{"Retry-After", "5"}},
	}
	// One at a time: the hook log and errs are shared.
	for _, tc := range cases {
		peer, status, hdr, body := nhSend(t, srv, tc.req)
		err := <-errs
		calls := log.take()
		if status != tc.status || len(calls) != 1 {
			t.Errorf("%s: status %d, %d hook calls; want %d, 1", tc.name, status, len(calls), tc.status)
			continue
		}
		c := calls[0]
		if c.r == nil || c.r.URL.Path != tc.path || c.peer != peer {
			t.Errorf("%s: hook request %v, peer %v (client %v)", tc.name, c.r, c.peer, peer)
		}
		if err != error(c.err) {
			t.Errorf("%s: returned %v, hook got %v", tc.name, err, c.err)
		}
		checkCall(t, c, status, hdr, body, tc.err)
		if tc.field[0] != "" && hdr.Get(tc.field[0]) != tc.field[1] {
			t.Errorf("%s: %s = %q, want %q", tc.name, tc.field[0], hdr.Get(tc.field[0]), tc.field[1])
		}
		upgrade := status == 426
		if !connectionHas(hdr, "close") || connectionHas(hdr, "upgrade") != upgrade {
			t.Errorf("%s: Connection %q", tc.name, hdr.Values("Connection"))
		}
	}
	// The timed-out Handle was canceled with ErrVerifyTimeout.
	h := <-handles
	if cause := context.Cause(h.Context()); cause != ErrVerifyTimeout {
		t.Errorf("handle cause %v", cause)
	}
	if err := h.Accept(Acceptance{}); err != ErrCanceled {
		t.Errorf("Accept after the timeout: %v", err)
	}
	// An accepted handshake tells the hook nothing.
	creq, _ := NewClientRequest(srv.URL + "/ws")
	_, resp, _ := dialRaw(t, srv, creq, nil)
	if _, err := ValidateResponse(creq, resp); err != nil || <-errs != nil {
		t.Fatalf("accept: %v", err)
	}
	if n := len(log.take()); n != 0 {
		t.Fatalf("%d hook calls for an accepted handshake", n)
	}
}

// TestUpgradeHandshakeTimeout: HandshakeTimeout bounds the writing of the 101,
// and the write deadline it sets is gone once the 101 is out.
func TestUpgradeHandshakeTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	big := strings.Repeat("x", 16<<20) // more than the socket buffers hold
	cases := []struct {
		name    string
		u       *Upgrader
		read    bool  // the client reads the answer
		wantErr error // from Upgrade
	}{
		{"101 the client does not read", &Upgrader{HandshakeTimeout: timeout, OnResponseHeader: func(r *Request, h *ResponseHeader) {
			_ = h.Add("X-Big", big)
		}}, false, os.ErrDeadlineExceeded},
		{"deadline cleared after the 101", &Upgrader{HandshakeTimeout: timeout}, true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan upgraded, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, head, res, err := tc.u.Upgrade(w, r)
				got <- upgraded{c, head, res, err}
			}))
			t.Cleanup(srv.Close)
			c, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			_ = c.(*net.TCPConn).SetReadBuffer(4 << 10)
			_ = c.SetDeadline(time.Now().Add(20 * time.Second))
			creq, _ := NewClientRequest(srv.URL)
			wire, _ := creq.AppendTo(nil)
			if _, err := c.Write(wire); err != nil {
				t.Fatal(err)
			}
			if !tc.read {
				var up upgraded
				select {
				case up = <-got: // although nobody reads: the deadline ended the write
				case <-time.After(15 * time.Second):
					t.Fatal("Upgrade still writing the 101 long after HandshakeTimeout")
				}
				if !errors.Is(up.err, tc.wantErr) || up.conn != nil {
					t.Fatalf("Upgrade: %v %v", up.conn, up.err)
				}
				return
			}
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != 101 {
				t.Fatalf("answer %v %v", resp, err)
			}
			up := <-got
			if up.err != nil {
				t.Fatal(up.err)
			}
			defer up.conn.Close()
			time.Sleep(2 * timeout) // past the handshake's deadline
			if _, err := up.conn.Write([]byte{0x81, 0x02, 'h', 'i'}); err != nil {
				t.Fatalf("write after the handshake: %v", err)
			}
			frame := make([]byte, 4)
			if _, err := io.ReadFull(br, frame); err != nil || string(frame[2:]) != "hi" {
				t.Fatalf("frame %q %v", frame, err)
			}
		})
	}
}
