package sockopt

import "net"

// Dialer is a net.Dialer from local (nil: the kernel's pick) which, given a
// source address, has the kernel pick the port at connect time where the
// platform can (BindNoPort): the engine client's default dialer.
func Dialer(local net.Addr) *net.Dialer {
	d := &net.Dialer{LocalAddr: local}
	if local != nil {
		d.Control = BindNoPort // nil where the platform has no such option
	}
	return d
}
