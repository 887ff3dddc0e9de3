package engine

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/netip"

	"github.com/weir-ws/weir/internal/handoff"
	"github.com/weir-ws/weir/internal/perconn"
	"github.com/weir-ws/weir/internal/tlshand"
	"github.com/weir-ws/weir/internal/wsconn"
	"github.com/weir-ws/weir/upgrade"
)

// ServeHTTP upgrades a request from net/http (the Server's Upgrader runs the same
// checks and hooks as on the loops) and moves the connection onto the engine: the
// socket's fd joins a loop, so it costs no goroutine from then on, like the
// connections the Server accepts itself (ws's server and noServer modes). A
// wss connection moves onto a loop with its TLS record layer when the
// http.Server serves a listener of [Server.TLSListener]; one from any other
// TLS listener (http.Server.ServeTLS, ListenAndServeTLS, tls.NewListener),
// whose record state crypto/tls keeps to itself, runs in goroutine mode on
// its *tls.Conn. Use it as an http.Handler: mux.Handle("GET /ws", srv).
//
// At Config.MaxConns, or MaxConnsPerIP for the request's TCP peer (or, behind
// one of the Upgrader's TrustedProxies, the client IP it forwards), the request
// is answered 503 with Retry-After before the handshake runs. The handshake is
// bounded by Config.HandshakeTimeout (see upgrade.Upgrader.HandshakeTimeout): a
// deferred verify decision not made by then is answered 503.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ip := s.upg.ClientIPHTTP(r) // the TCP peer, or the client behind a trusted proxy
	if he := s.e.Gate.HTTP(ip); he != nil {
		s.e.CountRefused(he)
		s.upg.RefuseHTTP(w, r, he)
		return
	}
	nc, head, res, err := s.upg.Upgrade(w, r)
	if err != nil {
		if handshakeRefusal(err) {
			s.e.CountRefused(err)
		}
		s.e.Gate.PerIP().Leave(ip)
		return // the Upgrader wrote the rejection
	}
	s.e.Counters.Accept()
	if tc, ok := nc.(*tls.Conn); ok {
		if lc, ok := tc.NetConn().(*tlshand.LateConn); ok { // served on a TLSListener
			s.adoptLate(tc, lc, head, &res, ip) // tlshttp.go
			return
		}
	}
	s.adopt(nc, head, &res, ip)
}

// Adopt runs a connection whose server handshake is already done (by
// upgrade.Upgrader.Upgrade, or by anything else) on the engine. head holds bytes read
// past the handshake; res, when not nil, gives the negotiated facts. TCP and Unix
// sockets move onto the loops (nc is closed: the engine keeps a duplicate of its
// fd, so the caller's later Close changes nothing); other net.Conns run in
// goroutine mode on nc itself. Either way nc is the engine's from then on: adopted
// twice, the second Conn gets a closed socket on the loops and the same net.Conn
// as the first in goroutine mode (TestAdoptOddCloses).
//
// Over Config.MaxConns or MaxConnsPerIP the connection is refused as it must be
// after a 101: a close frame with 1013 (try again later) goes out and the
// socket is closed. The returned Conn is then closed already (CloseStatus says
// 1013); it never opened, so the Handler is not called for it, as for a
// connection Adopt gets while the Server stops (1001).
func (s *Server) Adopt(nc net.Conn, head []byte, res *upgrade.Result) *Conn {
	return s.adopt(nc, head, res, netip.Addr{})
}

// adopt is Adopt for a connection whose peer address ServeHTTP counted already
// (held; invalid for none).
func (s *Server) adopt(nc net.Conn, head []byte, res *upgrade.Result, held netip.Addr) *Conn {
	return s.adoptHanded(nc, held, res, head, nil, func(head []byte) (handoff.Conn, []byte) {
		return handoff.Plain(nc, (*sockets)(s.e)), head // a loop on its fd, or goroutine mode
	})
}

// adoptHanded runs an upgraded connection nc: counted under the caps (one
// they leave no room for is refused on nc in goroutine mode, after refused),
// then handed off by hand (onto a loop, or goroutine mode; head followed by
// what the hand-off read), given res's negotiated facts, and started open.
func (s *Server) adoptHanded(nc net.Conn, held netip.Addr, res *upgrade.Result, head []byte,
	refused func(), hand func(head []byte) (handoff.Conn, []byte)) *Conn {
	e := s.e
	c := e.NewConn(-1, false)
	c.SetRemote(wsconn.AddrPort(nc.RemoteAddr()))
	if !s.e.AdoptRoom(c, held) && !e.Stopping.Load() {
		if refused != nil {
			refused()
		}
		c.SetGoroutine(perconn.New(nc))
		e.RefuseOpen(c)
		return pub(c)
	}
	h, head := hand(head)
	place(e, c, h)
	if res != nil {
		c.TakeResult(res) // handshake.go
	}
	e.StartOpenConn(c, head)
	return pub(c)
}

// handshakeRefusal reports whether err from upgrade.Upgrader.Upgrade is a
// refusal that was answered (a *HandshakeError), not a connection lost.
func handshakeRefusal(err error) bool {
	var he *upgrade.HandshakeError
	return errors.As(err, &he)
}
