package perconn

import (
	"net"
	"net/netip"
	"time"
)

// Accept accepts from ln until admit takes a connection (by its peer's
// address; the ones it refuses are closed at once), or reports false once ln
// is closed. A temporary error (a timeout) is retried.
func Accept(ln net.Listener, admit func(remote netip.AddrPort) bool) (net.Conn, netip.AddrPort, bool) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return nil, netip.AddrPort{}, false
		}
		remote := AddrPort(nc.RemoteAddr())
		if admit(remote) {
			return nc, remote, true
		}
		nc.Close()
	}
}

// AddrPort is a's IP and port, the zero AddrPort when a has none (a Unix
// socket, a pipe).
func AddrPort(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort()
	case interface{ AddrPort() netip.AddrPort }:
		return a.AddrPort()
	}
	return netip.AddrPort{}
}

// Tick calls fn with the time every res, on the caller's goroutine, until stop
// is closed: the clock of the timers of goroutine-mode connections.
func Tick(res time.Duration, stop <-chan struct{}, fn func(now time.Time)) {
	t := time.NewTicker(res)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			fn(now)
		case <-stop:
			return
		}
	}
}
