package tlshand

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weir-ws/weir/internal/perconn"
)

// Listener is the net.Listener of engine's Server.TLSListener: an
// http.Server serves it, and its Accept returns *tls.Conn whose handshake
// is done, each over a LateConn (ServerLate), so that a connection the
// engine later finds hijacked can move onto a loop. The handshakes run as
// Acceptor runs them: a slot each, a goroutine each, within Timeout from
// the accept; the slot is held until Accept takes the connection, so a
// server that stops accepting stops the handshakes too.
type Listener struct {
	ln      net.Listener
	p       *Prepared
	slots   *Slots
	timeout time.Duration
	goFn    func(func())
	busy    func()
	failed  func()
	conns   chan net.Conn // handshaken connections, to Accept
	done    chan struct{} // closed by Close, or when ln fails
	once    sync.Once
	live    atomic.Int64 // LateConns that can still be handed off
}

// NewListener serves ln with p's handshakes in slots, each bounded by
// timeout (none when zero or negative); goFn runs a goroutine the caller
// counts, and busy and failed hear of a connection closed here, its wait
// for a slot over or its handshake failed. The accept loop starts at once.
func NewListener(ln net.Listener, p *Prepared, slots *Slots, timeout time.Duration, goFn func(func()), busy, failed func()) *Listener {
	l := &Listener{ln: ln, p: p, slots: slots, timeout: timeout, goFn: goFn, busy: busy, failed: failed,
		conns: make(chan net.Conn), done: make(chan struct{})}
	goFn(l.serve)
	return l
}

// Accept returns the next connection whose handshake is done.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close closes the listener and the one under it.
func (l *Listener) Close() error {
	err := net.ErrClosed
	l.once.Do(func() {
		close(l.done)
		err = l.ln.Close()
	})
	return err
}

// Addr is the address of the listener under it.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Live is how many of its connections still hold hand-off state (a
// LateConn not yet handed off, released or closed).
func (l *Listener) Live() int64 { return l.live.Load() }

// serve accepts and starts a handshake per connection, each in a slot.
func (l *Listener) serve() {
	defer l.Close()
	accept := func() (net.Conn, netip.AddrPort, bool) {
		return perconn.Accept(l.ln, func(netip.AddrPort) bool { return true })
	}
	acceptInSlots(l.slots, l.timeout, accept, l.goFn, func(netip.AddrPort) { l.busy() }, l.handshake)
}

// handshake runs one handshake in its slot and gives the tls.Conn to Accept.
func (l *Listener) handshake(nc net.Conn, _ netip.AddrPort, deadline time.Time) {
	defer l.slots.Release()
	nc.SetDeadline(deadline)
	tc, lc, err := l.p.ServerLate(l.slots.Context(), nc, func() { l.live.Add(-1) })
	if err == nil && lc.Live() { // nothing else has it yet: its release comes later
		l.live.Add(1)
	}
	if err != nil {
		l.failed()
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
