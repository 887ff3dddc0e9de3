package sockopt

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// BindNoPort sets IP_BIND_ADDRESS_NO_PORT on a socket about to be bound to a
// source address (net.Dialer.LocalAddr), so the kernel picks the ephemeral port
// at connect time by the whole 4-tuple instead of at bind time. At bind time the
// port must be free for every destination, so one source address runs out after
// about 28,000 connections (ip_local_port_range) in all, and the search for a free
// port slows as ports pile up in TIME_WAIT; at connect time each destination has
// the whole range, and a loopback TIME_WAIT port may be reused (tcp_tw_reuse=2).
func BindNoPort(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
