package upgrade

import "testing"

func TestOriginPolicy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		origin   string // "" sends none
		host     string
		patterns []string
		check    func(*Request) bool
		want     bool
	}{
		{"no origin (not a browser)", "", "example.com", nil, nil, true},
		{"same host", "https://example.com", "example.com", nil, nil, true},
		{"same host, case differs", "https://EXAMPLE.com", "example.COM", nil, nil, true},
		{"same host and port", "http://example.com:8080", "example.com:8080", nil, nil, true},
		{"default port explicit in Host", "http://example.com", "example.com:80", nil, nil, true},
		{"https default port explicit in Host", "https://example.com", "example.com:443", nil, nil, true},
		{"port differs", "http://example.com:8080", "example.com:9090", nil, nil, false},
		{"non-default origin port, Host without port", "http://example.com:8080", "example.com", nil, nil, false},
		{"other host", "https://evil.example", "example.com", nil, nil, false},
		{"suffix trick", "https://example.com.evil.example", "example.com", nil, nil, false},
		{"scheme not starting with a letter", "00000://example.com", "example.com", nil, nil, false},
		{"scheme with odd bytes", "h_t://example.com", "example.com", nil, nil, false},
		{"host with odd bytes", "http://exa\"mple.com", "example.com", nil, nil, false},
		{"unclosed IPv6", "http://[::1", "[::1", nil, nil, false},
		{"IPv4 in brackets", "http://[127.0.0.1]", "[127.0.0.1]", nil, nil, false},
		{"percent in host", "http://a%41", "a%41", nil, nil, false},
		{"two colons", "http://a:1:2", "a:1:2", nil, nil, false},
		{"port not a number", "http://a:b", "a:b", nil, nil, false},
		{"null origin", "null", "example.com", nil, nil, false},
		{"userinfo in origin", "https://example.com@evil.example", "example.com", nil, nil, false},
		{"IPv6 same", "http://[::1]:8080", "[::1]:8080", nil, nil, true},
		{"IPv6 other port", "http://[::1]:8080", "[::1]:8081", nil, nil, false},
		{"pattern exact", "https://app.example.org", "api.example.com", []string{"app.example.org"}, nil, true},
		{"pattern glob", "https://a.b.example.org", "api.example.com", []string{"*.example.org"}, nil, true},
		{"pattern glob case", "https://A.Example.ORG", "api.example.com", []string{"*.example.org"}, nil, true},
		{"pattern glob miss", "https://example.org.evil", "api.example.com", []string{"*.example.org"}, nil, false},
		{"pattern port glob", "http://localhost:3000", "api.example.com", []string{"localhost:*"}, nil, true},
		{"pattern ? one byte", "http://ab.test", "x", []string{"a?.test"}, nil, true},
		{"pattern ? not two", "http://abc.test", "x", []string{"a?.test"}, nil, false},
		{"pattern with scheme", "https://app.example.org", "x", []string{"https://*.example.org"}, nil, true},
		{"pattern with scheme vs userinfo", "https://x@evil.example.org", "x", []string{"https://*.example.org"}, nil, false},
		{"pattern with scheme ignores a path", "https://a.example.org/x", "x", []string{"https://*.example.org"}, nil, true},
		{"pattern with scheme, other scheme", "http://app.example.org", "x", []string{"https://*.example.org"}, nil, false},
		{"pattern matches null only with scheme-less *", "null", "x", []string{"*"}, nil, false},
		{"check func allows", "https://evil.example", "example.com", nil, func(*Request) bool { return true }, true},
		{"check func refuses same host", "https://example.com", "example.com", nil, func(*Request) bool { return false }, false},
		{"check func sees origin", "https://a.test", "x", nil, func(r *Request) bool { return r.Origin() == "https://a.test" }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fields := withField(validFields, "Host: "+tc.host)
			if tc.origin != "" {
				fields = append(fields, "Origin: "+tc.origin)
			}
			u := &Upgrader{OriginPatterns: tc.patterns, CheckOrigin: tc.check}
			_, res := handshake(t, u, buildRequest("GET / HTTP/1.1", fields...))
			if got := res.Accepted(); got != tc.want {
				t.Fatalf("accepted = %v (%d %v), want %v", got, res.Status, res.Err, tc.want)
			}
			if !tc.want && (res.Status != 403 || res.Err != ErrOriginDenied) {
				t.Fatalf("refusal %d %v, want 403 ErrOriginDenied", res.Status, res.Err)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		p, s string
		want bool
	}{
		{"", "", true},
		{"*", "", true},
		{"*", "anything", true},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"*.x", ".x", true},
		{"**x", "abx", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"ABC", "abc", true},
		{"*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	}
	for _, c := range cases {
		if got := globMatch(c.p, c.s); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v", c.p, c.s, got)
		}
	}
}
