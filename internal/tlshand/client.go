package tlshand

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"github.com/weir-ws/weir/internal/tlsrec"
)

// The client's hand-off is later than the server's: a WebSocket client
// speaks first (its HTTP request) and must read the 101 response before the
// connection is its engine's, so it runs that exchange through crypto/tls
// itself and hands off after it. crypto/tls then also handles what a server
// sends right after its Finished: the NewSessionTicket messages (RFC 8446
// §4.6.1) reach the Config's ClientSessionCache, so resumption works. To know
// where crypto/tls stands afterwards, the wrapper keeps the records it hands
// crypto/tls after the handshake and a shadow Reader opens the same ones: it
// ends in crypto/tls's receive state (sequence number, keys after a
// KeyUpdate, a post-handshake message cut across records). The send side is
// counted in what crypto/tls wrote, as on the server.

// ClientConn is a client connection after crypto/tls's handshake: use it as
// the *tls.Conn it embeds (the WebSocket opening handshake), then call
// HandOff once, with nothing else reading or writing it.
type ClientConn struct {
	*tls.Conn
	rc     *recConn
	suite  uint16
	shadow *tlsrec.Reader // the receive side as crypto/tls has it
	write  []byte         // our application traffic secret
	why    error          // set when the record layer cannot take over
}

// ClientConn runs the client handshake on conn (the raw socket). On error
// conn is not closed. The returned connection is usable as a tls.Conn
// whatever HandOff decides later.
func (p *Prepared) ClientConn(ctx context.Context, conn net.Conn) (*ClientConn, error) {
	rc := newRecConn(conn, false, p.log)
	tc := tls.Client(rc, p.cfg)
	err := tc.HandshakeContext(ctx)
	clientSecret, serverSecret := rc.release()
	if err != nil {
		return nil, err
	}
	c := &ClientConn{Conn: tc, rc: rc}
	st := tc.ConnectionState()
	c.suite = st.CipherSuite
	switch {
	case st.Version != tls.VersionTLS13:
		c.why = errNotTLS13
	case !tlsrec.Supported(st.CipherSuite):
		c.why = tlsrec.ErrUnsupportedSuite
	case clientSecret == nil:
		c.why = errNoSecrets
	case rc.over:
		c.why = errCapture
	}
	if c.why == nil {
		c.shadow, c.why = tlsrec.NewReader(tlsrec.Keys{Suite: c.suite, Secret: serverSecret},
			tlsrec.ReaderOptions{Client: true, OnSessionTicket: p.opts.OnSessionTicket})
		clear(serverSecret)
		c.write = clientSecret
	}
	if c.why != nil {
		c.fallback()
		return c, nil
	}
	rc.handed = make([]byte, 0, 1024) // from now on: what crypto/tls reads is kept
	return c, nil
}

// Raw returns the socket under the TLS connection.
func (c *ClientConn) Raw() net.Conn { return c.rc.Conn }

// fallback turns the wrapper into a pass-through for goroutine mode.
func (c *ClientConn) fallback() {
	c.rc.pass, c.rc.handed, c.rc.stop = true, nil, false
	c.rc.dropWritten()
	c.shadow = nil
	clear(c.write)
	c.write = nil
}

// Fallback keeps the connection on its tls.Conn after a HandOff that
// succeeded but whose result the caller cannot use (a socket it cannot take):
// crypto/tls's state is untouched by HandOff, so the tls.Conn goes on.
func (c *ClientConn) Fallback() { c.fallback() }

// errWouldBlock is what the wrapper returns to crypto/tls while HandOff
// drains it: a temporary net.Error, which crypto/tls does not keep as the
// connection's error (conn.go, readRecordOrCCS), so the tls.Conn stays usable.
type wouldBlock struct{}

func (wouldBlock) Error() string   { return "tlshand: hand-off in progress" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

var errWouldBlock net.Error = wouldBlock{}

// HandOff moves the connection to the record layer. It first takes the
// plaintext crypto/tls had decrypted and the caller not yet read
// (Result.Plain: the first bytes past what the caller read, before the
// records of Result.Leftover). ErrGoroutineMode (wrapping the reason: TLS
// 1.2, ChaCha20-Poly1305, a KeyUpdate crypto/tls answered, ...) leaves the
// tls.Conn working (Result.Conn), with Result.Plain still to be read first.
// Otherwise Result.Reader, Writer and Leftover continue exactly where
// crypto/tls stopped, and the tls.Conn must not be used again.
func (c *ClientConn) HandOff() (*Result, error) {
	res := &Result{Conn: c.Conn, State: c.ConnectionState()}
	if c.why != nil {
		return res, fmt.Errorf("%w: %w", ErrGoroutineMode, c.why)
	}
	// Drain crypto/tls's decrypted input: at a record boundary the wrapper
	// now answers "would block" instead of reading the socket.
	c.rc.stop = true
	var buf [4096]byte
	for {
		n, err := c.Conn.Read(buf[:])
		res.Plain = append(res.Plain, buf[:n]...)
		if err != nil {
			if !errors.Is(err, errWouldBlock) {
				c.why = err // EOF, an alert: the tls.Conn reports it in goroutine mode
			}
			break
		}
	}
	c.rc.stop = false
	if c.why == nil {
		c.why = c.handOff(res)
	}
	if c.why != nil {
		c.fallback()
		return res, fmt.Errorf("%w: %w", ErrGoroutineMode, c.why)
	}
	c.rc.handed = nil
	c.rc.dropWritten()
	return res, nil
}

var errKeyUpdated = errors.New("crypto/tls answered a KeyUpdate before the hand-off")

func (c *ClientConn) handOff(res *Result) error {
	rc := c.rc
	if rc.over || rc.handedOver {
		return errCapture
	}
	left, ok := rc.leftover()
	if !ok {
		return errors.New("hand-off inside a record")
	}
	// The shadow opens what crypto/tls opened; its plaintext is discarded
	// (crypto/tls delivered it).
	d, err := c.shadow.Decrypt(rc.handed)
	if err != nil {
		return err
	}
	if d.Rest != 0 {
		return errors.New("crypto/tls holds part of a record")
	}
	if d.UpdateRequested {
		// crypto/tls sent its own KeyUpdate and changed its send key: the
		// count below would not follow it. Rare enough for goroutine mode.
		return errKeyUpdated
	}
	w, err := tlsrec.NewWriterAfter(tlsrec.Keys{Suite: c.suite, Secret: c.write}, rc.written)
	if err != nil {
		return err
	}
	clear(c.write)
	c.write = nil
	res.Reader, res.Writer, res.Leftover = c.shadow, w, left
	c.shadow = nil
	return nil
}
