//go:build linux || freebsd

package sock

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// acceptBuf is where accept4 writes the peer's address: the Listener's own,
// used under its lock, so that an accept allocates nothing. unix.Accept4
// allocates a RawSockaddrAny and then a Sockaddr per connection (144 bytes of
// garbage in two objects), which at a connection storm is as much again as
// the live heap the connections keep: the GC goal doubles it and the RSS
// after the storm follows (bench/results/garbage-2026-12-07.md).
type acceptBuf struct {
	rsa unix.RawSockaddrAny
	n   uint32 // socklen_t
}

// acceptNB accepts one connection, non-blocking and close-on-exec in one call
// (accept4(2)), and returns the peer's address as an AddrPort (the zero one
// for a family other than IPv4 and IPv6).
func (l *Listener) acceptNB() (int, netip.AddrPort, error) {
	b := &l.abuf
	b.n = uint32(unsafe.Sizeof(b.rsa))
	nfd, _, errno := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(l.fd),
		uintptr(unsafe.Pointer(&b.rsa)), uintptr(unsafe.Pointer(&b.n)),
		unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if errno != 0 {
		return -1, netip.AddrPort{}, errno
	}
	return int(nfd), rawAddrPort(&b.rsa, b.n), nil
}

// rawAddrPort reads an IPv4 or IPv6 socket address the kernel wrote (n bytes
// of it), as addrPort does a unix.Sockaddr: IPv4-mapped IPv6 unmapped, the
// zero AddrPort for any other family or a short address. The port is in
// network byte order (big-endian) in memory.
func rawAddrPort(rsa *unix.RawSockaddrAny, n uint32) netip.AddrPort {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		if n < uint32(unsafe.Sizeof(unix.RawSockaddrInet4{})) {
			return netip.AddrPort{}
		}
		a := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&a.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(p[0])<<8|uint16(p[1]))
	case unix.AF_INET6:
		if n < uint32(unsafe.Sizeof(unix.RawSockaddrInet6{})) {
			return netip.AddrPort{}
		}
		a := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&a.Port))
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(p[0])<<8|uint16(p[1]))
	}
	return netip.AddrPort{}
}

func socketCloexec(family int) (int, error) {
	return unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
}
