package loadgen

import (
	"net"
	"time"

	"github.com/weir-ws/weir/internal/sockopt"
)

// srcAddr is the source address of the connection with global index i: 127.0.0.2
// plus i modulo n, or nil (the kernel's pick) when n is 0.
func srcAddr(i, n int) net.IP {
	if n <= 0 {
		return nil
	}
	return net.IPv4(127, 0, 0, byte(2+i%n))
}

// newDialer dials raw TCP from source address ip (nil: the kernel's pick), each
// connect bounded by timeout. With an address it also sets
// IP_BIND_ADDRESS_NO_PORT where the platform has it.
func newDialer(ip net.IP, timeout time.Duration) *net.Dialer {
	d := &net.Dialer{Timeout: timeout}
	if ip != nil {
		d.LocalAddr = &net.TCPAddr{IP: ip}
		d.Control = sockopt.BindNoPort
	}
	return d
}
