package sock

import (
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// acceptBuf: macOS accepts through unix.Accept, which allocates the address
// (accept_unix4.go keeps it in the Listener instead).
type acceptBuf struct{}

// acceptNB accepts one connection; macOS has no accept4, so the flags follow.
func (l *Listener) acceptNB() (int, netip.AddrPort, error) {
	syscall.ForkLock.RLock()
	nfd, sa, err := unix.Accept(l.fd)
	if err == nil {
		unix.CloseOnExec(nfd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return -1, netip.AddrPort{}, err
	}
	return nfd, addrPort(sa), nil
}

func socketCloexec(family int) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := unix.Socket(family, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	return fd, err
}
