package admit

import (
	"errors"
	"net/http"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/weir-ws/weir/internal/iplimit"
	"github.com/weir-ws/weir/upgrade"
)

var (
	ipA   = netip.MustParseAddr("192.0.2.1")
	ipB   = netip.MustParseAddr("192.0.2.2")
	proxy = netip.MustParseAddr("10.0.0.1")
)

// gate makes a Gate with MaxConns max, MaxConnsPerIP perIP and proxy as the
// one trusted proxy; n is its connection count.
func gate(max, perIP int) (*Gate, *atomic.Int64) {
	return gateBits(max, perIP, 0)
}

func gateBits(max, perIP, bits int) (*Gate, *atomic.Int64) {
	n := new(atomic.Int64)
	u := &upgrade.Upgrader{TrustedProxies: []netip.Prefix{netip.PrefixFrom(proxy, 32)}}
	return New(max, n, iplimit.New(perIP, bits), u), n
}

// Accept: MaxConns against the count, the per-IP cap per address, a trusted
// proxy never counted at accept; nothing stays counted for a refusal.
func TestAccept(t *testing.T) {
	t.Parallel()
	g, n := gate(3, 2)
	for i, tc := range []struct {
		a    netip.Addr
		want bool
	}{{ipA, true}, {ipA, true}, {ipA, false}, {ipB, true}, {proxy, true}, {proxy, true}} {
		if got := g.Accept(tc.a); got != tc.want {
			t.Fatalf("accept %d from %v: %v, want %v", i, tc.a, got, tc.want)
		}
	}
	if c := g.PerIP().Count(ipA); c != 2 {
		t.Fatalf("%v counted %d times, want 2", ipA, c)
	}
	if c := g.PerIP().Count(proxy); c != 0 {
		t.Fatalf("the trusted proxy counted %d times", c)
	}
	n.Store(3)
	if g.Accept(ipB) {
		t.Fatal("accepted at MaxConns")
	}
	if c := g.PerIP().Count(ipB); c != 1 {
		t.Fatalf("a refusal at MaxConns left %v counted %d times, want 1", ipB, c)
	}
	g.Leave(ipA)
	g.Leave(proxy) // not counted: nothing to give back
	if c := g.PerIP().Count(ipA); c != 1 {
		t.Fatalf("after Leave %v counts %d, want 1", ipA, c)
	}
}

// A nil Gate (a client's engine) admits everything and counts nothing.
func TestNilGate(t *testing.T) {
	t.Parallel()
	var g *Gate
	if !g.Accept(ipA) || g.Full() || g.Proxied(proxy) || g.PerIP() != nil || g.HTTP(ipA) != nil {
		t.Fatal("a nil Gate refused or counted")
	}
	if room, _ := g.Adopt(netip.Addr{}, ipA); !room {
		t.Fatal("a nil Gate has no room")
	}
	g.Leave(ipA)
}

// HTTP answers 503 with Retry-After and ErrTooMany at either cap.
func TestHTTP(t *testing.T) {
	t.Parallel()
	g, n := gate(2, 1)
	if he := g.HTTP(ipA); he != nil {
		t.Fatal(he)
	}
	for _, tc := range []struct {
		name   string
		ip     netip.Addr
		count  int64
		reason string
	}{{"per IP", ipA, 0, ReasonTooManyIP}, {"MaxConns", ipB, 2, ReasonTooMany}} {
		n.Store(tc.count)
		he := g.HTTP(tc.ip)
		if he == nil || he.Status != http.StatusServiceUnavailable || he.Reason != tc.reason ||
			he.Header.Get("Retry-After") != RetryAfter || !errors.Is(he, ErrTooMany) {
			t.Fatalf("%s: %+v", tc.name, he)
		}
	}
	if c := g.PerIP().Count(ipB); c != 0 {
		t.Fatalf("a refusal left %v counted", ipB)
	}
}

// Adopt moves HTTP's count to the connection's address, keeps it on the
// client IP behind a trusted proxy, and judges MaxConns with the connection
// counted.
func TestAdopt(t *testing.T) {
	t.Parallel()
	g, n := gate(2, 1)
	g.HTTP(ipA)
	n.Store(1)
	if room, seat := g.Adopt(ipA, ipB); !room || seat != (Seat{}) {
		t.Fatalf("moved count: room %v, seat %v", room, seat)
	}
	if g.PerIP().Count(ipA) != 0 || g.PerIP().Count(ipB) != 1 {
		t.Fatal("the count did not move")
	}
	g.HTTP(ipA)
	n.Store(2)
	if room, seat := g.Adopt(ipA, proxy); !room || seat != (Seat{ipA}) {
		t.Fatalf("behind a proxy: room %v, seat %v, want %v", room, seat, ipA)
	}
	n.Store(3)
	if room, _ := g.Adopt(netip.Addr{}, proxy); room {
		t.Fatal("room over MaxConns")
	}
}

// ClientIP counts a trusted proxy's connection under the forwarded address,
// and nothing for another peer.
func TestClientIP(t *testing.T) {
	t.Parallel()
	g, _ := gate(0, 1)
	u := &upgrade.Upgrader{}
	req := upgrade.NewRequest()
	raw := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"X-Forwarded-For: " + ipA.String() + "\r\n\r\n"
	if _, err := u.Parse([]byte(raw), req); err != nil {
		t.Fatal(err)
	}
	peer := netip.AddrPortFrom(proxy, 1234)
	seat, ok := g.ClientIP(req, peer)
	if !ok || seat != (Seat{ipA}) {
		t.Fatalf("first: %v %v", seat, ok)
	}
	if seat, ok := g.ClientIP(req, peer); ok || seat != (Seat{}) {
		t.Fatal("the second from the same client IP was admitted over the cap")
	}
	if g.PerIP().Count(ipA) != 1 {
		t.Fatalf("count %d, want 1", g.PerIP().Count(ipA))
	}
	if seat, ok := g.ClientIP(req, netip.AddrPortFrom(ipB, 1)); !ok || seat != (Seat{}) {
		t.Fatal("a direct peer was counted again")
	}
	// Release gives back the client IP's count for a seat behind the proxy,
	// the peer's for the zero Seat.
	g.Release(seat, proxy)
	g.HTTP(ipB)
	g.Release(Seat{}, ipB)
	if g.PerIP().Count(ipA) != 0 || g.PerIP().Count(ipB) != 0 {
		t.Fatalf("after Release: %v counts %d, %v counts %d", ipA, g.PerIP().Count(ipA), ipB, g.PerIP().Count(ipB))
	}
}

// gateV6 is gate with MaxConnsPerIP perIP and IPv6 addresses counted by
// their first bits bits (0: the default).
func gateV6(perIP, bits int) *Gate {
	g, _ := gateBits(0, perIP, bits)
	return g
}
