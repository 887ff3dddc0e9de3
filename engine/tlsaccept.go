package engine

import (
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/weir-ws/weir/internal/tlshand"
	"github.com/weir-ws/weir/internal/tlsloop"
)

// wss on the loops, the way in: ListenTLS accepts on a goroutine of its own,
// runs crypto/tls's handshake (internal/tlshand) on a short-lived goroutine
// per connection, at most Config.MaxTLSHandshakes at once, and moves the raw
// socket with its record layer onto a loop (tlsloop.go), where the WebSocket
// handshake and everything after runs as on ws://. What the record layer
// cannot run (TLS 1.2, ChaCha20-Poly1305, ...: tlshand.ErrGoroutineMode)
// stays in goroutine mode with its tls.Conn.

// ErrTLSBusy is why a TLS connection was closed unanswered: it waited its
// HandshakeTimeout for one of the Config.MaxTLSHandshakes handshake slots.
var ErrTLSBusy = errors.New("weir: too many TLS handshakes in progress")

// tlsCounters are the TLS event counters (engine.m).
type tlsCounters struct {
	tlsLoop, tlsGoroutine, tlsFailed, tlsBusy, tlsRecordErrors atomic.Uint64
}

// TLSMetrics count what happened to the connections of ListenTLS.
type TLSMetrics struct {
	// Loop counts handshakes whose connection moved onto the loops.
	Loop uint64
	// Goroutine counts handshakes whose connection stayed in goroutine mode
	// (TLS 1.2, ChaCha20-Poly1305, ...: docs/tls-design.md).
	Goroutine uint64
	// Failed counts TLS handshakes that failed or timed out (HandshakeTimeout).
	Failed uint64
	// Busy counts connections closed unanswered because every handshake slot
	// (MaxTLSHandshakes) stayed taken for their HandshakeTimeout.
	Busy uint64
	// RecordErrors counts loop connections ended by a bad record (failed
	// authentication, plaintext, over the size limit, ...): alert sent, closed.
	RecordErrors uint64
}

func (m *tlsCounters) snapshot() TLSMetrics {
	return TLSMetrics{Loop: m.tlsLoop.Load(), Goroutine: m.tlsGoroutine.Load(), Failed: m.tlsFailed.Load(),
		Busy: m.tlsBusy.Load(), RecordErrors: m.tlsRecordErrors.Load()}
}

// TLSMetrics returns the counters of the server's TLS listeners.
func (s *Server) TLSMetrics() TLSMetrics { return s.e.m.snapshot() }

// ListenTLS is Listen with TLS: wss on the loops. cfg is used as
// crypto/tls uses it (certificates, GetCertificate, ALPN, client
// certificates, session resumption); it is cloned once here, so later
// changes to it are not seen. TLS 1.3 connections with an AES-GCM suite run
// on the loops after the handshake, with no goroutine and no buffer when idle;
// the others stay in goroutine mode (docs/tls-design.md). The TLS handshake
// runs on a goroutine per connection, at most Config.MaxTLSHandshakes at
// once, within Config.HandshakeTimeout.
func (s *Server) ListenTLS(addr string, cfg *tls.Config) error {
	if cfg == nil {
		return errors.New("weir: ListenTLS needs a tls.Config")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		ln.Close()
		return ErrServerClosed
	}
	if s.addr == nil {
		s.addr = ln.Addr()
	}
	e := s.e
	if e.cfg.GoroutinePerConn || len(e.loops) == 0 {
		return e.serveListener(s, tls.NewListener(ln, cfg))
	}
	if s.tls == nil { // one set of slots for all of the Server's TLS listeners
		s.tls = tlshand.NewSlots(e.cfg.MaxTLSHandshakes)
	}
	// One clone of cfg per listener, so that session tickets work across
	// its connections.
	p := tlshand.Prepare(cfg, tlshand.Options{})
	s.netLns = append(s.netLns, ln)
	e.wg.Add(1)
	go e.acceptTLS(ln, p, s.tls)
	return nil
}

// acceptTLS accepts from a TLS listener. A connection waits for a handshake
// slot until its HandshakeTimeout; connections behind it wait in the listen
// backlog. So a storm of handshakes costs at most MaxTLSHandshakes goroutines.
func (e *engine) acceptTLS(ln net.Listener, p *tlshand.Prepared, slots *tlshand.Slots) {
	defer e.wg.Done()
	for {
		nc, remote, ok := e.acceptAdmitted(ln) // netconn.go
		if !ok {
			return
		}
		var deadline time.Time
		if d := e.cfg.HandshakeTimeout; d > 0 {
			deadline = time.Now().Add(d)
		}
		if !slots.Acquire(deadline) {
			e.m.tlsBusy.Add(1)
			e.unadmit(remote.Addr())
			nc.Close()
			continue
		}
		e.wg.Add(1)
		go e.handshakeTLS(nc, p, slots, remote, deadline)
	}
}

// unadmit undoes admitAccepted for a connection that never became a Conn.
func (e *engine) unadmit(addr netip.Addr) {
	if !e.proxied(addr) {
		e.perIP().Leave(addr)
	}
}

// handshakeTLS runs one TLS handshake in its slot and starts the connection:
// on a loop with its record layer, or in goroutine mode with its tls.Conn.
func (e *engine) handshakeTLS(nc net.Conn, p *tlshand.Prepared, slots *tlshand.Slots, remote netip.AddrPort, deadline time.Time) {
	defer e.wg.Done()
	defer slots.Release()
	// The deadline cuts a client that drips its ClientHello (a TLS slowloris);
	// the context cuts every handshake when the Server stops.
	nc.SetDeadline(deadline)
	res, err := p.Server(slots.Context(), nc)
	if err != nil && !errors.Is(err, tlshand.ErrGoroutineMode) {
		e.m.tlsFailed.Add(1)
		e.unadmit(remote.Addr())
		nc.Close()
		return
	}
	nc.SetDeadline(time.Time{})
	e.tuneNet(nc)
	var c *Conn
	if err != nil { // goroutine mode: res.Conn is a working tls.Conn
		e.m.tlsGoroutine.Add(1)
		c = e.newConn(-1, nil, false)
		c.goroutine = newGoroutineMode(res.Conn)
		c.remote = remote
		e.startServerConn(c)
		return
	}
	// Loop mode: res.Conn must not be used again (its keys are stale), only
	// the socket under it.
	fd, ok := e.takeFD(nc)
	nc.Close() // the loop owns the duplicate (or nobody, if it failed)
	if !ok {
		e.m.tlsFailed.Add(1)
		e.unadmit(remote.Addr())
		return
	}
	e.m.tlsLoop.Add(1)
	c = e.newConn(int32(fd), nil, false)
	c.remote = remote
	if e.cfg.TLSDropExporter {
		tlsloop.DropExporter(&res.State)
	}
	c.tls = tlsloop.New(res.State, res.Reader, res.Writer, res.Leftover) // the leftover is opened by the first read turn
	fresh := len(res.Leftover) > 0
	e.startServerConn(c)
	if fresh {
		c.post(evRead) // the request may have come with the Finished: no edge will report it
	}
}
