package upgrade

import "crypto/tls"

// TLSConn is what a TLS connection offers the handshake hooks: its negotiated
// state. *tls.Conn implements it.
type TLSConn interface {
	ConnectionState() tls.ConnectionState
}

// tlsInfo is the TLS connection behind a Request and, once its handshake is
// complete, the state read from it.
type tlsInfo struct {
	conn  TLSConn
	state tls.ConnectionState
	done  bool
}

// SetTLS tells r that its handshake arrives over c (nil: not over TLS), so that
// the hooks see [Request.TLS]. The engine calls it for connections served from a
// tls.Listener. The state is read from c when first asked for, once the request
// has arrived (a *tls.Conn does its own handshake on the first read, so it may
// be set before that). It belongs to the connection, not to the bytes: parsing
// keeps it.
func (r *Request) SetTLS(c TLSConn) {
	if c == nil {
		r.tls = nil
		return
	}
	r.tls = &tlsInfo{conn: c}
}

// TLS returns the TLS state of the connection the request came on, like
// http.Request.TLS: version, cipher suite, server name, ALPN and the peer's
// certificates (with tls.Config.ClientAuth set to ask for them). Through the
// net/http adapter it is the *http.Request's. It is nil when the request did not
// come over TLS. Treat it as read-only; it is valid during the handshake.
func (r *Request) TLS() *tls.ConnectionState {
	if t := r.tls; t != nil {
		if !t.done {
			t.state = t.conn.ConnectionState()
			t.done = t.state.HandshakeComplete
		}
		return &t.state
	}
	if r.httpReq != nil {
		return r.httpReq.TLS
	}
	return nil
}
