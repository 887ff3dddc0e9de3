package wsconn

import (
	"net/netip"
	"testing"
	"unsafe"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/rtt"
)

// TestConnSize: an idle connection on the loops is its Conn and nothing else,
// allocated in the 352-byte size class. A field that takes it past 352 bytes
// moves every connection to the 384-byte class: find the padding for it, or
// put it behind a pointer made on first need (rareIdentity, sharedExtras,
// readExtras).
func TestConnSize(t *testing.T) {
	t.Parallel()
	if s := unsafe.Sizeof(Conn{}); s > 352 {
		t.Errorf("Conn is %d bytes, over 352", s)
	}
}

// TestRemoteKept: the identity keeps the peer's address in 16 bytes and a
// port; RemoteAddr gives back exactly what was set, whatever its form.
func TestRemoteKept(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"192.0.2.7:443",
		"[2001:db8::1]:8080",
		"[::ffff:192.0.2.7]:80", // IPv4-mapped stays mapped (Is4In6), not Is4
		"[fe80::1%eth0]:9",      // a zone is kept (a hijacked net.Conn may have one)
		"[::]:0",
		"0.0.0.0:65535",
	} {
		want := netip.MustParseAddrPort(s)
		var id Identity
		id.SetRemote(want)
		if got := id.PeerAddr(); got != want {
			t.Errorf("%s: remote() = %v (Is4 %v, zone %q), want %v", s, got, got.Addr().Is4(), got.Addr().Zone(), want)
		}
	}
	// Set again (a connection's address is set once today): nothing of the
	// first address, its zone included, stays.
	var again Identity
	again.SetRemote(netip.MustParseAddrPort("[fe80::1%eth0]:9"))
	again.SetRemote(netip.MustParseAddrPort("[fe80::1]:9"))
	if got, want := again.PeerAddr(), netip.MustParseAddrPort("[fe80::1]:9"); got != want {
		t.Errorf("set twice: remote() = %v, want %v", got, want)
	}
	var id Identity
	id.SetRemote(netip.AddrPort{})
	if got := id.PeerAddr(); got != (netip.AddrPort{}) {
		t.Errorf("zero address: remote() = %v, want the zero AddrPort", got)
	}
}

// pongConn is a bare connection for driving the pong path directly.
func pongConn(pending int) (*Conn, []byte) {
	c := &Conn{Identity: Identity{Rare: &RareIdentity{Handler: QueueHandler{}}, Loop: &Loop{Eng: &Engine{}}}} // eng: the guard reads its PanicPolicy
	for range pending {
		c.SharedExtras().RTT.Add(rtt.NewWaiter())
	}
	return c, make([]byte, rtt.Len) // a payload no call waits for
}

// TestPongPathAllocs checks that a pong costs no allocation, with calls pending
// or not. Not parallel: AllocsPerRun counts every goroutine's allocations.
func TestPongPathAllocs(t *testing.T) {
	for _, pending := range []int{0, 1, 4} {
		c, p := pongConn(pending)
		if n := testing.AllocsPerRun(100, func() { c.Control(Creator, frame.OpPong, p) }); n != 0 {
			t.Errorf("%d pending: %v allocs per pong", pending, n)
		}
	}
}

func BenchmarkPongPath(b *testing.B) {
	for _, bc := range []struct {
		name    string
		pending int
	}{{"none", 0}, {"pending-1", 1}, {"pending-4", 4}} {
		b.Run(bc.name, func(b *testing.B) {
			c, p := pongConn(bc.pending)
			b.ReportAllocs()
			for b.Loop() {
				c.Control(Creator, frame.OpPong, p) // the test made c: it owns it
			}
		})
	}
}
