//go:build linux

package sock

import (
	"crypto/tls"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/weir-ws/weir/internal/sock/socktest"
)

type tcpOpts = socktest.TCPOpts

func opts(keepAlive, idle, intvl, cnt, userTimeout int) tcpOpts {
	return tcpOpts{KeepAlive: keepAlive, Idle: idle, Intvl: intvl, Cnt: cnt, UserTimeout: userTimeout}
}

// TestSetTCPOpts checks each field against a socket whose options hold known
// markers first, so "left as it is" is told apart from "set".
func TestSetTCPOpts(t *testing.T) {
	t.Parallel()
	marker := opts(0, 111, 22, 3, 4444)
	tests := []struct {
		name string
		ka   net.KeepAliveConfig
		ut   time.Duration
		want tcpOpts
	}{
		{"nothing", net.KeepAliveConfig{}, 0, marker},
		{"disabled fields ignored", net.KeepAliveConfig{Idle: time.Minute, Interval: time.Minute, Count: 7}, 0, marker},
		{"user timeout only", net.KeepAliveConfig{}, 1500 * time.Millisecond, opts(0, 111, 22, 3, 1500)},
		{"user timeout rounds up", net.KeepAliveConfig{}, time.Nanosecond, opts(0, 111, 22, 3, 1)},
		{"negative user timeout", net.KeepAliveConfig{}, -time.Second, marker},
		{"enable, zero fields keep the socket's", net.KeepAliveConfig{Enable: true}, 0, opts(1, 111, 22, 3, 4444)},
		{"enable, negative fields keep the socket's", net.KeepAliveConfig{Enable: true, Idle: -1, Interval: -1, Count: -1}, 0, opts(1, 111, 22, 3, 4444)},
		{"all set", net.KeepAliveConfig{Enable: true, Idle: 7 * time.Second, Interval: 3 * time.Second, Count: 4}, 2 * time.Second, opts(1, 7, 3, 4, 2000)},
		{"seconds round up", net.KeepAliveConfig{Enable: true, Idle: 1500 * time.Millisecond, Interval: time.Nanosecond, Count: 5}, 0, opts(1, 2, 1, 5, 4444)},
		{"only idle", net.KeepAliveConfig{Enable: true, Idle: 9 * time.Second}, 0, opts(1, 9, 22, 3, 4444)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cc, _ := socktest.TCPPair(t)
			socktest.WithFD(t, cc, func(fd int) {
				for _, s := range []struct{ level, opt, v int }{
					{unix.SOL_SOCKET, unix.SO_KEEPALIVE, marker.KeepAlive},
					{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, marker.Idle},
					{unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, marker.Intvl},
					{unix.IPPROTO_TCP, unix.TCP_KEEPCNT, marker.Cnt},
					{unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, marker.UserTimeout},
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
			socktest.WithFD(t, cc, func(fd int) { got = socktest.ReadTCPOpts(t, fd) })
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestTCPConnOf(t *testing.T) {
	t.Parallel()
	cc, _ := socktest.TCPPair(t)
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
