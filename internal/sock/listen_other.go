//go:build !(linux || darwin || freebsd)

package sock

import (
	"net"
	"net/netip"
)

// Without raw sockets there is no Listener: Listen fails and FromListener
// declines, so callers serve a net.Listener with goroutines instead.

type acceptBuf struct{}

func Listen(string, int, bool) (*Listener, error) { return nil, ErrUnsupported }

func FromListener(net.Listener) (*Listener, bool) { return nil, false }

func (l *Listener) Accept(func(int, netip.AddrPort) bool) error { return nil }

func (l *Listener) Close(func(int)) {}

func OutOfFDs(error) bool { return false }

func TakeConn(net.Conn) (int, bool) { return -1, false }
