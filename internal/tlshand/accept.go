package tlshand

import (
	"errors"
	"net"
	"net/netip"
	"time"
)

// Acceptor serves a TLS listener (engine's ListenTLS): it accepts, waits for
// a handshake slot, and runs each handshake on a short-lived goroutine of its
// own, so a storm of handshakes costs at most the slots' goroutines and the
// connections behind them wait in the listen backlog. What happens to a
// connection once its handshake is done is Done's business.
type Acceptor struct {
	Prepared *Prepared
	Slots    *Slots
	// Timeout bounds a connection's wait for a slot and its handshake
	// together, from its accept (a client that drips its ClientHello, a TLS
	// slowloris, is cut by it). Zero or negative: none.
	Timeout time.Duration
	// Accept returns the next admitted connection and its peer, or false once
	// the listener is closed (Serve then returns).
	Accept func() (net.Conn, netip.AddrPort, bool)
	// Go runs f on a goroutine of its own (the engine counts it), or
	// reports false when it no longer starts any: the connection is then
	// closed as Busy.
	Go func(f func()) bool
	// Busy and Failed hear of a connection that ends here, closed by the
	// Acceptor: its wait for a slot ran out, or its handshake failed or
	// timed out.
	Busy, Failed func(remote netip.AddrPort)
	// Done takes a connection whose handshake succeeded, its deadline
	// cleared. In loop mode (goroutine false) nc is the socket and res holds
	// the record layer (res.Conn must not be used again); in goroutine mode
	// (ErrGoroutineMode) res.Conn is a working tls.Conn over nc.
	Done func(nc net.Conn, remote netip.AddrPort, res *Result, goroutine bool)
}

// Serve accepts until Accept reports the listener closed.
func (a *Acceptor) Serve() {
	acceptInSlots(a.Slots, a.Timeout, a.Accept, a.Go, a.Busy, a.handshake)
}

// acceptInSlots accepts until accept reports the listener closed and, for
// each connection that gets one of slots within timeout from its accept
// (none when zero or negative), runs handshake on a goroutine of goFn's with
// that deadline; handshake releases the slot. busy hears of a connection
// that waited too long or got no goroutine (goFn false), closed here.
func acceptInSlots(slots *Slots, timeout time.Duration, accept func() (net.Conn, netip.AddrPort, bool),
	goFn func(func()) bool, busy func(netip.AddrPort), handshake func(net.Conn, netip.AddrPort, time.Time)) {
	for {
		nc, remote, ok := accept()
		if !ok {
			return
		}
		var deadline time.Time
		if timeout > 0 {
			deadline = time.Now().Add(timeout)
		}
		ok = slots.Acquire(deadline)
		if ok && !goFn(func() { handshake(nc, remote, deadline) }) {
			slots.Release()
			ok = false
		}
		if !ok {
			busy(remote)
			nc.Close()
		}
	}
}

// handshake runs one handshake in the slot Serve took. The context cuts
// every handshake when the Slots stop.
func (a *Acceptor) handshake(nc net.Conn, remote netip.AddrPort, deadline time.Time) {
	defer a.Slots.Release()
	nc.SetDeadline(deadline)
	res, err := a.Prepared.Server(a.Slots.Context(), nc)
	goroutine := errors.Is(err, ErrGoroutineMode)
	if err != nil && !goroutine {
		a.Failed(remote)
		nc.Close()
		return
	}
	nc.SetDeadline(time.Time{})
	a.Done(nc, remote, res, goroutine)
}
