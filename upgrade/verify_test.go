package upgrade

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

type session struct{ user string }

func TestVerifySyncAccept(t *testing.T) {
	t.Parallel()
	s := &session{"ann"}
	u := &Upgrader{
		Subprotocols: []string{"chat"},
		Verify: func(r *Request, d *Decision) {
			if tok, _ := r.Cookie("token"); tok != "good" {
				d.Reject(401, "bad token")
				return
			}
			if err := d.Header().Add("Set-Cookie", "seen=1; HttpOnly"); err != nil {
				t.Error(err)
			}
			d.SetUserValue(s)
			d.Keep(KeepPath | KeepRawQuery | KeepHeader)
		},
	}
	in := buildRequest("GET /rooms/7?since=42 HTTP/1.1", append(validFields, "Cookie: token=good", "Sec-WebSocket-Protocol: chat")...)
	out, res := handshake(t, u, in)
	if !res.Accepted() {
		t.Fatalf("%+v\n%s", res, out)
	}
	resp := readAnswer(t, out)
	if resp.Header.Get("Set-Cookie") != "seen=1; HttpOnly" || resp.Header.Get("Sec-WebSocket-Protocol") != "chat" {
		t.Fatalf("101 %q", out)
	}
	// The handshake's own fields come first.
	if !strings.HasPrefix(out, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ") {
		t.Errorf("field order: %q", out)
	}
	if res.UserValue != s || res.Path != "/rooms/7" || res.RawQuery != "since=42" || res.Header.Get("Cookie") != "token=good" {
		t.Fatalf("result %+v", res)
	}

	out, res = handshake(t, u, buildRequest("GET / HTTP/1.1", append(validFields, "Cookie: token=bad")...))
	if res.Status != 401 || res.Err != ErrRejected || res.UserValue != nil {
		t.Fatalf("%+v", res)
	}
	if resp := readAnswer(t, out); resp.Header.Get("Set-Cookie") != "" {
		t.Fatal("reject carried the accept's cookie")
	}
}

func TestVerifyReject(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		status     int
		reason     string
		wantStatus int
		wantReason string
	}{
		{"plain", 429, "slow down", 429, "slow down"},
		{"CR LF removed from the header", 403, "no\r\nX-Injected: 1", 403, "noX-Injected: 1"},
		{"other controls become spaces", 403, "a\x00b\x7fc", 403, "a b c"},
		{"status below 300 becomes 403", 200, "", 403, ""},
		{"status above 599 becomes 403", 700, "", 403, ""},
		{"redirect allowed", 302, "", 302, ""},
		{"long reason cut", 400, strings.Repeat("r", 2000), 400, strings.Repeat("r", maxReason)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := &Upgrader{Verify: func(r *Request, d *Decision) {
				d.Reject(tc.status, tc.reason)
				_ = d.Header().Add("Retry-After", "120")
			}}
			out, res := handshake(t, u, buildRequest("GET / HTTP/1.1", validFields...))
			if res.Status != tc.wantStatus || res.Err != ErrRejected {
				t.Fatalf("%+v", res)
			}
			resp := readAnswer(t, out)
			if resp.StatusCode != tc.wantStatus || resp.Header.Get("X-WebSocket-Reject-Reason") != tc.wantReason ||
				resp.Header.Get("Retry-After") != "120" || resp.Header.Get("X-Injected") != "" || !resp.Close {
				t.Fatalf("answer %q", out)
			}
			body := make([]byte, 4096)
			n, _ := resp.Body.Read(body)
			wantBody := tc.reason
			if len(wantBody) > maxReason {
				wantBody = wantBody[:maxReason]
			}
			if wantBody == "" {
				wantBody = http.StatusText(tc.wantStatus)
			}
			if got := string(body[:n]); got != wantBody+"\n" {
				t.Fatalf("body %q, want %q", got, wantBody)
			}
		})
	}
}

func TestResponseHeaderRules(t *testing.T) {
	t.Parallel()
	var h ResponseHeader
	cases := []struct {
		name, value string
		err         error
	}{
		{"Set-Cookie", "a=1", nil},
		{"X-Ok", "tab\tis fine", nil},
		{"X-Bad", "line\r\nbreak", ErrInvalidHeader},
		{"Bad Name", "v", ErrInvalidHeader},
		{"", "v", ErrInvalidHeader},
		{"Sec-WebSocket-Accept", "forged", ErrReservedHeader},
		{"upgrade", "h2c", ErrReservedHeader},
		{"Content-Length", "0", ErrReservedHeader},
		{"Sec-WebSocket-Protocol", "x", ErrReservedHeader},
	}
	for _, c := range cases {
		if err := h.Add(c.name, c.value); err != c.err {
			t.Errorf("Add(%q, %q) = %v, want %v", c.name, c.value, err, c.err)
		}
		if err := h.Set(c.name, c.value); err != c.err {
			t.Errorf("Set(%q, %q) = %v, want %v", c.name, c.value, err, c.err)
		}
	}
	if err := h.Del("Connection"); err != ErrReservedHeader {
		t.Errorf("Del(Connection) = %v", err)
	}
	// Each Add was followed by a Set of the same name, which replaced it.
	if h.Len() != 2 || h.Get("set-cookie") != "a=1" {
		t.Fatalf("Len %d", h.Len())
	}
	_ = h.Add("Set-Cookie", "c=3")
	if h.Len() != 3 {
		t.Fatalf("Add did not append: %d", h.Len())
	}
	_ = h.Set("Set-Cookie", "b=2")
	if h.Len() != 2 || h.Get("Set-Cookie") != "b=2" {
		t.Fatalf("Set did not replace: %d", h.Len())
	}
	_ = h.Del("x-ok")
	if h.Get("X-Ok") != "" || h.Len() != 1 {
		t.Fatal("Del failed")
	}
}

