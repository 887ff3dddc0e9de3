//go:build linux || darwin || freebsd

package engine

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// takeFD duplicates the socket under nc, non-blocking and close-on-exec, for a loop.
// The caller closes nc afterwards. It fails for anything but a plain TCP or Unix
// socket, and when no loop runs (goroutine mode).
func takeFD(nc net.Conn, noLoops bool) (int, bool) {
	if noLoops {
		return -1, false
	}
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
