package loadgen

import (
	"net"
	"time"

	"github.com/weir-ws/weir/internal/sockopt"
)

// dialTimeout bounds one TCP connect (a WebSocket dial also has its handshake
// timeout around it).
const dialTimeout = 20 * time.Second

// srcAddr is the source address of the connection with global index i: 127.0.0.2
// plus i modulo n, or nil (the kernel's pick) when n is 0.
func srcAddr(i, n int) net.IP {
	if n <= 0 {
		return nil
	}
	return net.IPv4(127, 0, 0, byte(2+i%n))
}

// newDialer dials raw TCP from source address ip (nil: the kernel's pick). With an
// address it also sets IP_BIND_ADDRESS_NO_PORT where the platform has it.
func newDialer(ip net.IP) *net.Dialer {
	d := &net.Dialer{Timeout: dialTimeout}
	if ip != nil {
		d.LocalAddr = &net.TCPAddr{IP: ip}
		d.Control = sockopt.BindNoPort
	}
	return d
}