func TestOnResponseHeader(t *testing.T) {
	t.Parallel()
	var sawAccept string
	u := &Upgrader{
		Verify: func(r *Request, d *Decision) { _ = d.Header().Add("X-From-Verify", "1") },
		OnResponseHeader: func(r *Request, h *ResponseHeader) {
			sawAccept = h.Get("Sec-WebSocket-Accept")
			if err := h.Set("Sec-WebSocket-Accept", "forged"); err != ErrReservedHeader {
				t.Errorf("changing the accept hash: %v", err)
			}
			_ = h.Del("X-From-Verify")
			_ = h.Add("Server", "weir")
		},
	}
	out, res := handshake(t, u, buildRequest("GET / HTTP/1.1", validFields...))
	if !res.Accepted() {
		t.Fatal(res.Err)
	}
	resp := readAnswer(t, out)
	if sawAccept != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" || resp.Header.Get("Server") != "weir" || resp.Header.Get("X-From-Verify") != "" ||
		resp.Header.Get("Sec-WebSocket-Accept") != sawAccept {
		t.Fatalf("saw %q, answer %q", sawAccept, out)
	}
	// Not called for rejections.
	u.Verify = func(r *Request, d *Decision) { d.Reject(403, "") }
	u.OnResponseHeader = func(*Request, *ResponseHeader) { t.Error("hook ran for a rejection") }
	handshake(t, u, buildRequest("GET / HTTP/1.1", validFields...))
}

// recorder is a Notifier that records which goroutine told it.
type recorder struct {
	mu   sync.Mutex
	got  []*Handle
	done chan *Handle
}

func newRecorder() *recorder { return &recorder{done: make(chan *Handle, 4)} }

func (r *recorder) HandshakeDecided(h *Handle) {
	r.mu.Lock()
	r.got = append(r.got, h)
	r.mu.Unlock()
	r.done <- h
}

// deferring returns an Upgrader whose verify hook defers and hands out the
// Handle on ch.
func deferring(ch chan<- *Handle) *Upgrader {
	return &Upgrader{
		Subprotocols: []string{"chat"},
		Verify: func(r *Request, d *Decision) {
			_ = d.Header().Add("X-Dropped", "1") // Defer drops it
			ch <- d.Defer()
		},
	}
}

func TestVerifyAsyncAccept(t *testing.T) {
	t.Parallel()
	handles := make(chan *Handle, 1)
	u := deferring(handles)
	rec := newRecorder()
	buf := []byte(buildRequest("GET /q?id=9 HTTP/1.1", append(validFields, "Sec-WebSocket-Protocol: chat, other")...))
	req := NewRequest()
	if _, err := u.Parse(buf, req); err != nil {
		t.Fatal(err)
	}
	out, res := u.Handshake(req, testPeer, []byte("prefix"), rec)
	h := <-handles
	if res.Pending != h || res.Status != 0 || string(out) != "prefix" {
		t.Fatalf("pending result %+v, out %q", res, out)
	}
	// The engine reuses its buffer and Request at once; the Handle has its own.
	for i := range buf {
		buf[i] = 'z'
	}
	if _, err := u.Parse([]byte(buildRequest("GET /other HTTP/1.1", validFields...)), req); err != nil {
		t.Fatal(err)
	}
	if h.Request().Path() != "/q" || h.Request().Peer() != testPeer {
		t.Fatalf("handle request %q", h.Request().Path())
	}
	if out, res := h.Finish(nil); res.Pending != h || len(out) != 0 {
		t.Fatal("Finish before the decision appended something")
	}

	// Bad answers are refused without deciding.
	if err := h.Accept(Acceptance{Subprotocol: "nope"}); err != ErrSubprotocolNotOffered {
		t.Fatalf("unoffered subprotocol: %v", err)
	}
	if err := h.Accept(Acceptance{Header: http.Header{"X-Bad": {"a\nb"}}}); err != ErrInvalidHeader {
		t.Fatalf("bad header: %v", err)
	}
	if err := h.Accept(Acceptance{Header: http.Header{"Sec-Websocket-Accept": {"x"}}}); err != ErrReservedHeader {
		t.Fatalf("reserved header: %v", err)
	}

	s := &session{"bob"}
	errc := make(chan error, 1)
	go func() {
		errc <- h.Accept(Acceptance{Subprotocol: "other", Header: http.Header{"Set-Cookie": {"a=b"}}, UserValue: s, Keep: KeepRawQuery})
	}()
	if got := <-rec.done; got != h {
		t.Fatal("notified with another handle")
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.Context().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("context not ended by the decision")
	}
	out, res = h.Finish(nil)
	if !res.Accepted() || res.Subprotocol != "other" || res.UserValue != s || res.RawQuery != "id=9" || res.Version != 13 {
		t.Fatalf("%+v", res)
	}
	resp := readAnswer(t, string(out))
	if resp.Header.Get("Set-Cookie") != "a=b" || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" ||
		resp.Header.Get("Sec-WebSocket-Protocol") != "other" || resp.Header.Get("X-Dropped") != "" {
		t.Fatalf("101 %q", out)
	}
	if err := h.Reject(403, "", nil); err != ErrHandleDecided {
		t.Fatalf("second decision: %v", err)
	}
	if h.Cancel(nil) {
		t.Fatal("Cancel after the decision")
	}
	if _, res := h.Finish(nil); res.Err != ErrHandleDecided {
		t.Fatalf("second Finish: %+v", res)
	}
}

