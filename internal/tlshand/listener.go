package tlshand

import (
	"crypto/tls"
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
	ln    net.Listener
	p     *Prepared
	cfg   ListenerConfig
	conns chan net.Conn // handshaken connections, to Accept
	done  chan struct{} // closed by Close, or when ln fails
	once  sync.Once
	live  atomic.Int64 // LateConns that can still be handed off
}

// ListenerConfig is what a Listener needs besides its listener and its
// Prepared config.
type ListenerConfig struct {
	Slots *Slots
	// Timeout bounds a connection's wait for a slot and its handshake
	// together, from its accept. Zero or negative: none.
	Timeout time.Duration
	// Go runs f on a goroutine the caller counts, or reports false when
	// it no longer starts any: a connection is then closed as Busy, and
	// NewListener's listener closed.
	Go func(f func()) bool
	// Admit decides on a connection just accepted (false: closed at once);
	// one it admits is given to Leave when its handshake ends, however it
	// ends.
	Admit func(remote netip.AddrPort) bool
	Leave func(remote netip.AddrPort)
	// Busy and Failed hear of a connection closed here: its wait for a
	// slot ran out, or its handshake failed or timed out.
	Busy, Failed func()
}

// NewListener serves ln with p's handshakes as cfg says. The accept loop
// starts at once.
func NewListener(ln net.Listener, p *Prepared, cfg ListenerConfig) *Listener {
	l := &Listener{ln: ln, p: p, cfg: cfg, conns: make(chan net.Conn), done: make(chan struct{})}
	if !cfg.Go(l.serve) {
		l.Close()
	}
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

// serve accepts and starts a handshake per connection admitted, each in a
// slot.
func (l *Listener) serve() {
	defer l.Close()
	accept := func() (net.Conn, netip.AddrPort, bool) { return perconn.Accept(l.ln, l.cfg.Admit) }
	busy := func(r netip.AddrPort) { l.cfg.Busy(); l.cfg.Leave(r) }
	acceptInSlots(l.cfg.Slots, l.cfg.Timeout, accept, l.cfg.Go, busy, l.handshake)
}

// handshake runs one handshake in its slot and gives the tls.Conn to
// Accept. The connection counts with Admit until its handshake ends: what
// net/http does with it afterwards is net/http's.
func (l *Listener) handshake(nc net.Conn, remote netip.AddrPort, deadline time.Time) {
	defer l.cfg.Slots.Release()
	nc.SetDeadline(deadline)
	tc, drop, err := l.run(nc)
	// Before net/http has it: a client that reads an answer on it finds its
	// address counted no more.
	l.cfg.Leave(remote)
	if err != nil {
		l.cfg.Failed()
		nc.Close()
		return
	}
	nc.SetDeadline(time.Time{})
	select {
	case l.conns <- tc:
	case <-l.done:
		drop() // no close_notify: nobody served it
	case <-l.cfg.Slots.Context().Done():
		drop()
	}
}

// run runs the server handshake on nc: over a LateConn that follows
// crypto/tls's record state for a later hand-off, or, with
// Options.Goroutine, on nc itself. drop closes what it made when nobody
// takes the connection.
func (l *Listener) run(nc net.Conn) (tc *tls.Conn, drop func(), err error) {
	ctx := l.cfg.Slots.Context()
	if l.p.opts.Goroutine {
		tc, err = l.p.plain(ctx, nc, true)
		return tc, func() { nc.Close() }, err
	}
	tc, lc, err := l.p.ServerLate(ctx, nc, func() { l.live.Add(-1) })
	if err != nil {
		return nil, nil, err
	}
	if lc.Live() { // nothing else has it yet: its release comes later
		l.live.Add(1)
	}
	return tc, func() { lc.Close() }, nil
}
