package wsconn

import (
	"net/netip"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/internal/sock"
	"github.com/weir-ws/weir/internal/tlsloop"
)

// identity is what a connection is. It is set before the connection is
// published and never changes afterwards, so any goroutine may read it. The
// negotiated facts (subprotocol, version, compression) are set by the handshake
// before the state becomes open, and the state's store publishes them.
//
// It is 56 bytes: the fd, one byte of kind bits, the version and the peer's
// port in the fd's first word; three pointers; the peer's address as 16
// bytes (a netip.AddrPort would take 32). The engine is the loop's (eng).
type Identity struct {
	FD        sock.FD // raw socket on a loop (owns nothing in goroutine mode)
	kind      idKind  // what the connection is: idClient, idGoroutine; the remote address's form
	WSVersion uint8
	port      uint16 // the peer's port (remote)
	// loop is its loop (goroutine mode: the engine's timer loop); until it
	// is placed on one, the engine's unplaced loop, which has no wheel
	// (placed).
	Loop *Loop
	TLS  *tlsloop.Conn // wss on the loops only: the record layer (internal/tlsloop); its parts have the owners of the Conn's
	Rare *RareIdentity // nil when none of its facts is set (most server connections)
	ip   [16]byte      // the peer's address, IPv4 in its last four bytes (remote)
}

// idKind are identity's kind bits. The loops' paths test them and never load
// rare for them.
type idKind uint8

const (
	idClient    idKind = 1 << iota // this end dialled
	idGoroutine                    // goroutine-per-connection mode (goroutine.go), its state in rare
	idRemote4                      // the peer's address is IPv4 (Is4)
	idRemote6                      // the peer's address is IPv6 (or IPv4-mapped): its zone, if any, is in rare
)

// eng is the engine the connection runs on.
func (id *Identity) Eng() *Engine { return id.Loop.Eng }

// placed reports whether the connection is on a loop or on goroutine mode's
// timer loop, whose wheels keep its deadlines.
func (id *Identity) placed() bool { return id.Loop.wheel != nil }

// client reports whether this end dialled.
func (id *Identity) client() bool { return id.kind&idClient != 0 }

// goMode reports whether the connection is in goroutine-per-connection mode.
func (id *Identity) goMode() bool { return id.kind&idGoroutine != 0 }

// remote is the peer's address (RemoteAddr), as setRemote was given it.
func (id *Identity) PeerAddr() netip.AddrPort {
	var a netip.Addr
	switch {
	case id.kind&idRemote4 != 0:
		a = netip.AddrFrom4([4]byte(id.ip[12:]))
	case id.kind&idRemote6 != 0:
		a = netip.AddrFrom16(id.ip)
		if id.Rare != nil && id.Rare.zone != nil {
			a = a.WithZone(*id.Rare.zone)
		}
	}
	return netip.AddrPortFrom(a, id.port)
}

// setRemote sets the peer's address (before the connection is published).
func (id *Identity) SetRemote(ap netip.AddrPort) {
	a := ap.Addr()
	id.kind &^= idRemote4 | idRemote6
	id.port = ap.Port()
	id.ip = a.As16()
	if id.Rare != nil {
		id.Rare.zone = nil
	}
	switch {
	case a.Is4():
		id.kind |= idRemote4
	case a.Is6():
		id.kind |= idRemote6
		if z := a.Zone(); z != "" {
			id.RareSet().zone = &z
		}
	}
}

// rareIdentity is the part of the identity that most server connections do
// not have: a Dial's own Handler, permessage-deflate, a subprotocol, the
// request the verify hook kept, goroutine mode's state, the zone of a
// link-local peer. Behind a pointer so that the Conn stays in
// the 352-byte size class (TestConnSize); set like the rest of the identity,
// before the connection is published or, for the negotiated facts, before its
// state becomes open, by the one context that sets it up (rareSet).
type RareIdentity struct {
	Handler     Handler       // this connection's callbacks when not the engine's (a Dial's)
	Compression *deflate.Conn // permessage-deflate when negotiated: its inflater is the read side's, its deflater the write side's
	Subprotocol string
	kept        *Kept          // what the verify hook kept from the request
	goroutine   *goroutineMode // goroutine-per-connection mode only (goroutine.go; idGoroutine)
	zone        *string        // the peer's IPv6 zone (idRemote6), nil for none: a word, so rare stays in the 64-byte class
}

// rareSet returns id's rare part, making it on first need (only while the
// connection is set up: see rareIdentity).
func (id *Identity) RareSet() *RareIdentity {
	if id.Rare == nil {
		id.Rare = &RareIdentity{}
	}
	return id.Rare
}

// goroutine is goroutine mode's state, nil for a connection on the loops.
func (id *Identity) Goroutine() *goroutineMode {
	if !id.goMode() {
		return nil
	}
	return id.Rare.goroutine
}

// setGoroutine puts the connection in goroutine mode (before it is published).
func (id *Identity) SetGoroutine(g *goroutineMode) {
	id.RareSet().goroutine = g
	id.kind |= idGoroutine
}

// handler is this connection's callbacks: a Dial's own, else the engine's.
func (id *Identity) Handler() Handler {
	if id.Rare != nil && id.Rare.Handler != nil {
		return id.Rare.Handler
	}
	return id.Eng().h
}

// compression is the permessage-deflate state, nil when not negotiated.
func (id *Identity) compression() *deflate.Conn {
	if id.Rare == nil {
		return nil
	}
	return id.Rare.Compression
}
