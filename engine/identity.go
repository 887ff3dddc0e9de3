package engine

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
type identity struct {
	fd      sock.FD // raw socket on a loop (owns nothing in goroutine mode)
	kind    idKind  // what the connection is: idClient, idGoroutine; the remote address's form
	version uint8
	port    uint16 // the peer's port (remote)
	// loop is its loop (goroutine mode: the engine's timer loop); until it
	// is placed on one, the engine's unplaced loop, which has no wheel
	// (placed).
	loop *loop
	tls  *tlsloop.Conn // wss on the loops only: the record layer (internal/tlsloop); its parts have the owners of the Conn's
	rare *rareIdentity // nil when none of its facts is set (most server connections)
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
func (id *identity) eng() *engine { return id.loop.eng }

// placed reports whether the connection is on a loop or on goroutine mode's
// timer loop, whose wheels keep its deadlines.
func (id *identity) placed() bool { return id.loop.wheel != nil }

// client reports whether this end dialled.
func (id *identity) client() bool { return id.kind&idClient != 0 }

// goMode reports whether the connection is in goroutine-per-connection mode.
func (id *identity) goMode() bool { return id.kind&idGoroutine != 0 }

// remote is the peer's address (RemoteAddr), as setRemote was given it.
func (id *identity) remote() netip.AddrPort {
	var a netip.Addr
	switch {
	case id.kind&idRemote4 != 0:
		a = netip.AddrFrom4([4]byte(id.ip[12:]))
	case id.kind&idRemote6 != 0:
		a = netip.AddrFrom16(id.ip)
		if id.rare != nil && id.rare.zone != nil {
			a = a.WithZone(*id.rare.zone)
		}
	}
	return netip.AddrPortFrom(a, id.port)
}

// setRemote sets the peer's address (before the connection is published).
func (id *identity) setRemote(ap netip.AddrPort) {
	a := ap.Addr()
	id.kind &^= idRemote4 | idRemote6
	id.port = ap.Port()
	id.ip = a.As16()
	if id.rare != nil {
		id.rare.zone = nil
	}
	switch {
	case a.Is4():
		id.kind |= idRemote4
	case a.Is6():
		id.kind |= idRemote6
		if z := a.Zone(); z != "" {
			id.rareSet().zone = &z
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
type rareIdentity struct {
	handler     Handler       // this connection's callbacks when not the engine's (a Dial's)
	compression *deflate.Conn // permessage-deflate when negotiated: its inflater is the read side's, its deflater the write side's
	subprotocol string
	kept        *Kept          // what the verify hook kept from the request
	goroutine   *goroutineMode // goroutine-per-connection mode only (goroutine.go; idGoroutine)
	zone        *string        // the peer's IPv6 zone (idRemote6), nil for none: a word, so rare stays in the 64-byte class
}

// rareSet returns id's rare part, making it on first need (only while the
// connection is set up: see rareIdentity).
func (id *identity) rareSet() *rareIdentity {
	if id.rare == nil {
		id.rare = &rareIdentity{}
	}
	return id.rare
}

// goroutine is goroutine mode's state, nil for a connection on the loops.
func (id *identity) goroutine() *goroutineMode {
	if !id.goMode() {
		return nil
	}
	return id.rare.goroutine
}

// setGoroutine puts the connection in goroutine mode (before it is published).
func (id *identity) setGoroutine(g *goroutineMode) {
	id.rareSet().goroutine = g
	id.kind |= idGoroutine
}

// handler is this connection's callbacks: a Dial's own, else the engine's.
func (id *identity) handler() Handler {
	if id.rare != nil && id.rare.handler != nil {
		return id.rare.handler
	}
	return id.eng().h
}

// compression is the permessage-deflate state, nil when not negotiated.
func (id *identity) compression() *deflate.Conn {
	if id.rare == nil {
		return nil
	}
	return id.rare.compression
}
