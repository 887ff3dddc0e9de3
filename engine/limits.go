package engine

import (
	"net/netip"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/admit"
	"github.com/weir-ws/weir/upgrade"
)

// Connection caps (Config.MaxConns, Config.MaxConnsPerIP), checked at every way
// in (internal/admit says how each answers): the Server's listeners (socket.go,
// acceptLoop), the handshake on the loops once a trusted proxy's request is
// parsed (handshakeInput), ServeHTTP, and Adopt (refuseOpen). A connection
// counts until connClosed.

// admitAccepted decides on a socket just accepted from addr: false (nothing
// stays counted; the caller closes it) while the Server stops or when a cap
// is reached. Otherwise addr is counted until connClosed.
func (e *engine) admitAccepted(addr netip.Addr) bool {
	return !e.stopping.Load() && e.gate.Accept(addr)
}

// unadmit undoes admitAccepted for a connection that never became a Conn:
// per-IP counting skipped a trusted proxy's address (admit.Gate.Proxied).
func (e *engine) unadmit(addr netip.Addr) {
	if !e.gate.Proxied(addr) {
		e.gate.PerIP().Leave(addr)
	}
}

// admitClientIP counts a connection from a trusted proxy under the client IP
// of its parsed request (worker context) and reports whether the cap leaves it
// room; without room nothing stays counted.
func (c *Conn) admitClientIP(w *worker, req *upgrade.Request) bool {
	ip, counted, ok := c.eng.gate.ClientIP(req, c.remote)
	if counted {
		x := c.read.Get(w).extra()
		x.clientIP, x.ipCounted = ip, true
	}
	return ok
}

// releaseConn undoes what admitting a server connection counted (connClosed).
func (e *engine) releaseConn(w *worker, c *Conn) {
	if c.client {
		return
	}
	if x := c.read.Get(w).extras; x != nil && x.ipCounted {
		e.gate.PerIP().Leave(x.clientIP)
		return
	}
	e.gate.Leave(c.remote.Addr())
}

// adoptRoom counts an upgraded connection c for Adopt and reports whether the
// caps leave it room (admit.Gate.Adopt). held is the address ServeHTTP counted
// before upgrading (invalid for a direct Adopt).
func (s *Server) adoptRoom(c *Conn, held netip.Addr) bool {
	room, clientIP := s.e.gate.Adopt(held, c.remote.Addr())
	if clientIP.IsValid() {
		x := c.read.Get(creator).extra() // not published yet
		x.clientIP, x.ipCounted = clientIP, true
	}
	return room
}

// refuseOpen ends an upgraded connection the caps leave no room for (goroutine
// mode: nothing of it reaches a loop), the way startOpenConn ends one arriving
// while the Server stops: a close frame with 1013 (try again later) written at
// once, then the socket closed. It never opened, so the Handler hears nothing
// (neither OnOpen nor OnClose); CloseStatus tells 1013 and the reason.
func (e *engine) refuseOpen(c *Conn) {
	c.state.Store(uint32(StateOpen))
	c.sendClose(frame.StatusTryAgainLater, admit.ReasonTryLater)
	c.flushNet() // no writer goroutine runs for it
	c.finish(creator, frame.StatusTryAgainLater, admit.ReasonTryLater, ErrTooManyConns)
}
