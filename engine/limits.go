package engine

import (
	"net/http"
	"net/netip"
	"sync"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// Connection caps (Config.MaxConns, Config.MaxConnsPerIP), checked at every way
// in, each answering the way it can:
//
//   - a socket the Server accepts (on a loop, or in acceptLoop) is closed at once,
//     before a byte of it is read: no handshake has begun, so nothing is owed;
//   - ServeHTTP answers 503 with Retry-After before upgrading (and tells the
//     Upgrader's OnHandshakeError);
//   - Adopt's caller has upgraded already: the connection gets close 1013 (try
//     again later) and is closed, as startOpenConn ends one that arrives while
//     the Server stops.
//
// A connection counts from then until connClosed, under its TCP peer's
// address, except when the Server's Upgrader trusts that peer as a proxy
// (TrustedProxies): such a peer carries many clients, so it is not counted at
// accept (no header has arrived then), and the connection counts under the
// client IP its handshake resolves (upgrade.Upgrader.ClientIP), judged as
// soon as the request is parsed, before the hooks run: over the cap it is
// answered 503 with Retry-After, on the engine's own listener as through
// ServeHTTP (which resolves it from the *http.Request). A connection Adopt
// gets directly from a trusted proxy has no resolved address and is not
// counted. MaxConns is judged against
// NumConns as each connection arrives, so connections arriving on several loops
// or handlers at the same instant may overshoot it by a few. The per-IP count
// is exact: judged and counted under one lock.

// busyRetryAfter is the Retry-After (seconds) of ServeHTTP's 503 for a cap.
const busyRetryAfter = "5"

// Reasons of the close frame and of ServeHTTP's 503.
const (
	reasonTryLater  = "try again later"
	reasonTooMany   = "too many connections"
	reasonTooManyIP = "too many connections from this address"
)

// ipLimits counts a Server's connections per remote IP address for
// Config.MaxConnsPerIP. Without the cap a Server has none, and the nil
// receiver's methods do nothing: no map, no lock.
type ipLimits struct {
	max int
	mu  sync.Mutex
	n   map[netip.Addr]int
}

func newIPLimits(max int) *ipLimits {
	if max <= 0 {
		return nil
	}
	return &ipLimits{max: max, n: make(map[netip.Addr]int)}
}

// ipKey is the address a connection counts under: IPv4-mapped IPv6 addresses
// are the IPv4 ones (a dual-stack listener sees ::ffff:a.b.c.d), zones dropped.
// ok is false for a peer with no IP (a Unix socket), which is not counted.
func ipKey(a netip.Addr) (k netip.Addr, ok bool) {
	if !a.IsValid() {
		return a, false
	}
	return a.Unmap().WithZone(""), true
}

// enter counts a connection from a and reports whether it is within the cap.
// It counts it either way, so every enter is matched by one leave: connClosed's
// for a connection that was made, the caller's for one refused before that.
func (l *ipLimits) enter(a netip.Addr) bool {
	if l == nil {
		return true
	}
	k, ok := ipKey(a)
	if !ok {
		return true
	}
	l.mu.Lock()
	n := l.n[k] + 1
	l.n[k] = n
	l.mu.Unlock()
	return n <= l.max
}

// leave undoes one enter.
func (l *ipLimits) leave(a netip.Addr) {
	if l == nil {
		return
	}
	k, ok := ipKey(a)
	if !ok {
		return
	}
	l.mu.Lock()
	if n := l.n[k] - 1; n > 0 {
		l.n[k] = n
	} else {
		delete(l.n, k)
	}
	l.mu.Unlock()
}

// sameKey reports whether a counts under k.
func sameKey(a, k netip.Addr) bool {
	h, _ := ipKey(a)
	return h == k
}

// count is the number of connections counted under a's key.
func (l *ipLimits) count(a netip.Addr) int {
	if l == nil {
		return 0
	}
	k, _ := ipKey(a)
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[k]
}

// perIP is the Server's per-IP count, nil without the cap or on a client's
// engine.
func (e *engine) perIP() *ipLimits {
	if s := e.srv; s != nil {
		return s.perIP
	}
	return nil
}

// connsFull reports whether MaxConns connections exist already.
func (e *engine) connsFull() bool {
	return e.cfg.MaxConns > 0 && e.nconns.Load() >= int64(e.cfg.MaxConns)
}

// admitAccepted decides on a socket just accepted from addr: false (nothing
// stays counted; the caller closes it) while the Server stops or when a cap
// is reached. Otherwise addr is counted until connClosed.
func (e *engine) admitAccepted(addr netip.Addr) bool {
	if e.stopping.Load() || e.connsFull() {
		return false
	}
	if l := e.perIP(); l != nil && !e.proxied(addr) && !l.enter(addr) {
		l.leave(addr)
		return false
	}
	return true
}

// proxied reports whether per-IP counting skips the TCP peer a for the client
// IP the handshake resolves (a is a trusted proxy).
func (e *engine) proxied(a netip.Addr) bool {
	s := e.srv
	return s != nil && s.perIP != nil && s.upg.TrustsProxy(a)
}

// admitClientIP counts a connection from a trusted proxy under the client IP
// of its parsed request (worker context) and reports whether the cap leaves it
// room; without room nothing stays counted.
func (c *Conn) admitClientIP(u *upgrade.Upgrader, req *upgrade.Request) bool {
	if !c.eng.proxied(c.remote.Addr()) {
		return true
	}
	l := c.eng.srv.perIP
	ip := u.ClientIP(req, c.remote)
	if !l.enter(ip) {
		l.leave(ip)
		return false
	}
	x := c.read.extra()
	x.clientIP, x.ipCounted = ip, true
	return true
}

// releaseConn undoes what admitting a server connection counted (connClosed).
func (e *engine) releaseConn(c *Conn) {
	l := e.perIP()
	if c.client || l == nil {
		return
	}
	switch {
	case c.read.extras != nil && c.read.extras.ipCounted:
		l.leave(c.read.extras.clientIP)
	case !e.proxied(c.remote.Addr()):
		l.leave(c.remote.Addr())
	}
}

// admitHTTP decides on a request ServeHTTP is about to upgrade, from ip (the
// TCP peer, or the client IP behind a trusted proxy): nil, with ip counted (the connection's, once adopted, or the
// caller's to leave when the upgrade fails), or the 503 to answer with.
func (s *Server) admitHTTP(ip netip.Addr) *upgrade.HandshakeError {
	if s.e.connsFull() {
		return tooMany(reasonTooMany)
	}
	if !s.perIP.enter(ip) {
		s.perIP.leave(ip)
		return tooMany(reasonTooManyIP)
	}
	return nil
}

// tooMany is ServeHTTP's answer at a cap: 503 (RFC 7231 §6.6.4) with
// Retry-After, wrapping ErrTooManyConns.
func tooMany(reason string) *upgrade.HandshakeError {
	return &upgrade.HandshakeError{
		Status: http.StatusServiceUnavailable,
		Reason: reason,
		Header: http.Header{"Retry-After": {busyRetryAfter}},
		Err:    ErrTooManyConns,
	}
}

// adoptRoom counts an upgraded connection c for Adopt and reports whether the
// caps leave it room. held is the address ServeHTTP counted before upgrading
// (invalid for a direct Adopt); when the connection's own address differs (a
// middleware rewrote RemoteAddr), the count moves to it, unless that address
// is a trusted proxy: then held, the client IP, keeps it.
func (s *Server) adoptRoom(c *Conn, held netip.Addr) bool {
	room := true
	remote := c.remote.Addr()
	if l := s.perIP; l != nil {
		if s.e.proxied(remote) {
			if held.IsValid() {
				x := c.read.extra()
				x.clientIP, x.ipCounted = held, true
			}
		} else if k, _ := ipKey(remote); !sameKey(held, k) {
			l.leave(held)
			room = l.enter(remote)
		}
	}
	// Judged after newConn counted the connection, so that two Adopts racing
	// for the last place cannot both take it.
	return room && (s.e.cfg.MaxConns <= 0 || s.e.nconns.Load() <= int64(s.e.cfg.MaxConns))
}

// refuseOpen ends an upgraded connection the caps leave no room for (goroutine
// mode: nothing of it reaches a loop), the way startOpenConn ends one arriving
// while the Server stops: a close frame with 1013 (try again later) written at
// once, then the socket closed. It never opened, so the Handler hears nothing
// (neither OnOpen nor OnClose); CloseStatus tells 1013 and the reason.
func (e *engine) refuseOpen(c *Conn) {
	c.state.Store(uint32(StateOpen))
	c.sendClose(frame.StatusTryAgainLater, reasonTryLater)
	c.flushNet() // no writer goroutine runs for it
	c.finish(frame.StatusTryAgainLater, reasonTryLater, ErrTooManyConns)
}
