package admit

import (
	"net/netip"
	"testing"

	"github.com/weir-ws/weir/upgrade"
)

// MaxConnsPerIP counts an IPv6 client by its /64 by default: a home line or
// a server gets a whole /64 (RFC 6177 suggests /56 to /48 per site), so
// counting whole addresses let one holder open 2^64 "different" ones. Every
// way in is judged on the one counter: Accept (the loops', goroutine mode's
// and TLS accepts), HTTP (ServeHTTP), Adopt and ClientIP (a trusted proxy's
// forwarded client).
func TestPerIPv6Prefix(t *testing.T) {
	t.Parallel()
	a := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	tests := []struct {
		name string
		bits int // the prefix length given (0: the default, 64)
		run  func(g *Gate) []bool
		want []bool
	}{
		{"accept: one /64 shares the cap", 0, func(g *Gate) []bool {
			return []bool{g.Accept(a("2001:db8:1:2::1")), g.Accept(a("2001:db8:1:2::2")), g.Accept(a("2001:db8:1:2:ffff:ffff:ffff:ffff")), g.Accept(a("2001:db8:1:2:8000::9"))}
		}, []bool{true, true, false, false}},
		{"accept: other /64s are apart", 0, func(g *Gate) []bool {
			return []bool{g.Accept(a("2001:db8:1:2::1")), g.Accept(a("2001:db8:1:2::2")), g.Accept(a("2001:db8:1:3::1")), g.Accept(a("2001:db8:1:3::2")), g.Accept(a("2001:db8:1:3::3"))}
		}, []bool{true, true, true, true, false}},
		{"http: one /64 shares the cap", 0, func(g *Gate) []bool {
			return []bool{g.HTTP(a("2001:db8::1")) == nil, g.HTTP(a("2001:db8::2")) == nil, g.HTTP(a("2001:db8::3")) == nil, g.HTTP(a("2001:db8:0:1::3")) == nil}
		}, []bool{true, true, false, true}},
		{"adopt within a /64 moves nothing", 0, func(g *Gate) []bool {
			g.HTTP(a("2001:db8::1"))
			g.HTTP(a("2001:db8::2"))
			room, _ := g.Adopt(a("2001:db8::2"), a("2001:db8::3"))
			return []bool{room, g.PerIP().Count(a("2001:db8::9")) == 2}
		}, []bool{true, true}},
		{"mapped IPv4 is the IPv4 address, not a /64", 0, func(g *Gate) []bool {
			return []bool{g.Accept(a("::ffff:192.0.2.1")), g.Accept(a("192.0.2.1")), g.Accept(a("::ffff:192.0.2.1")), g.Accept(a("192.0.2.2")), g.Accept(a("::ffff:192.0.2.3"))}
		}, []bool{true, true, false, true, true}},
		{"zoned link-local in one /64", 0, func(g *Gate) []bool {
			return []bool{g.Accept(a("fe80::1%eth0")), g.Accept(a("fe80::2%eth1")), g.Accept(a("fe80::3"))}
		}, []bool{true, true, false}},
		{"/48", 48, func(g *Gate) []bool {
			return []bool{g.Accept(a("2001:db8:1:2::1")), g.Accept(a("2001:db8:1:ffff::1")), g.Accept(a("2001:db8:1:3::1")), g.Accept(a("2001:db8:2::1"))}
		}, []bool{true, true, false, true}},
		{"128: whole addresses", 128, func(g *Gate) []bool {
			return []bool{g.Accept(a("2001:db8::1")), g.Accept(a("2001:db8::1")), g.Accept(a("2001:db8::2")), g.Accept(a("2001:db8::1"))}
		}, []bool{true, true, true, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := gateV6(2, tc.bits)
			got := tc.run(g)
			for i := range tc.want {
				if got[i] != tc.want[i] {
					t.Fatalf("answers %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// Behind a trusted proxy the forwarded client is counted by its /64 too.
func TestClientIPv6Prefix(t *testing.T) {
	t.Parallel()
	g := gateV6(1, 0)
	u := &upgrade.Upgrader{}
	peer := netip.AddrPortFrom(proxy, 1234)
	var seats []Seat
	for i, tc := range []struct {
		client string
		want   bool
	}{{"2001:db8:5:6::1", true}, {"2001:db8:5:6::2", false}, {"2001:db8:5:6:1:2:3:4", false}, {"2001:db8:5:7::1", true}} {
		req := upgrade.NewRequest()
		raw := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
			"X-Forwarded-For: " + tc.client + "\r\n\r\n"
		if _, err := u.Parse([]byte(raw), req); err != nil {
			t.Fatal(err)
		}
		seat, ok := g.ClientIP(req, peer)
		if ok != tc.want {
			t.Fatalf("client %d (%s): admitted %v, want %v", i, tc.client, ok, tc.want)
		}
		if ok {
			seats = append(seats, seat)
		}
	}
	for _, s := range seats {
		g.Release(s, proxy)
	}
	if n := g.PerIP().Len(); n != 0 {
		t.Fatalf("%d prefixes still counted after Release", n)
	}
}
