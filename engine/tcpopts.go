package engine

import "net"

// Kernel TCP options on the engine's sockets (Config.TCPKeepAlive,
// Config.TCPUserTimeout). They apply to TCP only: a Unix socket, or any net.Conn
// that is not TCP underneath, is left as it is. A zero or negative keepalive
// field leaves that option at the socket's current value (the kernel's, or what
// the net package set on a socket it accepted or dialled), as the Config comment
// promises; Enable false leaves keepalive alone entirely.

// tcpTuning reports whether Config asks for any TCP option, so that the accept
// and dial paths cost nothing more by default.
func (e *engine) tcpTuning() bool {
	return e.cfg.TCPKeepAlive.Enable || e.cfg.TCPUserTimeout > 0
}

// tuneNet applies Config's TCP options (TCPKeepAlive, TCPUserTimeout) to a TCP
// net.Conn that the engine accepted, was handed, or dialled: a *net.TCPConn, or
// one under a *tls.Conn (or any wrapper with a NetConn method). Other conns are
// left alone. A failure is logged: the connection works without the options.
func (e *engine) tuneNet(nc net.Conn) {
	if !e.tcpTuning() {
		return
	}
	tc := tcpConnOf(nc)
	if tc == nil {
		return
	}
	if err := setTCPConnOpts(tc, e.cfg.TCPKeepAlive, e.cfg.TCPUserTimeout); err != nil {
		e.cfg.Logger.Warn("weir: TCP options", "remote", nc.RemoteAddr(), "err", err)
	}
}

// tcpConnOf finds the *net.TCPConn under nc, unwrapping *tls.Conn and other
// wrappers that expose NetConn (a few levels at most), or returns nil.
func tcpConnOf(nc net.Conn) *net.TCPConn {
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
