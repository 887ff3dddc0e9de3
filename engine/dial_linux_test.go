package engine

import (
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// With LocalAddr, the default dialer sets IP_BIND_ADDRESS_NO_PORT (the port is
// chosen at connect time); without it, the socket is left alone.
func TestClientLocalAddrBindNoPort(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		_, addr := startServer(t, NopHandler{}, cfg, nil)
		cl := cliClient(t, nil, cfg)
		tests := []struct {
			name  string
			local net.Addr
			want  int
		}{
			{"LocalAddr", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, 1},
			{"no LocalAddr", nil, 0},
		}
		for _, tt := range tests {
			c := cliDial(t, cl, "ws://"+addr+"/", &DialOptions{LocalAddr: tt.local})
			if got := bindNoPortOpt(t, c); got != tt.want {
				t.Errorf("%s: IP_BIND_ADDRESS_NO_PORT = %d, want %d", tt.name, got, tt.want)
			}
		}
	})
}

// bindNoPortOpt reads IP_BIND_ADDRESS_NO_PORT from c's socket, in either mode.
func bindNoPortOpt(t *testing.T, c *Conn) int {
	t.Helper()
	get := func(fd int) int {
		v, err := unix.GetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if c.c.Goroutine() == nil {
		return get(c.c.FD.Int())
	}
	rc, err := c.c.Goroutine().NetConn().(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	rc.Control(func(fd uintptr) { v = get(int(fd)) })
	return v
}
