package engine

import (
	"net/http"
	"net/netip"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/iplimit"
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

// perIP is the Server's per-IP count, nil without the cap or on a client's
// engine.
func (e *engine) perIP() *iplimit.Counter {
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
	return e.proxied(addr) || e.perIP().Admit(addr)
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
func (c *Conn) admitClientIP(w *worker, u *upgrade.Upgrader, req *upgrade.Request) bool {
	if !c.eng.proxied(c.remote.Addr()) {
		return true
	}
	ip := u.ClientIP(req, c.remote)
	if !c.eng.srv.perIP.Admit(ip) {
		return false
	}
	x := c.read.Get(w).extra()
	x.clientIP, x.ipCounted = ip, true
	return true
}

// releaseConn undoes what admitting a server connection counted (connClosed).
func (e *engine) releaseConn(w *worker, c *Conn) {
	r := c.read.Get(w)
	l := e.perIP()
	if c.client || l == nil {
		return
	}
	switch {
	case r.extras != nil && r.extras.ipCounted:
		l.Leave(r.extras.clientIP)
	case !e.proxied(c.remote.Addr()):
		l.Leave(c.remote.Addr())
	}
}

// admitHTTP decides on a request ServeHTTP is about to upgrade, from ip (the
// TCP peer, or the client IP behind a trusted proxy): nil, with ip counted (the connection's, once adopted, or the
// caller's to leave when the upgrade fails), or the 503 to answer with.
func (s *Server) admitHTTP(ip netip.Addr) *upgrade.HandshakeError {
	if s.e.connsFull() {
		return tooMany(reasonTooMany)
	}
	if !s.perIP.Admit(ip) {
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
				x := c.read.Get(creator).extra() // not published yet
				x.clientIP, x.ipCounted = held, true
			}
		} else {
			room = l.Move(held, remote)
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
	c.finish(creator, frame.StatusTryAgainLater, reasonTryLater, ErrTooManyConns)
}
