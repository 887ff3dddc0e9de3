package engine

import (
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weir-ws/weir/internal/handoff"
	"github.com/weir-ws/weir/internal/perconn"
	"github.com/weir-ws/weir/internal/tlshand"
	"github.com/weir-ws/weir/upgrade"
)

// wss on the loops through net/http (issue #17): crypto/tls cannot give up
// the state of a tls.Conn it made itself, so the http.Server serves a
// listener the Server makes (TLSListener): its tls.Conns run over
// tlshand.LateConn, which follows crypto/tls's record state while net/http
// serves HTTPS, and ServeHTTP, finding one under a hijacked tls.Conn
// (tls.Conn.NetConn: no registry to keep), moves it onto a loop as
// ListenTLS's connections are (internal/handoff.Late).

// TLSListener returns a listener for an http.Server that serves TLS on ln
// with cfg (http.Server.Serve(l), not ServeTLS) and whose wss connections,
// once ServeHTTP upgrades them, run on the loops like ListenTLS's: no
// goroutine and no buffer per idle connection. Its Accept returns *tls.Conn
// whose handshake is done; other requests (plain HTTPS, keep-alive, HTTP/2
// when cfg.NextProtos offers "h2") are net/http's as usual. The handshakes
// run here, as ListenTLS runs them: on a goroutine each, at most
// Config.MaxTLSHandshakes at once (shared with ListenTLS), each within
// Config.HandshakeTimeout from its accept; a failed one is counted in
// TLSMetrics and closed, not logged by net/http. cfg is cloned once here.
//
// Closing the listener closes ln; so does Close or Shutdown of the Server.
// Under Config.GoroutinePerConn (no loops) it is tls.NewListener(ln, cfg).
func (s *Server) TLSListener(ln net.Listener, cfg *tls.Config) (net.Listener, error) {
	if cfg == nil {
		return nil, errors.New("weir: TLSListener needs a tls.Config")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrServerClosed
	}
	e := s.e
	if e.cfg.GoroutinePerConn || len(e.loops) == 0 {
		return tls.NewListener(ln, cfg), nil
	}
	if s.tls == nil {
		s.tls = tlshand.NewSlots(e.cfg.MaxTLSHandshakes)
	}
	s.netLns = append(s.netLns, ln)
	l := &tlsHTTPListener{
		ln: ln, e: e, p: tlshand.Prepare(cfg, tlshand.Options{}), slots: s.tls,
		conns: make(chan net.Conn), done: make(chan struct{}),
	}
	e.goCounted(l.serve)
	return l, nil
}

// tlsHTTPListener is TLSListener's listener.
type tlsHTTPListener struct {
	ln    net.Listener
	e     *engine
	p     *tlshand.Prepared
	slots *tlshand.Slots
	conns chan net.Conn // handshaken connections, to Accept
	done  chan struct{} // closed by Close, or when ln fails
	once  sync.Once
	live  atomic.Int64 // LateConns that can still be handed off
}

func (l *tlsHTTPListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *tlsHTTPListener) Close() error {
	err := net.ErrClosed
	l.once.Do(func() {
		close(l.done)
		err = l.ln.Close()
	})
	return err
}

func (l *tlsHTTPListener) Addr() net.Addr { return l.ln.Addr() }

// serve accepts and starts a handshake per connection, each in a slot
// (tlshand.Acceptor's discipline, with Accept's channel as Done).
func (l *tlsHTTPListener) serve() {
	defer l.Close()
	e := l.e
	for {
		nc, _, ok := perconn.Accept(l.ln, func(netip.AddrPort) bool { return true })
		if !ok {
			return
		}
		var deadline time.Time
		if e.cfg.HandshakeTimeout > 0 {
			deadline = time.Now().Add(e.cfg.HandshakeTimeout)
		}
		if !l.slots.Acquire(deadline) {
			e.m.tls.Busy.Add(1)
			nc.Close()
			continue
		}
		e.goCounted(func() { l.handshake(nc, deadline) })
	}
}

// handshake runs one handshake in its slot and gives the tls.Conn to Accept;
// the slot is held until Accept takes it, so a server that stops accepting
// stops the handshakes too.
func (l *tlsHTTPListener) handshake(nc net.Conn, deadline time.Time) {
	defer l.slots.Release()
	nc.SetDeadline(deadline)
	tc, lc, err := l.p.ServerLate(l.slots.Context(), nc, func() { l.live.Add(-1) })
	if err == nil && lc.Live() { // nothing else has it yet: its release comes later
		l.live.Add(1)
	}
	if err != nil {
		l.e.m.tls.Failed.Add(1)
		nc.Close()
		return
	}
	nc.SetDeadline(time.Time{})
	select {
	case l.conns <- tc:
	case <-l.done:
		lc.Close() // no close_notify: nobody served it
	case <-l.slots.Context().Done():
		lc.Close()
	}
}

// adoptLate is adopt for a wss connection hijacked from an http.Server on a
// TLSListener: on a loop with its record layer, or in goroutine mode on tc.
func (s *Server) adoptLate(tc *tls.Conn, lc *tlshand.LateConn, head []byte, res *upgrade.Result, held netip.Addr) *Conn {
	e := s.e
	c := e.newConn(-1, nil, false)
	c.remote = addrPort(tc.RemoteAddr())
	if !s.adoptRoom(c, held) && !e.stopping.Load() {
		lc.Fallback()
		c.goroutine = newGoroutineMode(tc)
		e.refuseOpen(c)
		return c
	}
	raw := lc.Raw()
	if e.cfg.HandshakeTimeout > 0 { // a record crypto/tls had begun is read whole
		raw.SetReadDeadline(time.Now().Add(e.cfg.HandshakeTimeout))
	}
	h, head := handoff.Late(tc, lc, head, (*handoffSockets)(e), e.cfg.TLSDropExporter)
	switch h.TLS {
	case handoff.TLSLoop:
		e.m.tls.Loop.Add(1)
		c.fd.Own(h.FD)
		c.tls = h.Record
	default:
		e.m.tls.Goroutine.Add(1)
		raw.SetReadDeadline(time.Time{})
		c.goroutine = newGoroutineMode(h.Net)
	}
	if res != nil {
		c.takeResult(res)
	}
	e.startOpenConn(c, head)
	return c
}
