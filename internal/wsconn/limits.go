package wsconn

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

// AdmitAccepted decides on a socket just accepted from addr: false (nothing
// stays counted; the caller closes it) while the Server stops or when a cap
// is reached. Otherwise addr is counted until connClosed.
func (e *Engine) AdmitAccepted(addr netip.Addr) bool {
	return !e.Stopping.Load() && e.Gate.Accept(addr)
}

// admitClientIP counts a connection from a trusted proxy under the client IP
// of its parsed request (worker context) and reports whether the cap leaves it
// room; without room nothing stays counted.
func (c *Conn) admitClientIP(w *worker, req *upgrade.Request) bool {
	seat, ok := c.Eng().Gate.ClientIP(req, c.PeerAddr())
	if seat != (admit.Seat{}) {
		c.ReadSide.Get(w).extra().seat = seat
	}
	return ok
}

// releaseConn undoes what admitting a server connection counted (connClosed).
func (e *Engine) releaseConn(w *worker, c *Conn) {
	if c.client() {
		return
	}
	var seat admit.Seat
	if x := c.ReadSide.Get(w).Extras; x != nil {
		seat = x.seat
	}
	e.Gate.Release(seat, c.PeerAddr().Addr())
}

// adoptRoom counts an upgraded connection c for Adopt and reports whether the
// caps leave it room (admit.Gate.Adopt). held is the address ServeHTTP counted
// before upgrading (invalid for a direct Adopt).
func (e *Engine) AdoptRoom(c *Conn, held netip.Addr) bool {
	room, seat := e.Gate.Adopt(held, c.PeerAddr().Addr())
	if seat != (admit.Seat{}) {
		c.ReadSide.Get(Creator).extra().seat = seat // not published yet
	}
	return room
}

// refuseOpen ends an upgraded connection the caps leave no room for (goroutine
// mode: nothing of it reaches a loop), the way startOpenConn ends one arriving
// while the Server stops: a close frame with 1013 (try again later) written at
// once, then the socket closed. It never opened, so the Handler hears nothing
// (neither OnOpen nor OnClose); CloseStatus tells 1013 and the reason.
func (e *Engine) RefuseOpen(c *Conn) {
	c.state.Store(uint32(StateOpen))
	c.sendClose(frame.StatusTryAgainLater, admit.ReasonTryLater)
	c.flushNet() // no writer goroutine runs for it
	c.finish(Creator, frame.StatusTryAgainLater, admit.ReasonTryLater, ErrTooManyConns)
}
