//go:build linux || darwin || freebsd

package sock

import (
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// TuneAccepted prepares a socket just accepted and kept: TCP_NODELAY (frames
// are written whole, Nagle would only delay them), then o, if the socket is
// TCP (a served Unix listener's are not). Only o's failure is reported: the
// connection works without the options.
func TuneAccepted(fd int, o TCPOptions) error {
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1) // fails on a Unix socket: nothing to do
	if o.IsZero() {
		return nil
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return nil // the connection fails on its own soon enough
	}
	switch sa.(type) {
	case *unix.SockaddrInet4, *unix.SockaddrInet6:
	default:
		return nil
	}
	return setTCPOpts(fd, o.KeepAlive, o.UserTimeout)
}

// setTCPConnOpts is setTCPOpts on the socket under tc.
func setTCPConnOpts(tc *net.TCPConn, ka net.KeepAliveConfig, userTimeout time.Duration) error {
	rc, err := tc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = setTCPOpts(int(fd), ka, userTimeout) }); err != nil {
		return err
	}
	return serr
}

// setTCPOpts sets the keepalive options (SO_KEEPALIVE, then the idle time, probe
// interval and probe count that are positive) and the user timeout (Linux) on a
// TCP socket. It stops at the first failure.
func setTCPOpts(fd int, ka net.KeepAliveConfig, userTimeout time.Duration) error {
	if ka.Enable {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1); err != nil {
			return os.NewSyscallError("setsockopt SO_KEEPALIVE", err)
		}
		opts := [...]struct {
			name string
			opt  int
			val  int
		}{
			{"TCP_KEEPIDLE", tcpKeepIdle, secondsIfSet(ka.Idle)},
			{"TCP_KEEPINTVL", unix.TCP_KEEPINTVL, secondsIfSet(ka.Interval)},
			{"TCP_KEEPCNT", unix.TCP_KEEPCNT, ka.Count},
		}
		for _, o := range opts {
			if o.val <= 0 {
				continue // zero or negative: the socket keeps its value
			}
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, o.opt, o.val); err != nil {
				return os.NewSyscallError("setsockopt "+o.name, err)
			}
		}
	}
	if userTimeout > 0 {
		return setUserTimeout(fd, userTimeout)
	}
	return nil
}

// secondsIfSet is a positive d in whole seconds, rounded up (the kernel's unit;
// the net package rounds the same way), or 0 (leave it) for zero or negative.
func secondsIfSet(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}
