package engine

import (
	"crypto/tls"
	"net"

	"github.com/weir-ws/weir/upgrade"
)

// TLSConnectionState returns the TLS state of a connection that runs over TLS (a
// server connection from a tls.Listener or from net/http over HTTPS, a client
// dialled with wss): version, cipher suite, ALPN, and the peer's certificates, such
// as a client certificate asked for with tls.Config.ClientAuth. ok is false for a
// plain connection. Hooks that run during the handshake see the same through
// upgrade.Request.TLS.
func (c *Conn) TLSConnectionState() (state tls.ConnectionState, ok bool) {
	if c.tls != nil {
		return c.tls.ConnectionState(), true // wss on the loops
	}
	if c.goMode() {
		if t := tlsConnOf(c.goroutine().NetConn()); t != nil {
			return t.ConnectionState(), true
		}
	}
	return tls.ConnectionState{}, false
}

// tlsConnOf returns nc as an upgrade.TLSConn when it is one, else a nil
// interface (never a typed nil).
func tlsConnOf(nc net.Conn) upgrade.TLSConn {
	if t, ok := nc.(upgrade.TLSConn); ok {
		return t
	}
	return nil
}
