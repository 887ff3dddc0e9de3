package upgrade

import (
	"bufio"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestGenerateKey(t *testing.T) {
	t.Parallel()
	seen := map[Key]bool{}
	for i := 0; i < 100; i++ {
		k := GenerateKey()
		raw, err := base64.StdEncoding.DecodeString(k.String())
		if err != nil || len(raw) != 16 {
			t.Fatalf("key %q decodes to %d bytes, %v", k, len(raw), err)
		}
		if _, err := ParseKey(k.String()); err != nil {
			t.Fatal(err)
		}
		if seen[k] {
			t.Fatal("repeated key")
		}
		seen[k] = true
	}
	if _, err := ParseKey("short=="); err != ErrBadKey {
		t.Fatalf("ParseKey short: %v", err)
	}
}

func TestClientRequestURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		url                  string
		host, resource, addr string
		secure               bool
		err                  error
	}{
		{"ws://example.com/chat", "example.com", "/chat", "example.com:80", false, nil},
		{"ws://example.com:80/chat", "example.com", "/chat", "example.com:80", false, nil},
		{"ws://example.com:8080", "example.com:8080", "/", "example.com:8080", false, nil},
		{"wss://example.com:443/a?b=c%20d", "example.com", "/a?b=c%20d", "example.com:443", true, nil},
		{"wss://example.com:80/", "example.com:80", "/", "example.com:80", true, nil},
		{"https://[::1]:443/x", "[::1]", "/x", "[::1]:443", true, nil},
		{"http://[::1]:9000/x", "[::1]:9000", "/x", "[::1]:9000", false, nil},
		{"ws://example.com/a b", "example.com", "/a%20b", "example.com:80", false, nil},
		{"ws://exa mple.com/", "", "", "", false, ErrBadURL},
		{"ftp://example.com/", "", "", "", false, ErrBadURL},
		{"ws://example.com/#frag", "", "", "", false, ErrBadURL},
		{"ws:///nohost", "", "", "", false, ErrBadURL},
	}
	for _, c := range cases {
		r, err := NewClientRequest(c.url)
		if err != c.err {
			t.Errorf("%s: err %v, want %v", c.url, err, c.err)
			continue
		}
		if err != nil {
			continue
		}
		if r.Host != c.host || r.Resource != c.resource || r.Addr != c.addr || r.Secure != c.secure || r.Version != 13 {
			t.Errorf("%s: %+v", c.url, r)
		}
	}
}

// readRequest parses a built request with net/http, independently of our code.
func readRequest(t *testing.T, b []byte) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(string(b))))
	if err != nil {
		t.Fatalf("request does not parse: %v\n%s", err, b)
	}
	return r
}

func TestClientRequestAppendTo(t *testing.T) {
	t.Parallel()
	r, err := NewClientRequest("ws://ann:p%40ss@example.com:8080/chat?x=1")
	if err != nil {
		t.Fatal(err)
	}
	r.Key, _ = ParseKey("dGhlIHNhbXBsZSBub25jZQ==")
	r.Origin = "http://example.com"
	r.Subprotocols = []string{"chat", "superchat"}
	r.Extensions = []ExtensionOffer{{Name: "permessage-deflate", Params: []ExtensionParam{{Name: "client_max_window_bits"}}}}
	r.Header = http.Header{"User-Agent": {"weir-test"}}
	b, err := r.AppendTo([]byte("keep:"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "keep:GET /chat?x=1 HTTP/1.1\r\n") {
		t.Fatalf("%q", b)
	}
	hr := readRequest(t, b[len("keep:"):])
	if user, pass, ok := hr.BasicAuth(); !ok || user != "ann" || pass != "p@ss" {
		t.Errorf("basic auth %q %q %v", user, pass, ok)
	}
	want := map[string]string{
		"Upgrade": "websocket", "Connection": "Upgrade", "Sec-Websocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
		"Sec-Websocket-Version": "13", "Origin": "http://example.com", "Sec-Websocket-Protocol": "chat, superchat",
		"Sec-Websocket-Extensions": "permessage-deflate; client_max_window_bits", "User-Agent": "weir-test",
	}
	for k, v := range want {
		if got := hr.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if hr.Host != "example.com:8080" {
		t.Errorf("Host %q", hr.Host)
	}

	// Version 8 sends the origin as Sec-WebSocket-Origin.
	r.Version = 8
	b, _ = r.AppendTo(nil)
	hr = readRequest(t, b)
	if hr.Header.Get("Sec-Websocket-Origin") != "http://example.com" || hr.Header.Get("Origin") != "" || hr.Header.Get("Sec-Websocket-Version") != "8" {
		t.Errorf("v8 request %q", b)
	}

	// A caller's Authorization wins over URL credentials.
	r.Header.Set("Authorization", "Bearer t")
	b, _ = r.AppendTo(nil)
	if hr = readRequest(t, b); hr.Header.Values("Authorization")[0] != "Bearer t" || len(hr.Header.Values("Authorization")) != 1 {
		t.Errorf("Authorization %q", hr.Header.Values("Authorization"))
	}
}

func TestClientRequestErrors(t *testing.T) {
	t.Parallel()
	base := func() *ClientRequest {
		return &ClientRequest{Host: "h", Resource: "/", Key: GenerateKey()}
	}
	cases := []struct {
		name string
		mod  func(*ClientRequest)
		err  error
	}{
		{"zero version means 13", func(r *ClientRequest) {}, nil},
		{"version 7", func(r *ClientRequest) { r.Version = 7 }, ErrBadClientRequest},
		{"zero key", func(r *ClientRequest) { r.Key = Key{} }, ErrBadClientRequest},
		{"empty host", func(r *ClientRequest) { r.Host = "" }, ErrBadClientRequest},
		{"resource without slash", func(r *ClientRequest) { r.Resource = "chat" }, ErrBadClientRequest},
		{"resource with space", func(r *ClientRequest) { r.Resource = "/a b" }, ErrBadClientRequest},
		{"empty resource means /", func(r *ClientRequest) { r.Resource = "" }, nil},
		{"origin with newline", func(r *ClientRequest) { r.Origin = "http://a\r\nX: y" }, ErrBadClientRequest},
		{"subprotocol not a token", func(r *ClientRequest) { r.Subprotocols = []string{"a b"} }, ErrBadClientRequest},
		{"subprotocol twice", func(r *ClientRequest) { r.Subprotocols = []string{"a", "a"} }, ErrBadClientRequest},
		{"extension name", func(r *ClientRequest) { r.Extensions = []ExtensionOffer{{Name: "a;b"}} }, ErrBadClientRequest},
		{"reserved header", func(r *ClientRequest) { r.Header = http.Header{"Sec-Websocket-Key": {"x"}} }, ErrReservedHeader},
		{"reserved origin header", func(r *ClientRequest) { r.Header = http.Header{"Origin": {"x"}} }, ErrReservedHeader},
		{"header injection", func(r *ClientRequest) { r.Header = http.Header{"X-A": {"1\r\nX-B: 2"}} }, ErrInvalidHeader},
		{"header name", func(r *ClientRequest) { r.Header = http.Header{"X A": {"1"}} }, ErrInvalidHeader},
		{"credentials with newline", func(r *ClientRequest) { r.BasicAuth = url.UserPassword("a\n", "b") }, ErrInvalidHeader},
	}
	for _, c := range cases {
		r := base()
		c.mod(r)
		out, err := r.AppendTo([]byte("x"))
		if err != c.err {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
		}
		if err != nil && string(out) != "x" {
			t.Errorf("%s: appended on error", c.name)
		}
	}
}