func TestVerifyAsyncReject(t *testing.T) {
	t.Parallel()
	handles := make(chan *Handle, 1)
	rec := newRecorder()
	req := NewRequest()
	u := deferring(handles)
	if _, err := u.Parse([]byte(buildRequest("GET / HTTP/1.1", validFields...)), req); err != nil {
		t.Fatal(err)
	}
	_, res := u.Handshake(req, testPeer, nil, rec)
	h := res.Pending
	<-handles
	go func() { _ = h.Reject(503, "auth backend\r\ndown", http.Header{"Retry-After": {"5"}}) }()
	<-rec.done
	out, res := h.Finish(nil)
	if res.Status != 503 || res.Err != ErrRejected {
		t.Fatalf("%+v", res)
	}
	resp := readAnswer(t, string(out))
	if resp.Header.Get("Retry-After") != "5" || resp.Header.Get("X-WebSocket-Reject-Reason") != "auth backenddown" || !resp.Close {
		t.Fatalf("%q", out)
	}
}

func TestVerifyAsyncCancel(t *testing.T) {
	t.Parallel()
	handles := make(chan *Handle, 1)
	rec := newRecorder()
	req := NewRequest()
	u := deferring(handles)
	if _, err := u.Parse([]byte(buildRequest("GET / HTTP/1.1", validFields...)), req); err != nil {
		t.Fatal(err)
	}
	_, res := u.Handshake(req, testPeer, nil, rec)
	h := res.Pending
	<-handles
	timeout := errors.New("handshake timeout")
	if !h.Cancel(timeout) {
		t.Fatal("Cancel of a pending handle failed")
	}
	if h.Cancel(nil) {
		t.Fatal("second Cancel succeeded")
	}
	if err := h.Accept(Acceptance{}); err != ErrCanceled {
		t.Fatalf("Accept after Cancel: %v", err)
	}
	if context.Cause(h.Context()) != timeout {
		t.Fatalf("cause %v", context.Cause(h.Context()))
	}
	if out, res := h.Finish(nil); len(out) != 0 || res.Err != timeout || res.Accepted() {
		t.Fatalf("Finish after Cancel: %+v %q", res, out)
	}
	if len(rec.got) != 0 {
		t.Fatal("Cancel notified")
	}
}

// TestVerifyAsyncRace: Accept and Cancel from two goroutines, exactly one wins.
func TestVerifyAsyncRace(t *testing.T) {
	t.Parallel()
	for i := 0; i < 50; i++ {
		handles := make(chan *Handle, 1)
		rec := newRecorder()
		req := NewRequest()
		u := deferring(handles)
		if _, err := u.Parse([]byte(buildRequest("GET / HTTP/1.1", validFields...)), req); err != nil {
			t.Fatal(err)
		}
		_, res := u.Handshake(req, testPeer, nil, rec)
		h := res.Pending
		<-handles
		var wg sync.WaitGroup
		var acceptErr error
		var canceled bool
		wg.Add(2)
		go func() { defer wg.Done(); acceptErr = h.Accept(Acceptance{}) }()
		go func() { defer wg.Done(); canceled = h.Cancel(nil) }()
		wg.Wait()
		if (acceptErr == nil) == canceled {
			t.Fatalf("accept err %v, canceled %v", acceptErr, canceled)
		}
		_, res = h.Finish(nil)
		if res.Accepted() == canceled {
			t.Fatalf("Finish disagrees: %+v", res)
		}
	}
}
