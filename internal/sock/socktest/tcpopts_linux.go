package socktest

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TCPOpts is what the kernel reports for a socket's keepalive and user
// timeout (Linux's options).
type TCPOpts struct {
	KeepAlive, Idle, Intvl, Cnt, UserTimeout int
}

// ReadTCPOpts asks the kernel for fd's options.
func ReadTCPOpts(t testing.TB, fd int) TCPOpts {
	t.Helper()
	var o TCPOpts
	for _, q := range []struct {
		level, opt int
		dst        *int
	}{
		{unix.SOL_SOCKET, unix.SO_KEEPALIVE, &o.KeepAlive},
		{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, &o.Idle},
		{unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, &o.Intvl},
		{unix.IPPROTO_TCP, unix.TCP_KEEPCNT, &o.Cnt},
		{unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, &o.UserTimeout},
	} {
		v, err := unix.GetsockoptInt(fd, q.level, q.opt)
		if err != nil {
			t.Fatalf("getsockopt %d/%d: %v", q.level, q.opt, err)
		}
		*q.dst = v
	}
	return o
}
