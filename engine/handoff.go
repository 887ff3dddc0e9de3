package engine

import (
	"net"
	"net/netip"

	"github.com/weir-ws/weir/internal/handoff"
	"github.com/weir-ws/weir/internal/perconn"
	"github.com/weir-ws/weir/internal/tlshand"
	"github.com/weir-ws/weir/internal/tlsloop"
	"github.com/weir-ws/weir/internal/wsconn"
)

// Where a connection runs once its handshake is done (a dialled client after
// its 101, a ListenTLS connection after crypto/tls's, an adopted one):
// internal/handoff picks the socket, these put the machine's Conn on it.

// sockets is the engine as internal/handoff takes sockets.
type sockets wsconn.Engine

func (s *sockets) Tune(nc net.Conn)             { tuneNet((*wsconn.Engine)(s), nc) }
func (s *sockets) Take(nc net.Conn) (int, bool) { return takeFD((*wsconn.Engine)(s), nc) }

// handedConn makes the Conn of a handed-off connection.
func handedConn(e *wsconn.Engine, h handoff.Conn, client bool) *wsconn.Conn {
	c := e.NewConn(-1, client)
	place(e, c, h)
	return c
}

// place puts c on the socket of a handed-off connection: a loop's fd, with
// its record layer for wss, or goroutine mode on its net.Conn.
func place(e *wsconn.Engine, c *wsconn.Conn, h handoff.Conn) {
	switch h.TLS {
	case handoff.TLSLoop:
		e.Counters.TLS.Loop.Add(1)
	case handoff.TLSGoroutine:
		e.Counters.TLS.Goroutine.Add(1)
	}
	if h.FD >= 0 {
		c.FD.Own(h.FD)
	} else {
		c.SetGoroutine(perconn.New(h.Net))
	}
	c.TLS = h.Record
	c.SetRemote(h.Remote)
}

// loopTLS reports whether wss connections can move onto the loops: there
// are loops, and goroutine mode is not asked for everything.
func loopTLS(e *wsconn.Engine) bool { return !e.Cfg.GoroutinePerConn && len(e.Loops) > 0 }

// startHandshaken starts a connection whose TLS handshake is done
// (tlshand.Acceptor.Done): on a loop with its record layer, or in goroutine
// mode with its tls.Conn.
func startHandshaken(e *wsconn.Engine, nc net.Conn, remote netip.AddrPort, res *tlshand.Result, goroutine, dropExporter bool) {
	if dropExporter && !goroutine {
		// Only the loop's record layer keeps res.State; goroutine mode's
		// tls.Conn keeps its own, exporter included.
		tlsloop.DropExporter(&res.State)
	}
	h, ok := handoff.Server(nc, remote, res, goroutine, (*sockets)(e))
	if !ok {
		e.Counters.TLS.Failed.Add(1)
		e.Gate.Leave(remote.Addr())
		return
	}
	c := handedConn(e, h, false)
	if e.StartServerConn(c) && h.Fresh {
		c.Post(wsconn.EvRead) // the request may have come with the Finished: no edge will report it
	}
}
