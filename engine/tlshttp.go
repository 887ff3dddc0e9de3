package engine

import (
	"crypto/tls"
	"net"
	"net/netip"
	"time"

	"github.com/weir-ws/weir/internal/handoff"
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
// TLSMetrics and closed, not logged by net/http. A handshake counts under
// Config.MaxConnsPerIP while it runs (a connection over the cap is closed
// at its accept), so one address cannot hold every handshake slot; once
// done, the connection is net/http's, and counts again when ServeHTTP
// upgrades it. cfg is cloned once here.
//
// Closing the listener closes ln; so does Close or Shutdown of the Server.
// Under Config.GoroutinePerConn (no loops) its connections stay in goroutine
// mode, their handshakes run, bounded and counted here the same.
func (s *Server) TLSListener(ln net.Listener, cfg *tls.Config) (net.Listener, error) {
	if cfg == nil {
		return nil, ErrNoTLSConfig
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stoppedLocked() {
		return nil, ErrServerClosed
	}
	e := s.e
	return tlshand.NewListener(ln, tlshand.Prepare(cfg, tlshand.Options{Goroutine: !loopTLS(e)}), tlshand.ListenerConfig{
		Slots: s.tlsSlots(ln), Timeout: e.Cfg.HandshakeTimeout, Go: e.Goroutine,
		Admit:  func(r netip.AddrPort) bool { return !e.Stopping.Load() && e.Gate.Handshaking(r.Addr()) },
		Leave:  func(r netip.AddrPort) { e.Gate.Leave(r.Addr()) },
		Busy:   func() { e.Counters.TLS.Busy.Add(1) },
		Failed: func() { e.Counters.TLS.Failed.Add(1) },
	}), nil
}

// adoptLate is adopt for a wss connection hijacked from an http.Server on a
// TLSListener: on a loop with its record layer, or in goroutine mode on tc.
func (s *Server) adoptLate(tc *tls.Conn, lc *tlshand.LateConn, head []byte, res *upgrade.Result, held netip.Addr) *Conn {
	e := s.e
	return s.adoptHanded(tc, held, res, head, lc.Fallback, func(head []byte) (handoff.Conn, []byte) {
		raw := lc.Raw()
		if e.Cfg.HandshakeTimeout > 0 { // a record crypto/tls had begun is read whole
			raw.SetReadDeadline(time.Now().Add(e.Cfg.HandshakeTimeout))
		}
		h, head := handoff.Late(tc, lc, head, (*sockets)(e), s.cfg.TLSDropExporter)
		if h.TLS != handoff.TLSLoop {
			raw.SetReadDeadline(time.Time{})
		}
		return h, head
	})
}
