package engine

import (
	"net/netip"
	"testing"
	"unsafe"
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
		var id identity
		id.setRemote(want)
		if got := id.remote(); got != want {
			t.Errorf("%s: remote() = %v (Is4 %v, zone %q), want %v", s, got, got.Addr().Is4(), got.Addr().Zone(), want)
		}
	}
	// Set again (a connection's address is set once today): nothing of the
	// first address, its zone included, stays.
	var again identity
	again.setRemote(netip.MustParseAddrPort("[fe80::1%eth0]:9"))
	again.setRemote(netip.MustParseAddrPort("[fe80::1]:9"))
	if got, want := again.remote(), netip.MustParseAddrPort("[fe80::1]:9"); got != want {
		t.Errorf("set twice: remote() = %v, want %v", got, want)
	}
	var id identity
	id.setRemote(netip.AddrPort{})
	if got := id.remote(); got != (netip.AddrPort{}) {
		t.Errorf("zero address: remote() = %v, want the zero AddrPort", got)
	}
}

func TestStateString(t *testing.T) {
	t.Parallel()
	for s, want := range map[State]string{
		StateConnecting: "connecting", StateOpen: "open", StateClosing: "closing", StateClosed: "closed",
		StateClosed + 1: "unknown", ^State(0): "unknown",
	} {
		if got := s.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", uint32(s), got, want)
		}
	}
}
