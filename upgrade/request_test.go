package upgrade

import (
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"testing"
)

func TestRequestView(t *testing.T) {
	t.Parallel()
	in := buildRequest("GET /chat%20room/x?room=a%26b&empty=&flag&sp=1+2 HTTP/1.1",
		"host: Example.COM:8080",
		"Upgrade: websocket",
		"Connection: Upgrade",
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
		"Sec-WebSocket-Version: 13",
		"Origin: http://example.com:8080",
		"Sec-WebSocket-Protocol: V2.Chat, v1.chat",
		"Sec-WebSocket-Protocol: mqtt",
		`Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; server_max_window_bits="10", x-foo`,
		"Cookie: session=abc123; theme=\"dark\"",
		"Cookie: lang=en",
		"X-Multi: one",
		"x-multi: two",
		"X-Spaces: \t padded value \t",
	)
	u := &Upgrader{}
	buf := []byte(in)
	req := NewRequest()
	if _, err := u.Parse(buf, req); err != nil {
		t.Fatal(err)
	}
	var seen *Request
	u.Verify = func(r *Request, d *Decision) { seen = r }
	if _, res := u.Handshake(req, testPeer, nil, nil); !res.Accepted() {
		t.Fatal(res.Err)
	}
	if seen != req {
		t.Fatal("hook got another Request")
	}
	// Deciding twice on the same scan gives the same answer.
	if _, res := u.Handshake(req, testPeer, nil, nil); !res.Accepted() || len(req.Subprotocols()) != 3 {
		t.Fatalf("second Handshake: %v %q", res.Err, req.Subprotocols())
	}
	checks := []struct{ name, got, want string }{
		{"Method", req.Method(), "GET"},
		{"Resource", req.Resource(), "/chat%20room/x?room=a%26b&empty=&flag&sp=1+2"},
		{"Path", req.Path(), "/chat room/x"},
		{"EscapedPath", req.EscapedPath(), "/chat%20room/x"},
		{"RawQuery", req.RawQuery(), "room=a%26b&empty=&flag&sp=1+2"},
		{"Host", req.Host(), "Example.COM:8080"},
		{"Origin", req.Origin(), "http://example.com:8080"},
		{"Key", req.Key(), "dGhlIHNhbXBsZSBub25jZQ=="},
		{"Header case-insensitive", req.Header("x-SPACES"), "padded value"},
		{"Header first", req.Header("X-Multi"), "one"},
		{"Header absent", req.Header("X-None"), ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if req.Version() != 13 {
		t.Errorf("Version = %d", req.Version())
	}
	if major, minor := req.Proto(); major != 1 || minor != 1 {
		t.Errorf("Proto = %d.%d", major, minor)
	}
	for name, want := range map[string]string{"room": "a&b", "empty": "", "flag": "", "sp": "1 2"} {
		if got, ok := req.Query(name); !ok || got != want {
			t.Errorf("Query(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	if _, ok := req.Query("missing"); ok {
		t.Error("Query(missing) found")
	}
	if got := req.Subprotocols(); !slices.Equal(got, []string{"V2.Chat", "v1.chat", "mqtt"}) {
		t.Errorf("Subprotocols = %q", got)
	}
	wantExt := []ExtensionOffer{
		{Name: "permessage-deflate", Params: []ExtensionParam{{"client_max_window_bits", ""}, {"server_max_window_bits", "10"}}},
		{Name: "x-foo"},
	}
	if got := req.Extensions(); !reflect.DeepEqual(got, wantExt) {
		t.Errorf("Extensions = %+v", got)
	}
	if v, ok := req.Cookie("theme"); !ok || v != "dark" {
		t.Errorf("Cookie(theme) = %q %v", v, ok)
	}
	if v, ok := req.Cookie("lang"); !ok || v != "en" {
		t.Errorf("Cookie(lang) = %q %v", v, ok)
	}
	if _, ok := req.Cookie("nope"); ok {
		t.Error("Cookie(nope) found")
	}
	if got := maps.Collect(req.Cookies()); !maps.Equal(got, map[string]string{"session": "abc123", "theme": "dark", "lang": "en"}) {
		t.Errorf("Cookies = %v", got)
	}
	if got := slices.Collect(req.Values("x-multi")); !slices.Equal(got, []string{"one", "two"}) {
		t.Errorf("Values = %q", got)
	}
	n := 0
	for range req.Headers() {
		n++
	}
	if n != 14 {
		t.Errorf("Headers yielded %d", n)
	}
	if h := req.HTTPHeader(); len(h["X-Multi"]) != 2 || h.Get("Host") != "Example.COM:8080" {
		t.Errorf("HTTPHeader = %v", h)
	}
	if req.Peer() != testPeer || req.ClientIP() != testPeer.Addr() {
		t.Errorf("Peer %v ClientIP %v", req.Peer(), req.ClientIP())
	}
	if req.HTTPRequest() != nil {
		t.Error("HTTPRequest on the raw path")
	}

	// Clone owns its bytes: scribbling over the buffer leaves it intact.
	c := req.Clone()
	for i := range buf {
		buf[i] = 'x'
	}
	if c.Path() != "/chat room/x" || c.Header("X-Multi") != "one" || !slices.Equal(c.Subprotocols(), []string{"V2.Chat", "v1.chat", "mqtt"}) ||
		!reflect.DeepEqual(c.Extensions(), wantExt) || c.Version() != 13 || c.Peer() != testPeer {
		t.Fatalf("clone changed with the buffer: %q %q", c.Path(), c.Subprotocols())
	}
}

// TestOriginVersion8 reads the origin from Sec-WebSocket-Origin for version 8.
func TestOriginVersion8(t *testing.T) {
	t.Parallel()
	in := buildRequest("GET / HTTP/1.1", append(withField(validFields, "Sec-WebSocket-Version: 8"),
		"Sec-WebSocket-Origin: http://server.example.com", "Origin: http://ignored.example")...)
	u := &Upgrader{}
	req := NewRequest()
	if _, err := u.Parse([]byte(in), req); err != nil {
		t.Fatal(err)
	}
	if _, res := u.Handshake(req, netip.AddrPort{}, nil, nil); !res.Accepted() || res.Version != 8 {
		t.Fatalf("%+v", res)
	}
	if req.Origin() != "http://server.example.com" {
		t.Fatalf("Origin = %q", req.Origin())
	}
	// Version 13 ignores Sec-WebSocket-Origin: the cross-site Origin is refused.
	in13 := buildRequest("GET / HTTP/1.1", append(validFields,
		"Sec-WebSocket-Origin: http://server.example.com", "Origin: http://evil.example")...)
	if _, res := handshake(t, nil, in13); res.Status != 403 {
		t.Fatalf("v13 status %d", res.Status)
	}
}

func TestHandshakeUnparsedRequest(t *testing.T) {
	t.Parallel()
	out, res := (&Upgrader{}).Handshake(NewRequest(), testPeer, nil, nil)
	if res.Status != 400 || res.Err != ErrMalformed || len(out) == 0 {
		t.Fatalf("%+v %q", res, out)
	}
}
