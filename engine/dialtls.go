package engine

import (
	"context"
	"crypto/tls"
	"net"

	"github.com/weir-ws/weir/internal/tlshand"
)

// wss dialled on the loops (docs/tls-design.md, "Client"): the dialling
// goroutine runs crypto/tls's handshake through internal/tlshand and the
// WebSocket opening handshake through the tls.Conn; once the 101 is read the
// connection hands off: the raw socket moves onto a loop with the TLS 1.3
// record layer, as a ListenTLS connection does, and no goroutine is left.
// What the record layer cannot run (TLS 1.2, ChaCha20-Poly1305, a KeyUpdate
// answered before the hand-off, a socket whose fd cannot be taken: a proxy
// tunnel over TLS) stays in goroutine mode on the tls.Conn.

// tlsHandshake is the client's dial.Options.TLSHandshake. One Prepared per
// dial: cfg is already the dial's private clone, and a client needs no ticket
// keys of its own (its ClientSessionCache is shared through the clone).
func (cl *Client) tlsHandshake(ctx context.Context, nc net.Conn, cfg *tls.Config) (net.Conn, error) {
	cc, err := tlshand.Prepare(cfg, tlshand.Options{}).ClientConn(ctx, nc)
	if err != nil {
		return nil, err // not a typed nil
	}
	return cc, nil
}

// TLSMetrics returns the counters of the client's wss connections: Loop and
// Goroutine count the hand-offs of Dial (a failed TLS handshake is Dial's
// error, not counted).
func (cl *Client) TLSMetrics() TLSMetrics { return cl.e.Counters.TLS.Snapshot() }
