package engine

import (
	"net"
	"net/http"

	"github.com/weir-ws/weir/upgrade"
)

// ServeHTTP upgrades a request from net/http (the Server's Upgrader runs the same
// checks and hooks as on the loops) and moves the connection onto the engine: the
// socket's fd joins a loop, so it costs no goroutine from then on, like the
// connections the Server accepts itself (ws's server and noServer modes). A
// connection whose fd cannot be taken (a *tls.Conn) runs in goroutine mode. Use
// it as an http.Handler: mux.Handle("GET /ws", srv).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	nc, head, res, err := s.upg.Upgrade(w, r)
	if err != nil {
		return // the Upgrader wrote the rejection
	}
	s.Adopt(nc, head, &res)
}

// Adopt runs a connection whose server handshake is already done (by
// upgrade.Upgrader.Upgrade, or by anything else) on the engine. head holds bytes read
// past the handshake; res, when not nil, gives the negotiated facts. TCP and Unix
// sockets move onto the loops; other net.Conns run in goroutine mode.
func (s *Server) Adopt(nc net.Conn, head []byte, res *upgrade.Result) *Conn {
	e := s.e
	e.tuneNet(nc)
	var c *Conn
	if fd, ok := takeFD(nc, e.cfg.GoroutinePerConn || len(e.loops) == 0); ok {
		c = e.newConn(int32(fd), nil, false)
		c.remote = addrPort(nc.RemoteAddr())
		nc.Close() // the engine owns the duplicate now: still one fd per connection
	} else {
		c = e.newConn(-1, nil, false)
		c.g = newGState(nc)
		c.remote = addrPort(nc.RemoteAddr())
	}
	if res != nil {
		c.sub = res.Subprotocol
		c.setCompression(res)
		if res.Version != 0 {
			c.version = uint8(res.Version)
		}
		if res.UserValue != nil {
			c.SetUserData(res.UserValue)
		}
		if res.Path != "" || res.RawQuery != "" || res.Header != nil {
			c.ext().kept = &Kept{Path: res.Path, Query: res.RawQuery, Header: res.Header}
		}
	}
	e.startOpenConn(c, head)
	return c
}
