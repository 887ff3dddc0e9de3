//go:build linux || darwin || freebsd

package sock

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Listen opens a non-blocking listening socket on addr ("host:port", an empty
// host meaning every IPv4 address), with SO_REUSEADDR, and SO_REUSEPORT when
// reusePort is set (several listeners on one port, one per loop).
func Listen(addr string, backlog int, reusePort bool) (*Listener, error) {
	ap, err := resolveTCP(addr)
	if err != nil {
		return nil, err
	}
	family := unix.AF_INET
	var sa unix.Sockaddr
	if ap.Addr().Is4() {
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	} else {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	}
	fd, err := socketCloexec(family)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	fail := func(op string, err error) (*Listener, error) {
		unix.Close(fd)
		return nil, os.NewSyscallError(op, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fail("setsockopt", err)
	}
	if reusePort {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return fail("setsockopt", err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	if err := unix.Listen(fd, backlog); err != nil {
		return fail("listen", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return fail("setnonblock", err)
	}
	bound, err := unix.Getsockname(fd)
	if err != nil {
		return fail("getsockname", err)
	}
	return &Listener{fd: fd, addr: net.TCPAddrFromAddrPort(addrPort(bound))}, nil
}

// resolveTCP turns "host:port" into one address: a literal IP, or the first
// the resolver gives; a service name for the port is looked up.
func resolveTCP(addr string) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.AddrPort{}, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		pn, err2 := net.LookupPort("tcp", port)
		if err2 != nil {
			return netip.AddrPort{}, err2
		}
		p = uint64(pn)
	}
	if host == "" {
		return netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(p)), nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		ta, err := net.ResolveTCPAddr("tcp", net.JoinHostPort(host, port))
		if err != nil {
			return netip.AddrPort{}, err
		}
		return ta.AddrPort(), nil
	}
	return netip.AddrPortFrom(ip, uint16(p)), nil
}

// addrPort is an IP socket address as an AddrPort (IPv4-mapped IPv6 unmapped),
// or the zero AddrPort for any other kind (a Unix socket's).
func addrPort(sa unix.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
	}
	return netip.AddrPort{}
}

// FromListener takes the fd of a TCP or Unix net.Listener (a dup, set
// non-blocking); ln stays the caller's to close, after the Listener.
func FromListener(ln net.Listener) (*Listener, bool) {
	type filer interface{ File() (*os.File, error) }
	f, ok := ln.(filer)
	if !ok {
		return nil, false
	}
	file, err := f.File()
	if err != nil {
		return nil, false
	}
	fd := int(file.Fd())
	if err := unix.SetNonblock(fd, true); err != nil {
		file.Close()
		return nil, false
	}
	return &Listener{fd: fd, addr: ln.Addr(), file: file}, true
}

// Accept takes every pending connection, handing each to keep, until the
// backlog is empty (nil) or the Listener is closed (nil). keep owns the fd
// it is given when it returns true; false closes it. Accept runs under the
// Listener's lock (so Close waits for it) and must not be called from keep.
//
// An error other than nil is one the caller should hear of: OutOfFDs(err)
// when the process or system ran out of fds, in which case the connection
// stays in the backlog and, with an edge-triggered poller, nothing reports
// it again until another arrives: the caller retries.
func (l *Listener) Accept(keep func(fd int, remote netip.AddrPort) bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for !l.closed.Load() {
		nfd, remote, err := l.acceptNB()
		if err != nil {
			if err == unix.EINTR || err == unix.ECONNABORTED {
				continue // interrupted, or gone before we took it
			}
			if err == unix.EAGAIN {
				return nil
			}
			return os.NewSyscallError("accept", err)
		}
		if !keep(nfd, remote) {
			unix.Close(nfd)
		}
	}
	return nil
}

// OutOfFDs reports whether err is Accept's "no fd left" (EMFILE, ENFILE).
func OutOfFDs(err error) bool {
	return errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE)
}

// Close closes the listening socket once: unwatch (nil for none) runs first
// with its fd, under the accept lock, so that the fd is out of the poller
// before its number can be reused.
func (l *Listener) Close(unwatch func(fd int)) {
	if l.closed.Swap(true) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if unwatch != nil {
		unwatch(l.fd)
	}
	if l.file != nil {
		l.file.Close()
	} else {
		unix.Close(l.fd)
	}
}
