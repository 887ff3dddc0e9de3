package upgrade

import (
	"errors"
	"testing"
)

// TestAbsoluteForm: RFC 9112 §3.2.2 has a server accept an absolute-form
// request-target, and RFC 6455 §4.2.1 allows "an absolute HTTP/HTTPS URI
// containing the /resource name/". The resource name is then the URI's path
// and query ("/" for an empty path, RFC 6455 §3) and the host its authority,
// the Host field ignored for the request's purposes (§3.2.2) but still
// required once and valid (§3.2). Other schemes, userinfo, an empty
// authority and bad bytes stay 400.
func TestAbsoluteForm(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, target         string
		fields               []string
		status               int
		err                  error
		resource, path, host string
	}{
		{"http", "http://server.example.com/chat?x=1", nil, 101, nil, "/chat?x=1", "/chat", "server.example.com"},
		{"https, any case, port", "HTTPS://Server.example.com:8443/a%20b", nil, 101, nil, "/a%20b", "/a b", "Server.example.com:8443"},
		{"authority wins over Host", "http://real.example/chat", []string{"Host: proxy.example"}, 101, nil, "/chat", "/chat", "real.example"},
		{"empty path", "http://server.example.com", nil, 101, nil, "/", "/", "server.example.com"},
		{"empty path, query", "http://server.example.com?room=1", nil, 101, nil, "/?room=1", "/", "server.example.com"},
		{"ip literal", "http://[::1]:8080/", nil, 101, nil, "/", "/", "[::1]:8080"},
		{"no Host field", "http://server.example.com/", []string{"Host:-"}, 400, ErrBadHost, "", "", ""},
		{"ws scheme", "ws://server.example.com/chat", nil, 400, ErrMalformed, "", "", ""},
		{"wss scheme", "wss://server.example.com/chat", nil, 400, ErrMalformed, "", "", ""},
		{"ftp scheme", "ftp://server.example.com/chat", nil, 400, ErrMalformed, "", "", ""},
		{"scheme only", "http:/chat", nil, 400, ErrMalformed, "", "", ""},
		{"no authority", "http:///chat", nil, 400, ErrMalformed, "", "", ""},
		{"userinfo", "http://user:pw@server.example.com/chat", nil, 400, ErrMalformed, "", "", ""},
		{"fragment in authority", "http://server.example.com#x", nil, 400, ErrMalformed, "", "", ""},
		{"fragment in path", "http://server.example.com/a#x", nil, 400, ErrMalformed, "", "", ""},
		{"control byte", "http://server.example.com\x01/", nil, 400, ErrMalformed, "", "", ""},
		{"bad escape", "http://h/%zz", nil, 400, ErrMalformed, "", "", ""},
		{"asterisk-form", "*", nil, 400, ErrMalformed, "", "", ""},
		{"authority-form", "server.example.com:80", nil, 400, ErrMalformed, "", "", ""},
		{"urn", "urn:x", nil, 400, ErrMalformed, "", "", ""},
		{"port not digits", "http://h:x/", nil, 400, ErrMalformed, "", "", ""},
		{"empty port", "http://h:/", nil, 101, nil, "/", "/", "h:"},
		{"two colons", "http://a:b:80/", nil, 400, ErrMalformed, "", "", ""},
		{"bad ip literal", "http://[zz]/", nil, 400, ErrMalformed, "", "", ""},
		{"ip literal with zone", "http://[fe80::1%25eth0]/", nil, 400, ErrMalformed, "", "", ""},
		{"percent in host", "http://a%41/", nil, 400, ErrMalformed, "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fields := validFields
			for _, f := range tc.fields {
				fields = withField(fields, f)
			}
			s := buildRequest("GET "+tc.target+" HTTP/1.1", fields...)
			u := &Upgrader{}
			if tc.status == 101 {
				u.Path = tc.path // the path filter sees the resource name's path
			}
			out, res := handshake(t, u, s)
			if res.Status != tc.status || !errors.Is(res.Err, tc.err) || (res.Err == nil) != (tc.err == nil) {
				t.Fatalf("status %d err %v, want %d %v\n%s", res.Status, res.Err, tc.status, tc.err, out)
			}
			if tc.status != 101 {
				return
			}
			req := NewRequest()
			if _, err := ParseRequest([]byte(s), req, nil); err != nil {
				t.Fatal(err)
			}
			if !req.AbsoluteForm() || req.Resource() != tc.resource || req.Path() != tc.path || req.Host() != tc.host {
				t.Fatalf("absolute %v resource %q path %q host %q, want %q %q %q", req.AbsoluteForm(), req.Resource(), req.Path(), req.Host(), tc.resource, tc.path, tc.host)
			}
			if c := req.Clone(); c.Resource() != tc.resource || c.Host() != tc.host {
				t.Fatalf("Clone: resource %q host %q", c.Resource(), c.Host())
			}
			// Every prefix asks for more (the scanner refuses nothing early).
			for k := 0; k < len(s); k++ {
				if _, err := ParseRequest([]byte(s[:k]), NewRequest(), nil); err != ErrNeedMore {
					t.Fatalf("prefix %q: %v", s[:k], err)
				}
			}
		})
	}
}

// TestAbsoluteFormOrigin: the same-origin rule compares Origin with the host
// the request is for, the target's authority (RFC 9112 §3.2.2), not a Host
// field that names another.
func TestAbsoluteFormOrigin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		target, host string
		status       int
	}{
		{"http://app.example/chat", "proxy.example", 101},
		{"http://evil.example/chat", "app.example", 403},
		{"/chat", "app.example", 101},
	} {
		s := buildRequest("GET "+tc.target+" HTTP/1.1", append(withField(validFields, "Host: "+tc.host), "Origin: https://app.example")...)
		if out, res := handshake(t, &Upgrader{}, s); res.Status != tc.status {
			t.Fatalf("%s with Host %s: %d, want %d\n%s", tc.target, tc.host, res.Status, tc.status, out)
		}
	}
}
