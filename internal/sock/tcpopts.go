package sock

import (
	"net"
	"time"
)

// TCPOptions are kernel TCP options to set on a socket. They apply to TCP
// only: a Unix socket, or a net.Conn that is not TCP underneath, is left as it
// is. The zero TCPOptions sets nothing.
type TCPOptions struct {
	// KeepAlive: with Enable, SO_KEEPALIVE on, and each of Idle, Interval and
	// Count that is positive set (durations in whole seconds, rounded up, as
	// the net package rounds). Zero or negative fields leave the socket's
	// current value (the kernel's, or what the net package set on a socket it
	// accepted or dialled). Without Enable nothing of it is touched.
	KeepAlive net.KeepAliveConfig
	// UserTimeout, when positive, is TCP_USER_TIMEOUT (Linux only; ignored
	// elsewhere): how long sent data may stay unacknowledged before the kernel
	// ends the connection, in milliseconds rounded up.
	UserTimeout time.Duration
}

// IsZero reports whether o sets nothing, so that callers pay nothing by
// default.
func (o TCPOptions) IsZero() bool { return !o.KeepAlive.Enable && o.UserTimeout <= 0 }

// TuneConn sets o on the TCP socket under nc: a *net.TCPConn, or one under a
// *tls.Conn (or any wrapper with a NetConn method). Other conns are left
// alone (nil). On an error the connection works on without the options.
func TuneConn(nc net.Conn, o TCPOptions) error {
	if o.IsZero() {
		return nil
	}
	tc := TCPConnOf(nc)
	if tc == nil {
		return nil
	}
	return setTCPConnOpts(tc, o.KeepAlive, o.UserTimeout)
}

// TCPConnOf finds the *net.TCPConn under nc, unwrapping *tls.Conn and other
// wrappers that expose NetConn (a few levels at most), or returns nil.
func TCPConnOf(nc net.Conn) *net.TCPConn {
	for range 4 {
		switch c := nc.(type) {
		case *net.TCPConn:
			return c
		case interface{ NetConn() net.Conn }:
			nc = c.NetConn()
		default:
			return nil
		}
	}
	return nil
}
