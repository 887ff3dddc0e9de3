package main

import (
	"context"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// newDialer dials from source address ip with IP_BIND_ADDRESS_NO_PORT, so the
// kernel picks the ephemeral port at connect time by the whole 4-tuple (and may reuse
// a loopback TIME_WAIT port, tcp_tw_reuse=2) instead of at bind time, where every
// port still in TIME_WAIT on that source address is excluded and the search for a
// free one gets slower as a storm goes on.
func newDialer(ip net.IP) *net.Dialer {
	d := &net.Dialer{Timeout: 20 * time.Second}
	if ip == nil {
		return d
	}
	d.LocalAddr = &net.TCPAddr{IP: ip}
	d.Control = func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
		})
		if err != nil {
			return err
		}
		return serr
	}
	return d
}

// dialFunc adapts newDialer to engine.DialOptions.NetDialContext.
func dialFunc(ip net.IP) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := newDialer(ip)
	return d.DialContext
}
