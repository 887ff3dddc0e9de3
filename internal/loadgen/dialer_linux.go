package loadgen

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// bindNoPort sets IP_BIND_ADDRESS_NO_PORT on a socket about to be bound to a source
// address, so the kernel picks the ephemeral port at connect time by the whole
// 4-tuple (and may reuse a loopback TIME_WAIT port, tcp_tw_reuse=2) instead of at
// bind time, where every port still in TIME_WAIT on that source address is
// excluded and the search for a free one gets slower as a storm goes on.
func bindNoPort(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
