package engine

import (
	"crypto/tls"
	"errors"
	"net"
	"net/netip"

	"github.com/weir-ws/weir/internal/opmetrics"
	"github.com/weir-ws/weir/internal/tlshand"
)

// wss on the loops, the way in: ListenTLS accepts on a goroutine of its own,
// runs crypto/tls's handshake (internal/tlshand: its Acceptor) on a
// short-lived goroutine per connection, at most Config.MaxTLSHandshakes at
// once, and moves the raw
// socket with its record layer onto a loop (tlsloop.go), where the WebSocket
// handshake and everything after runs as on ws://. What the record layer
// cannot run (TLS 1.2, ChaCha20-Poly1305, ...: tlshand.ErrGoroutineMode)
// stays in goroutine mode with its tls.Conn.

// ErrTLSBusy is why a TLS connection was closed unanswered: it waited its
// HandshakeTimeout for one of the Config.MaxTLSHandshakes handshake slots.
var ErrTLSBusy = errors.New("weir: too many TLS handshakes in progress")

// TLSMetrics count what happened to the connections of ListenTLS (and of a
// Client's wss dials): handshakes moved onto the loops, kept in goroutine
// mode, failed, turned away busy, and record errors (internal/opmetrics).
type TLSMetrics = opmetrics.TLS

// TLSMetrics returns the counters of the server's TLS listeners, and counts
// in Goroutine the *tls.Conns ServeHTTP and Adopt run in goroutine mode
// (from an http.Server's own TLS listener).
func (s *Server) TLSMetrics() TLSMetrics { return s.e.Counters.TLS.Snapshot() }

// ListenTLS is Listen with TLS: wss on the loops. cfg is used as
// crypto/tls uses it (certificates, GetCertificate, ALPN, client
// certificates, session resumption); it is cloned once here, so later
// changes to it are not seen. TLS 1.3 connections with an AES-GCM suite run
// on the loops after the handshake, with no goroutine and no buffer when idle;
// the others stay in goroutine mode (docs/tls-design.md), as all do under
// Config.GoroutinePerConn. The TLS handshake runs on a goroutine per
// connection, at most Config.MaxTLSHandshakes at once, within
// Config.HandshakeTimeout, and is counted in TLSMetrics.
func (s *Server) ListenTLS(addr string, cfg *tls.Config) error {
	if cfg == nil {
		return ErrNoTLSConfig
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if err := s.StartTLS(ln, cfg); err != nil {
		ln.Close()
		return err
	}
	return nil
}

// ListenAndServeTLS is ListenTLS with the certificate and key read from PEM
// files (as net/http's: certFile may hold the chain after the leaf), then
// waits until the server is shut down; it returns ErrServerClosed then.
func (s *Server) ListenAndServeTLS(addr, certFile, keyFile string) error {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return err
	}
	if err := s.ListenTLS(addr, &tls.Config{Certificates: []tls.Certificate{cert}}); err != nil {
		return err
	}
	<-s.done
	return ErrServerClosed
}

// ServeTLS is Serve with TLS: the connections accepted from ln (a TCP or
// Unix listener of the caller's, say one handed over by systemd) get the
// TLS handshake and run on the loops as ListenTLS's do. It returns
// ErrServerClosed once the server is shut down, which closes ln. A listener
// that already speaks TLS (tls.NewListener) goes to Serve, in goroutine mode.
func (s *Server) ServeTLS(ln net.Listener, cfg *tls.Config) error {
	if err := s.StartTLS(ln, cfg); err != nil {
		return err
	}
	<-s.done
	return ErrServerClosed
}

// StartTLS is ServeTLS without the wait.
func (s *Server) StartTLS(ln net.Listener, cfg *tls.Config) error {
	if cfg == nil {
		return ErrNoTLSConfig
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stoppedLocked() {
		return ErrServerClosed
	}
	if s.lis.addr == nil {
		s.lis.addr = ln.Addr()
	}
	e := s.e
	// One clone of cfg per listener, so that session tickets work across
	// its connections. Without loops (GoroutinePerConn) every connection
	// stays in goroutine mode, its handshake bounded and counted the same.
	a := &tlshand.Acceptor{
		Prepared: tlshand.Prepare(cfg, tlshand.Options{Goroutine: !loopTLS(e)}), Slots: s.tlsSlots(ln), Timeout: e.Cfg.HandshakeTimeout,
		Accept: func() (net.Conn, netip.AddrPort, bool) { return acceptAdmitted(e, ln) }, // goroutine.go
		Go:     e.Goroutine,
		Busy:   func(r netip.AddrPort) { e.Counters.TLS.Busy.Add(1); e.Gate.Leave(r.Addr()) },
		Failed: func(r netip.AddrPort) { e.Counters.TLS.Failed.Add(1); e.Gate.Leave(r.Addr()) },
		Done: func(nc net.Conn, remote netip.AddrPort, res *tlshand.Result, goroutine bool) {
			startHandshaken(e, nc, remote, res, goroutine, s.cfg.TLSDropExporter)
		},
	}
	if !e.Goroutine(a.Serve) {
		ln.Close()
		return ErrServerClosed
	}
	return nil
}

// ErrNoTLSConfig: ListenTLS, ServeTLS, StartTLS or TLSListener was given a nil tls.Config.
var ErrNoTLSConfig = errors.New("weir: wss needs a tls.Config")

// tlsSlots returns the handshake slots of the Server's TLS listeners (one
// set for all of them), and counts ln among the listeners to close (under
// s.mu).
func (s *Server) tlsSlots(ln net.Listener) *tlshand.Slots {
	if s.tls == nil {
		s.tls = tlshand.NewSlots(s.cfg.MaxTLSHandshakes)
	}
	s.lis.netLns = append(s.lis.netLns, ln)
	return s.tls
}
