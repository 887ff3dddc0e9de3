package engine

import (
	"context"
	"crypto/tls"
	"net"

	"github.com/weir-ws/weir/internal/tlshand"
	"github.com/weir-ws/weir/internal/tlsloop"
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

// loopTLS reports whether the client's wss dials can move onto the loops.
func (cl *Client) loopTLS() bool {
	return !cl.e.cfg.GoroutinePerConn && len(cl.e.loops) > 0
}

// TLSMetrics returns the counters of the client's wss connections: Loop and
// Goroutine count the hand-offs of Dial (a failed TLS handshake is Dial's
// error, not counted).
func (cl *Client) TLSMetrics() TLSMetrics { return cl.e.m.tls.Snapshot() }

// clientTLSConn makes the Conn of a wss connection dialled through
// tlshand: on a loop with the record layer when the hand-off works, else in
// goroutine mode on its tls.Conn. head (the bytes read past the 101) gets
// the plaintext crypto/tls had decrypted and not yet handed out, which
// follows it in the stream; the records read ahead after that are opened by
// the first read turn (tlsloop.Conn.Fresh).
func (e *engine) clientTLSConn(cc *tlshand.ClientConn, head []byte) (*Conn, []byte) {
	raw := cc.Raw()
	e.tuneNet(raw)
	res, err := cc.HandOff()
	head = append(head, res.Plain...)
	if err == nil {
		if fd, ok := e.takeFD(raw); ok {
			// res.Conn must not be used again (its keys are stale): only the
			// duplicate fd is.
			raw.Close()
			c := e.newConn(int32(fd), nil, true)
			c.remote = addrPort(raw.RemoteAddr())
			// The leftover is opened by the read turn that evOpen starts.
			c.tls = tlsloop.New(res.State, res.Reader, res.Writer, res.Leftover)
			e.m.tls.Loop.Add(1)
			return c, head
		}
		cc.Fallback() // crypto/tls's state is untouched: the tls.Conn goes on
	}
	e.m.tls.Goroutine.Add(1)
	c := e.newConn(-1, nil, true)
	c.goroutine = newGoroutineMode(cc)
	c.remote = addrPort(raw.RemoteAddr())
	return c, head
}
