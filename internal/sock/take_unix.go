//go:build linux || darwin || freebsd

package sock

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// TakeConn duplicates the socket under nc, non-blocking and close-on-exec,
// for an event loop; the caller closes nc afterwards. It declines anything but
// a plain *net.TCPConn or *net.UnixConn (a TLS conn, a pipe, a wrapper: their
// bytes are not the socket's).
func TakeConn(nc net.Conn) (int, bool) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return -1, false
	}
	switch nc.(type) {
	case *net.TCPConn, *net.UnixConn:
	default:
		return -1, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, false
	}
	nfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) {
		nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil || derr != nil {
		return -1, false
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return -1, false
	}
	return nfd, true
}
