//go:build linux || darwin || freebsd

package engine

import (
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// listener is a non-blocking listening socket watched by a loop: accepts happen on
// the loop (accept4 with NONBLOCK|CLOEXEC until EAGAIN), never in a goroutine per
// connection.
type listener struct {
	fd     int32
	loop   *loop
	eng    *engine
	addr   net.Addr
	file   *os.File // when the fd was taken from a net.Listener
	closed atomic.Bool
	mu     sync.Mutex // held while accepting, so close cannot free the fd under accept4
	// starved: the last accept failed for want of fds (loop goroutine only).
	starved bool
}

// listenTCP opens a listening socket on addr ("host:port"), with SO_REUSEPORT when asked.
func listenTCP(addr string, backlog int, reusePort bool) (int, net.Addr, error) {
	ap, err := resolveTCP(addr)
	if err != nil {
		return -1, nil, err
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
		return -1, nil, os.NewSyscallError("socket", err)
	}
	fail := func(op string, err error) (int, net.Addr, error) {
		unix.Close(fd)
		return -1, nil, os.NewSyscallError(op, err)
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
	return fd, net.TCPAddrFromAddrPort(sockaddrToAddrPort(bound)), nil
}

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

func sockaddrToAddrPort(sa unix.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
	}
	return netip.AddrPort{}
}

// listenerFD takes the fd of a TCP or Unix net.Listener (a dup, set non-blocking).
func listenerFD(ln net.Listener) (int, *os.File, bool) {
	type filer interface{ File() (*os.File, error) }
	f, ok := ln.(filer)
	if !ok {
		return -1, nil, false
	}
	file, err := f.File()
	if err != nil {
		return -1, nil, false
	}
	fd := int(file.Fd())
	if err := unix.SetNonblock(fd, true); err != nil {
		file.Close()
		return -1, nil, false
	}
	return fd, file, true
}

// accept takes every pending connection (loop goroutine).
func (ln *listener) accept() {
	e := ln.eng
	ln.mu.Lock()
	defer ln.mu.Unlock()
	for !ln.closed.Load() {
		nfd, sa, err := acceptNB(int(ln.fd))
		if err != nil {
			if err == unix.EINTR || err == unix.ECONNABORTED {
				continue
			}
			if err == unix.EMFILE || err == unix.ENFILE {
				// Out of fds: the pending connections stay in the backlog. The
				// listener is edge-triggered, so nothing reports them again
				// until yet another connection arrives: the loop retries on
				// each tick until accept gets past them (loop.retryAccepts).
				// Logged once per shortage, not on every retry.
				if !ln.starved {
					ln.starved = true
					e.cfg.Logger.Warn("weir: accept: out of file descriptors; retrying every tick", "err", err)
				}
				ln.loop.retry = append(ln.loop.retry, ln)
				return
			}
			if err != unix.EAGAIN {
				e.cfg.Logger.Warn("weir: accept", "err", err)
			}
			ln.starved = false
			return
		}
		remote := sockaddrToAddrPort(sa)
		if !e.admitAccepted(remote.Addr()) { // stopping, or at a cap (limits.go)
			unix.Close(nfd)
			continue
		}
		unix.SetsockoptInt(nfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		e.tuneFD(nfd)
		c := e.newConn(int32(nfd), nil, false)
		c.remote = remote
		e.startServerConn(c)
	}
}

func (ln *listener) close() {
	if ln.closed.Swap(true) {
		return
	}
	ln.mu.Lock()
	defer ln.mu.Unlock()
	ln.loop.p.Remove(int(ln.fd))
	if ln.file != nil {
		ln.file.Close()
	} else {
		unix.Close(int(ln.fd))
	}
}

// localAddr asks the socket for its local address.
func localAddr(fd int) netip.AddrPort {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return netip.AddrPort{}
	}
	return sockaddrToAddrPort(sa)
}
