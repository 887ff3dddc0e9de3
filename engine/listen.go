package engine

import (
	"net"
	"net/netip"

	"github.com/weir-ws/weir/internal/perconn"
	"github.com/weir-ws/weir/internal/sock"
	"github.com/weir-ws/weir/internal/wsconn"
)

// A Server's listening sockets and their accepts: a socket watched by a loop
// (accepted on the loop, never in a goroutine per connection), or, where its
// fd cannot be taken or goroutine mode is asked for, an accept goroutine; each
// accepted connection admitted (MaxConns, MaxConnsPerIP), tuned (TCP options)
// and started on the machine (internal/wsconn).

// listening is what a Server listens on, under its mutex.
type listening struct {
	addr      net.Addr
	listeners []*listener
	netLns    []net.Listener // served in goroutine mode
}

// listen opens the server's listening sockets on addr: one on the first loop, or
// one per loop with ReusePort.
func (srv *Server) listen(addr string) error {
	e, s := srv.e, &srv.lis
	if e.Cfg.GoroutinePerConn {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		if s.addr == nil {
			s.addr = ln.Addr()
		}
		return serveListener(e, s, ln)
	}
	n := 1
	if srv.cfg.ReusePort {
		n = len(e.Loops)
	}
	for i := range n {
		if i > 0 {
			addr = s.addr.String() // the same port for every loop
		}
		sl, err := sock.Listen(addr, srv.cfg.Backlog, srv.cfg.ReusePort)
		if err != nil {
			return err
		}
		if s.addr == nil {
			s.addr = sl.Addr()
		}
		if err := watchListener(s, &listener{Listener: sl, eng: e}, e.Loops[i]); err != nil {
			return err
		}
	}
	return nil
}

func watchListener(s *listening, ln *listener, l *wsconn.Loop) error {
	ln.loop = l
	if err := l.Listen(ln.FD(), ln.accept); err != nil {
		ln.Shut()
		return err
	}
	s.listeners = append(s.listeners, ln)
	return nil
}

// serveListener serves ln: on a loop when its fd can be taken, otherwise with an
// accept goroutine and goroutine-mode connections.
func serveListener(e *wsconn.Engine, s *listening, ln net.Listener) error {
	if !e.Cfg.GoroutinePerConn {
		if sl, ok := sock.FromListener(ln); ok {
			s.netLns = append(s.netLns, ln)
			return watchListener(s, &listener{Listener: sl, eng: e}, e.Loops[0])
		}
	}
	if !e.Goroutines.Go(func() { acceptLoop(e, ln) }) {
		ln.Close()
		return ErrServerClosed
	}
	s.netLns = append(s.netLns, ln)
	return nil
}

// listener is a listening socket watched by a loop: accepts happen on the
// loop, never in a goroutine per connection.
type listener struct {
	*sock.Listener
	loop *wsconn.Loop
	eng  *wsconn.Engine
	// starved: the last accept failed for want of fds (loop goroutine only).
	starved bool
}

// accept takes every pending connection (loop goroutine).
func (ln *listener) accept() {
	e := ln.eng
	err := ln.Accept(func(fd int, remote netip.AddrPort) bool {
		if !e.AdmitAccepted(remote.Addr()) { // stopping, or at a cap (limits.go)
			return false
		}
		if err := sock.TuneAccepted(fd, e.Cfg.TCP); err != nil {
			e.Cfg.Logger.Warn("weir: TCP options", "remote", remote, "err", err)
		}
		c := e.NewConn(int32(fd), false)
		c.SetRemote(remote)
		e.StartServerConn(c)
		return true
	})
	if sock.OutOfFDs(err) {
		// The pending connections stay in the backlog. The listener is
		// edge-triggered, so nothing reports them again until yet another
		// connection arrives: the loop retries on each tick until accept gets
		// past them (reactor.Loop.Retry). Logged once per shortage.
		if !ln.starved {
			ln.starved = true
			e.Cfg.Logger.Warn("weir: accept: out of file descriptors; retrying every tick", "err", err)
		}
		ln.loop.Retry(ln.FD())
		return
	}
	if err != nil {
		e.Cfg.Logger.Warn("weir: accept", "err", err)
	}
	ln.starved = false
}

func (ln *listener) Shut() { ln.Close(ln.loop.Unlisten) }

// takeFD takes the socket under nc for a loop (see sock.TakeConn), unless no
// loop runs.
func takeFD(e *wsconn.Engine, nc net.Conn) (int, bool) {
	if e.Cfg.GoroutinePerConn || len(e.Loops) == 0 {
		return -1, false
	}
	return sock.TakeConn(nc)
}

// tuneNet applies Config's TCP options to a net.Conn that the engine accepted,
// was handed, or dialled, if TCP is under it. A failure is logged: the
// connection works without the options.
func tuneNet(e *wsconn.Engine, nc net.Conn) {
	if err := sock.TuneConn(nc, e.Cfg.TCP); err != nil {
		e.Cfg.Logger.Warn("weir: TCP options", "remote", nc.RemoteAddr(), "err", err)
	}
}

// acceptLoop accepts from a listener whose fd cannot be watched (goroutine mode).
func acceptLoop(e *wsconn.Engine, ln net.Listener) {
	for {
		nc, remote, ok := acceptAdmitted(e, ln)
		if !ok {
			return
		}
		tuneNet(e, nc)
		c := e.NewConn(-1, false)
		c.SetGoroutine(perconn.New(nc))
		c.SetRemote(remote)
		e.StartServerConn(c)
	}
}

// acceptAdmitted accepts from a listener the engine does not watch until a
// connection is admitted (admitAccepted: not stopping, under the caps; others
// are closed at once), or reports false once the listener is closed.
func acceptAdmitted(e *wsconn.Engine, ln net.Listener) (net.Conn, netip.AddrPort, bool) {
	return perconn.Accept(ln, func(remote netip.AddrPort) bool {
		return e.AdmitAccepted(remote.Addr()) // stopping, or at a cap (limits.go)
	})
}
