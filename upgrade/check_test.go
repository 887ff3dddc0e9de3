package upgrade

import (
	"bufio"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// readAnswer parses a handshake answer with net/http, independently of our code.
func readAnswer(t *testing.T, s string) *http.Response {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(s)), nil)
	if err != nil {
		t.Fatalf("answer does not parse: %v\n%q", err, s)
	}
	return resp
}

// TestChecks has one case per RFC 6455 §4.2.1 rule and per server decision,
// each with its exact status and the fields that must go with it.
func TestChecks(t *testing.T) {
	t.Parallel()
	const line = "GET /chat HTTP/1.1"
	cases := []struct {
		name   string
		req    string
		u      *Upgrader
		status int
		err    error
		header map[string]string // fields the answer must carry
	}{
		{"valid", buildRequest(line, validFields...), nil, 101, nil,
			map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Accept": "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}},
		{"valid version 8", buildRequest(line, withField(validFields, "Sec-WebSocket-Version: 8")...), nil, 101, nil, nil},
		{"method POST", buildRequest("POST /chat HTTP/1.1", validFields...), nil, 405, ErrBadMethod,
			map[string]string{"Allow": "GET"}},
		{"method get lower case", buildRequest("get /chat HTTP/1.1", validFields...), nil, 405, ErrBadMethod, nil},
		{"HTTP/1.0", buildRequest("GET /chat HTTP/1.0", validFields...), nil, 400, ErrBadProto, nil},
		{"HTTP/2.0 on an HTTP/1 line", buildRequest("GET /chat HTTP/2.0", validFields...), nil, 400, ErrBadProto, nil},
		{"no Host", buildRequest(line, withField(validFields, "Host:-")...), nil, 400, ErrBadHost, nil},
		{"empty Host", buildRequest(line, withField(validFields, "Host: ")...), nil, 400, ErrBadHost, nil},
		{"two Hosts", buildRequest(line, append(validFields, "Host: other")...), nil, 400, ErrBadHost, nil},
		{"Host with a space", buildRequest(line, withField(validFields, "Host: a b")...), nil, 400, ErrBadHost, nil},
		{"body by length", buildRequest(line, append(validFields, "Content-Length: 5")...), nil, 400, ErrRequestBody, nil},
		{"zero length is fine", buildRequest(line, append(validFields, "Content-Length: 0")...), nil, 101, nil, nil},
		{"chunked body", buildRequest(line, append(validFields, "Transfer-Encoding: chunked")...), nil, 400, ErrRequestBody, nil},
		{"plain GET", buildRequest(line, "Host: server.example.com", "Accept: text/html"), nil, 426, ErrUpgradeRequired,
			map[string]string{"Upgrade": "websocket", "Sec-WebSocket-Version": "13, 8"}},
		{"no Upgrade", buildRequest(line, withField(validFields, "Upgrade:-")...), nil, 426, ErrUpgradeRequired,
			map[string]string{"Upgrade": "websocket", "Sec-WebSocket-Version": "13, 8"}},
		{"no Upgrade, HEAD", buildRequest("HEAD /chat HTTP/1.1", "Host: server.example.com"), nil, 405, ErrBadMethod, nil},
		{"no Upgrade, HTTP/1.0", buildRequest("GET /chat HTTP/1.0"), nil, 400, ErrBadProto, nil},
		{"no Upgrade, no Host", buildRequest(line, "Accept: */*"), nil, 400, ErrBadHost, nil},
		{"empty Upgrade", buildRequest(line, withField(validFields, "Upgrade: ")...), nil, 400, ErrBadUpgrade, nil},
		{"Upgrade h2c", buildRequest(line, withField(validFields, "Upgrade: h2c")...), nil, 400, ErrBadUpgrade, nil},
		{"Upgrade in a list, mixed case", buildRequest(line, withField(validFields, "Upgrade: h2c, WebSocket")...), nil, 101, nil, nil},
		{"Upgrade websocketx", buildRequest(line, withField(validFields, "Upgrade: websocketx")...), nil, 400, ErrBadUpgrade, nil},
		{"no Connection", buildRequest(line, withField(validFields, "Connection:-")...), nil, 400, ErrBadConnection, nil},
		{"Connection keep-alive only", buildRequest(line, withField(validFields, "Connection: keep-alive")...), nil, 400, ErrBadConnection, nil},
		{"Connection list (Firefox)", buildRequest(line, withField(validFields, "Connection: keep-alive, Upgrade")...), nil, 101, nil, nil},
		{"Connection on two lines", buildRequest(line, append(withField(validFields, "Connection: keep-alive"), "connection: UPGRADE")...), nil, 101, nil, nil},
		{"no key", buildRequest(line, withField(validFields, "Sec-WebSocket-Key:-")...), nil, 400, ErrBadKey, nil},
		{"key of 15 bytes", buildRequest(line, withField(validFields, "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA")...), nil, 400, ErrBadKey, nil},
		{"key not base64", buildRequest(line, withField(validFields, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j*Q==")...), nil, 400, ErrBadKey, nil},
		{"key twice", buildRequest(line, append(validFields, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==")...), nil, 400, ErrBadKey, nil},
		{"version 12", buildRequest(line, withField(validFields, "Sec-WebSocket-Version: 12")...), nil, 426, ErrBadVersion,
			map[string]string{"Sec-WebSocket-Version": "13, 8", "Upgrade": "websocket"}},
		{"no version", buildRequest(line, withField(validFields, "Sec-WebSocket-Version:-")...), nil, 426, ErrBadVersion,
			map[string]string{"Sec-WebSocket-Version": "13, 8"}},
		{"version twice", buildRequest(line, append(validFields, "Sec-WebSocket-Version: 13")...), nil, 426, ErrBadVersion, nil},
		// RFC 9110 §5.6.1: empty list elements are ignored (emptylist_test.go).
		{"protocol empty element", buildRequest(line, append(validFields, "Sec-WebSocket-Protocol: chat,,superchat")...), nil, 101, nil, nil},
		{"protocol not a token", buildRequest(line, append(validFields, "Sec-WebSocket-Protocol: chat/1.0 x")...), nil, 400, ErrBadSubprotocols, nil},
		{"protocol duplicated", buildRequest(line, append(validFields, "Sec-WebSocket-Protocol: chat, chat")...), nil, 400, ErrBadSubprotocols, nil},
		{"protocol fine", buildRequest(line, append(validFields, "Sec-WebSocket-Protocol: chat, superchat")...), nil, 101, nil, nil},
		{"extensions malformed", buildRequest(line, append(validFields, "Sec-WebSocket-Extensions: permessage-deflate; =1")...), nil, 400, ErrBadExtensions, nil},
		{"extensions trailing comma", buildRequest(line, append(validFields, "Sec-WebSocket-Extensions: foo,")...), nil, 101, nil, nil},
		{"extensions quoted non-token", buildRequest(line, append(validFields, `Sec-WebSocket-Extensions: foo; a="b c"`)...), nil, 400, ErrBadExtensions, nil},
		{"path filter miss", buildRequest("GET /other HTTP/1.1", validFields...), &Upgrader{Path: "/chat"}, 404, ErrNotFound, nil},
		{"path filter hit with query", buildRequest("GET /chat?x=1 HTTP/1.1", validFields...), &Upgrader{Path: "/chat"}, 101, nil, nil},
		{"should-handle miss", buildRequest(line, validFields...), &Upgrader{Path: "/chat", ShouldHandle: func(r *Request) bool { return strings.HasPrefix(r.Path(), "/ws/") }}, 404, ErrNotFound, nil},
		{"cross origin", buildRequest(line, append(validFields, "Origin: https://evil.example")...), nil, 403, ErrOriginDenied, nil},
		{"same origin", buildRequest(line, append(validFields, "Origin: https://server.example.com")...), nil, 101, nil, nil},
		{"verify reject", buildRequest(line, validFields...), &Upgrader{Verify: func(r *Request, d *Decision) { d.Reject(401, "token expired") }}, 401, ErrRejected,
			map[string]string{"X-WebSocket-Reject-Reason": "token expired"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, res := handshake(t, tc.u, tc.req)
			if res.Status != tc.status || !errors.Is(res.Err, tc.err) || (tc.err == nil) != (res.Err == nil) {
				t.Fatalf("got %d %v, want %d %v\n%s", res.Status, res.Err, tc.status, tc.err, out)
			}
			resp := readAnswer(t, out)
			if resp.StatusCode != tc.status {
				t.Fatalf("answer status %d, want %d", resp.StatusCode, tc.status)
			}
			for k, v := range tc.header {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if tc.status != 101 {
				if got := StatusOf(res.Err); tc.err != ErrRejected && got != tc.status {
					t.Errorf("StatusOf = %d, want %d", got, tc.status)
				}
				// net/http moves Connection: close into resp.Close. A 426
				// carries Upgrade, so Connection names it too (RFC 7230 §6.7).
				if !resp.Close || resp.ContentLength <= 0 || !strings.Contains(out, "\r\nConnection: close\r\n") ||
					strings.Contains(out, "\r\nConnection: Upgrade\r\n") != (tc.status == 426) {
					t.Errorf("rejection must close and carry a body (and name Upgrade for a 426): %q", out)
				}
			}
		})
	}
}

// TestRFCExample is the worked example of RFC 6455 §1.3.
func TestRFCExample(t *testing.T) {
	t.Parallel()
	if got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("AcceptKey = %q", got)
	}
	if got := string(AppendAcceptKey([]byte("x"), "dGhlIHNhbXBsZSBub25jZQ==")); got != "xs3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("AppendAcceptKey = %q", got)
	}
	// A key of another length takes the slow path; compare with the fast one.
	long := "dGhlIHNhbXBsZSBub25jZQ==dGhl"
	a := acceptKey(long)
	if len(AcceptKey(long)) != 28 || string(a[:]) == AcceptKey("dGhlIHNhbXBsZSBub25jZQ==") {
		t.Fatal("long key hashed like the short one")
	}
	// The full RFC exchange: the request of §1.3 answered by the handshake.
	req := "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n" +
		"Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n"
	u := &Upgrader{Subprotocols: []string{"chat"}, OriginPatterns: []string{"example.com"}}
	out, res := handshake(t, u, req)
	want := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
	if out != want || res.Subprotocol != "chat" || res.Version != 13 {
		t.Fatalf("got %q %+v", out, res)
	}
}

func TestStatusOf(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{ErrBadMethod, 405},
		{ErrBadVersion, 426},
		{ErrHeaderTooLarge, 431},
		{ErrRequestLineTooLong, 414},
		{&HandshakeError{Status: 429}, 429},
		{errors.New("other"), 500},
	}
	for _, c := range cases {
		if got := StatusOf(c.err); got != c.want {
			t.Errorf("StatusOf(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}
