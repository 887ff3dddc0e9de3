package engine

import (
	"net"
	"net/netip"

	"github.com/weir-ws/weir/internal/sock"
)

// The engine's side of its sockets: internal/sock makes the syscalls; here
// they meet the engine's policy (admission, TCP options from Config, logging)
// and goroutine mode, where a connection's socket is a net.Conn (identity.goMode set).

// listener is a listening socket watched by a loop: accepts happen on the
// loop, never in a goroutine per connection.
type listener struct {
	*sock.Listener
	loop *loop
	eng  *engine
	// starved: the last accept failed for want of fds (loop goroutine only).
	starved bool
}

// accept takes every pending connection (loop goroutine).
func (ln *listener) accept() {
	e := ln.eng
	err := ln.Accept(func(fd int, remote netip.AddrPort) bool {
		if !e.admitAccepted(remote.Addr()) { // stopping, or at a cap (limits.go)
			return false
		}
		if err := sock.TuneAccepted(fd, e.tcpOpts()); err != nil {
			e.cfg.Logger.Warn("weir: TCP options", "remote", remote, "err", err)
		}
		c := e.newConn(int32(fd), false)
		c.setRemote(remote)
		e.startServerConn(c)
		return true
	})
	if sock.OutOfFDs(err) {
		// The pending connections stay in the backlog. The listener is
		// edge-triggered, so nothing reports them again until yet another
		// connection arrives: the loop retries on each tick until accept gets
		// past them (reactor.Loop.Retry). Logged once per shortage.
		if !ln.starved {
			ln.starved = true
			e.cfg.Logger.Warn("weir: accept: out of file descriptors; retrying every tick", "err", err)
		}
		ln.loop.Retry(ln.FD())
		return
	}
	if err != nil {
		e.cfg.Logger.Warn("weir: accept", "err", err)
	}
	ln.starved = false
}

func (ln *listener) close() { ln.Close(ln.loop.Unlisten) }

// takeFD takes the socket under nc for a loop (see sock.TakeConn), unless no
// loop runs.
func (e *engine) takeFD(nc net.Conn) (int, bool) {
	if e.cfg.GoroutinePerConn || len(e.loops) == 0 {
		return -1, false
	}
	return sock.TakeConn(nc)
}

// tcpOpts are Config's TCP options (TCPKeepAlive, TCPUserTimeout).
func (e *engine) tcpOpts() sock.TCPOptions {
	return sock.TCPOptions{KeepAlive: e.cfg.TCPKeepAlive, UserTimeout: e.cfg.TCPUserTimeout}
}

// tuneNet applies Config's TCP options to a net.Conn that the engine accepted,
// was handed, or dialled, if TCP is under it. A failure is logged: the
// connection works without the options.
func (e *engine) tuneNet(nc net.Conn) {
	if err := sock.TuneConn(nc, e.tcpOpts()); err != nil {
		e.cfg.Logger.Warn("weir: TCP options", "remote", nc.RemoteAddr(), "err", err)
	}
}

// What differs between a connection on the loops (its fd, with the TLS record
// layer for wss) and one in goroutine mode (identity.goMode: a net.Conn with
// its reader and writer goroutines, goroutine.go): the socket's close,
// half-close and local address, what the kernel still holds (timer.go), the
// Writer's Sink (writeside.go) and how events reach the connection (sched.go).
// The loops' read path (read.go) never runs in goroutine mode.

func (c *Conn) sysRead(b []byte) (int, error) { return c.fd.Read(b) }

// closeSocket gives the write side's buffers back and closes the socket (under
// write.mu, with the Writer marked closed, so that no other goroutine can touch
// a reused fd number afterwards). Goroutine mode's writer may first send what
// is queued (closeNet).
func (c *Conn) closeSocket() {
	if c.goMode() {
		c.closeNet()
		return
	}
	c.releaseWrite()
	if c.tls != nil {
		c.tlsSayBye() // close_notify, or the alert a bad record calls for
		c.tlsDropBacklog()
	}
	c.fd.Close() // once; afterwards c.fd.Int() is -1
}

// shutLocked half-closes the socket (under write.mu).
func (c *Conn) shutLocked() {
	if c.goMode() {
		c.goroutine().CloseWrite()
		return
	}
	if c.tls != nil {
		c.tlsSayBye() // RFC 8446 §6.1: close_notify before the half-close
	}
	c.fd.Shutdown()
}
