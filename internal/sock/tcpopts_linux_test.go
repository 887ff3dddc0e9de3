//go:build linux

package sock

import (
	"crypto/tls"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// tcpOpts is what the kernel reports for a socket's keepalive and user timeout.
type tcpOpts struct {
	keepAlive, idle, intvl, cnt, userTimeout int
}

// readTCPOpts asks the kernel for fd's options.
func readTCPOpts(t testing.TB, fd int) tcpOpts {
	t.Helper()
	var o tcpOpts
	for _, q := range []struct {
		level, opt int
		dst        *int
	}{
		{unix.SOL_SOCKET, unix.SO_KEEPALIVE, &o.keepAlive},
		{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, &o.idle},
		{unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, &o.intvl},
		{unix.IPPROTO_TCP, unix.TCP_KEEPCNT, &o.cnt},
		{unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, &o.userTimeout},
	} {
		v, err := unix.GetsockoptInt(fd, q.level, q.opt)
		if err != nil {
			t.Fatalf("getsockopt %d/%d: %v", q.level, q.opt, err)
		}
		*q.dst = v
	}
	return o
}

// withTCPFD runs f on the socket under a TCP net.Conn.
func withTCPFD(t testing.TB, nc net.Conn, f func(fd int)) {
	t.Helper()
	rc, err := TCPConnOf(nc).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Control(func(fd uintptr) { f(int(fd)) }); err != nil {
		t.Fatal(err)
	}
}

// TestSetTCPOpts checks each field against a socket whose options hold known
// markers first, so "left as it is" is told apart from "set".
func TestSetTCPOpts(t *testing.T) {
	t.Parallel()
	marker := tcpOpts{keepAlive: 0, idle: 111, intvl: 22, cnt: 3, userTimeout: 4444}
	tests := []struct {
		name string
		ka   net.KeepAliveConfig
		ut   time.Duration
		want tcpOpts
	}{
		{"nothing", net.KeepAliveConfig{}, 0, marker},
		{"disabled fields ignored", net.KeepAliveConfig{Idle: time.Minute, Interval: time.Minute, Count: 7}, 0, marker},
		{"user timeout only", net.KeepAliveConfig{}, 1500 * time.Millisecond, tcpOpts{0, 111, 22, 3, 1500}},
		{"user timeout rounds up", net.KeepAliveConfig{}, time.Nanosecond, tcpOpts{0, 111, 22, 3, 1}},
		{"negative user timeout", net.KeepAliveConfig{}, -time.Second, marker},
		{"enable, zero fields keep the socket's", net.KeepAliveConfig{Enable: true}, 0, tcpOpts{1, 111, 22, 3, 4444}},
		{"enable, negative fields keep the socket's", net.KeepAliveConfig{Enable: true, Idle: -1, Interval: -1, Count: -1}, 0, tcpOpts{1, 111, 22, 3, 4444}},
		{"all set", net.KeepAliveConfig{Enable: true, Idle: 7 * time.Second, Interval: 3 * time.Second, Count: 4}, 2 * time.Second, tcpOpts{1, 7, 3, 4, 2000}},
		{"seconds round up", net.KeepAliveConfig{Enable: true, Idle: 1500 * time.Millisecond, Interval: time.Nanosecond, Count: 5}, 0, tcpOpts{1, 2, 1, 5, 4444}},
		{"only idle", net.KeepAliveConfig{Enable: true, Idle: 9 * time.Second}, 0, tcpOpts{1, 9, 22, 3, 4444}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cc, _ := tcpPair(t)
			withTCPFD(t, cc, func(fd int) {
				for _, s := range []struct{ level, opt, v int }{
					{unix.SOL_SOCKET, unix.SO_KEEPALIVE, marker.keepAlive},
					{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, marker.idle},
					{unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, marker.intvl},
					{unix.IPPROTO_TCP, unix.TCP_KEEPCNT, marker.cnt},
					{unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, marker.userTimeout},
				} {
					if err := unix.SetsockoptInt(fd, s.level, s.opt, s.v); err != nil {
						t.Fatal(err)
					}
				}
			})
			if err := setTCPConnOpts(cc, tc.ka, tc.ut); err != nil {
				t.Fatal(err)
			}
			var got tcpOpts
			withTCPFD(t, cc, func(fd int) { got = readTCPOpts(t, fd) })
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestTCPConnOf(t *testing.T) {
	t.Parallel()
	cc, _ := tcpPair(t)
	p1, p2 := net.Pipe()
	t.Cleanup(func() { p1.Close(); p2.Close() })
	tests := []struct {
		name string
		nc   net.Conn
		want *net.TCPConn
	}{
		{"tcp", cc, cc},
		{"tls over tcp", tls.Client(cc, &tls.Config{}), cc},
		{"tls over tls over tcp", tls.Client(tls.Client(cc, &tls.Config{}), &tls.Config{}), cc},
		{"pipe", p1, nil},
		{"tls over pipe", tls.Client(p1, &tls.Config{}), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := TCPConnOf(tc.nc); got != tc.want {
				t.Fatalf("TCPConnOf = %v, want %v", got, tc.want)
			}
		})
	}
}
