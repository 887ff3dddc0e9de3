package upgrade

import (
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	lb := netip.MustParsePrefix("10.0.0.0/8")
	v6lb := netip.MustParsePrefix("fd00::/8")
	cases := []struct {
		name    string
		peer    string
		trusted []netip.Prefix
		header  string // "" for X-Forwarded-For
		fields  []string
		want    string
	}{
		{"no proxies trusted: header ignored", "203.0.113.5:1", nil, "", []string{"X-Forwarded-For: 1.2.3.4"}, "203.0.113.5"},
		{"untrusted peer: header ignored", "203.0.113.5:1", []netip.Prefix{lb}, "", []string{"X-Forwarded-For: 1.2.3.4"}, "203.0.113.5"},
		{"trusted peer, one hop", "10.0.0.1:1", []netip.Prefix{lb}, "", []string{"X-Forwarded-For: 198.51.100.7"}, "198.51.100.7"},
		{"spoofed left entries skipped", "10.0.0.1:1", []netip.Prefix{lb}, "", []string{"X-Forwarded-For: 6.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{"chain of trusted proxies", "10.0.0.1:1", []netip.Prefix{lb}, "", []string{"X-Forwarded-For: 198.51.100.7, 10.1.1.1, 10.2.2.2"}, "198.51.100.7"},
		{"split over lines", "10.0.0.1:1", []netip.Prefix{lb}, "", []string{"X-Forwarded-For: 198.51.100.7", "X-Forwarded-For: 10.9.9.9"}, "198.51.100.7"},
		{"all trusted: leftmost", "10.0.0.1:1", []netip.Prefix{lb}, "", []string{"X-Forwarded-For: 10.3.3.3, 10.2.2.2"}, "10.3.3.3"},
		{"garbage stops at last trusted hop", "10.0.0.1:1", []netip.Prefix{lb}, "", []string{"X-Forwarded-For: 1.2.3.4, bogus"}, "10.0.0.1"},
		{"with port", "10.0.0.1:1", []netip.Prefix{lb}, "", []string{"X-Forwarded-For: 198.51.100.7:4444"}, "198.51.100.7"},
		{"IPv6 bracketed with port", "[fd00::1]:1", []netip.Prefix{v6lb}, "", []string{"X-Forwarded-For: [2001:db8::7]:4444"}, "2001:db8::7"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.1]:1", []netip.Prefix{lb}, "", []string{"X-Forwarded-For: 198.51.100.7"}, "198.51.100.7"},
		{"no header", "10.0.0.1:1", []netip.Prefix{lb}, "", nil, "10.0.0.1"},
		{"Forwarded", "10.0.0.1:1", []netip.Prefix{lb}, "Forwarded", []string{`Forwarded: for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, for=10.4.4.4;by=10.0.0.1`}, "2001:db8:cafe::17"},
		{"Forwarded ignores X-Forwarded-For", "10.0.0.1:1", []netip.Prefix{lb}, "Forwarded", []string{"X-Forwarded-For: 1.1.1.1", "Forwarded: for=198.51.100.9"}, "198.51.100.9"},
		{"Forwarded unknown", "10.0.0.1:1", []netip.Prefix{lb}, "Forwarded", []string{"Forwarded: for=unknown"}, "10.0.0.1"},
		{"custom header", "10.0.0.1:1", []netip.Prefix{lb}, "X-Real-IP", []string{"X-Real-IP: 198.51.100.3", "X-Forwarded-For: 1.1.1.1"}, "198.51.100.3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := &Upgrader{TrustedProxies: tc.trusted, ClientIPHeader: tc.header}
			req := NewRequest()
			if _, err := u.Parse([]byte(buildRequest("GET / HTTP/1.1", append(validFields, tc.fields...)...)), req); err != nil {
				t.Fatal(err)
			}
			var got netip.Addr
			u.Verify = func(r *Request, d *Decision) { got = r.ClientIP() }
			if _, res := u.Handshake(req, netip.MustParseAddrPort(tc.peer), nil, nil); !res.Accepted() {
				t.Fatal(res.Err)
			}
			if got != netip.MustParseAddr(tc.want) {
				t.Fatalf("ClientIP = %v, want %v", got, tc.want)
			}
		})
	}
}
