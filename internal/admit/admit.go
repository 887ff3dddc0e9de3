package admit

import (
	"errors"
	"net/http"
	"net/netip"
	"sync/atomic"

	"github.com/weir-ws/weir/internal/iplimit"
	"github.com/weir-ws/weir/upgrade"
)

// ErrTooMany is the error behind a refusal at a cap (engine.ErrTooManyConns).
var ErrTooMany = errors.New("weir: too many connections")

// RetryAfter is the Retry-After (seconds) of the 503 at a cap.
const RetryAfter = "5"

// Reasons of the 503 at a cap, and of the close frame after a 101.
const (
	ReasonTryLater  = "try again later"
	ReasonTooMany   = "too many connections"
	ReasonTooManyIP = "too many connections from this address"
)

// Gate is a Server's caps.
type Gate struct {
	max   int              // MaxConns; <= 0: no cap
	conns *atomic.Int64    // connections now, handshakes included (the engine's count)
	perIP *iplimit.Counter // MaxConnsPerIP; nil: no cap
	upg   *upgrade.Upgrader
}

// New returns the Gate for MaxConns max over the count conns, the per-IP
// counter perIP (nil: no per-IP cap) and u's TrustedProxies.
func New(max int, conns *atomic.Int64, perIP *iplimit.Counter, u *upgrade.Upgrader) *Gate {
	return &Gate{max: max, conns: conns, perIP: perIP, upg: u}
}

// PerIP is the per-IP counter, nil without the cap.
func (g *Gate) PerIP() *iplimit.Counter {
	if g == nil {
		return nil
	}
	return g.perIP
}

// Full reports whether MaxConns connections exist already.
func (g *Gate) Full() bool {
	return g != nil && g.max > 0 && g.conns.Load() >= int64(g.max)
}

// Proxied reports whether per-IP counting skips the TCP peer a for the
// client IP the handshake resolves (a is a trusted proxy).
func (g *Gate) Proxied(a netip.Addr) bool {
	return g != nil && g.perIP != nil && g.upg.TrustsProxy(a)
}

// Accept decides on a socket just accepted from a: false (nothing stays
// counted; the caller closes it) at a cap; otherwise a is counted until
// Leave.
func (g *Gate) Accept(a netip.Addr) bool {
	return !g.Full() && g.Handshaking(a)
}

// Handshaking decides on a socket just accepted from a whose TLS handshake
// is run for net/http (engine's TLSListener): false at MaxConnsPerIP (the
// caller closes it); otherwise a is counted until Leave, when the handshake
// ends. MaxConns is not checked: it caps WebSocket connections, and what
// net/http serves on the connection is net/http's until HTTP counts it.
func (g *Gate) Handshaking(a netip.Addr) bool {
	return g.Proxied(a) || g.PerIP().Admit(a)
}

// Leave undoes Accept, or HTTP's count, for the TCP peer a.
func (g *Gate) Leave(a netip.Addr) {
	if !g.Proxied(a) {
		g.PerIP().Leave(a)
	}
}

// Seat is where a connection is counted for MaxConnsPerIP once a handshake
// resolved it: the zero Seat is its TCP peer's address (Accept's or HTTP's
// count), another the client IP behind a trusted proxy.
type Seat struct{ client netip.Addr }

// Release gives back the count of a connection from peer that sat in s
// (when it ends).
func (g *Gate) Release(s Seat, peer netip.Addr) {
	if s.client.IsValid() {
		g.PerIP().Leave(s.client)
		return
	}
	g.Leave(peer)
}

// ClientIP counts a connection from a trusted proxy under the client IP of
// its parsed request. It reports false, with nothing counted, when the cap
// leaves no room; the Seat is the client IP it now counts under (the zero
// Seat for a peer that is no trusted proxy, which Accept counted already).
func (g *Gate) ClientIP(req *upgrade.Request, peer netip.AddrPort) (Seat, bool) {
	if !g.Proxied(peer.Addr()) {
		return Seat{}, true
	}
	ip := g.upg.ClientIP(req, peer)
	if !g.perIP.Admit(ip) {
		return Seat{}, false
	}
	return Seat{client: ip}, true
}

// HTTP decides on a request about to be upgraded, from ip (the TCP peer, or
// the client IP behind a trusted proxy): nil, with ip counted (the
// connection's, once adopted, or the caller's to leave when the upgrade
// fails), or the 503 to answer with.
func (g *Gate) HTTP(ip netip.Addr) *upgrade.HandshakeError {
	if g.Full() {
		return TooMany(ReasonTooMany)
	}
	if !g.PerIP().Admit(ip) {
		return TooMany(ReasonTooManyIP)
	}
	return nil
}

// Adopt counts an upgraded connection from remote and reports whether the
// caps leave it room. held is the address HTTP counted before upgrading
// (invalid for none); when remote differs (a middleware rewrote RemoteAddr),
// the count moves to it, unless remote is a trusted proxy: then held, the
// client IP, keeps it, and is the connection's Seat. The caller counted the
// connection in conns already, so that two Adopts racing for the last place
// cannot both take it.
func (g *Gate) Adopt(held, remote netip.Addr) (room bool, seat Seat) {
	room = true
	if l := g.PerIP(); l != nil {
		if g.Proxied(remote) {
			seat.client = held
		} else {
			room = l.Move(held, remote)
		}
	}
	return room && (g == nil || g.max <= 0 || g.conns.Load() <= int64(g.max)), seat
}

// TooMany is the answer at a cap before upgrading: 503 (RFC 7231 §6.6.4)
// with Retry-After, wrapping ErrTooMany.
func TooMany(reason string) *upgrade.HandshakeError {
	return &upgrade.HandshakeError{
		Status: http.StatusServiceUnavailable,
		Reason: reason,
		Header: http.Header{"Retry-After": {RetryAfter}},
		Err:    ErrTooMany,
	}
}
