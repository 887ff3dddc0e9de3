package tlshand

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync/atomic"

	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/internal/tlsrec"
)

// A late hand-off is the server's for a connection that net/http serves
// first: the engine's TLS listener for an http.Server (ServerLate) runs
// crypto/tls's handshake here and gives the http.Server a *tls.Conn, which
// serves HTTPS requests as usual; if a handler upgrades one to a WebSocket
// and hijacks it, HandOff moves it to the record layer after the 101.
//
// Until then crypto/tls reads and writes application data, so the receive
// and send states are followed as they go, in O(1) memory per connection
// (an HTTPS keep-alive connection that never upgrades must cost next to
// nothing): the LateConn under the tls.Conn hands crypto/tls at most one
// record per Read, copies each record it hands into a pooled buffer held
// only until the record is whole, and opens it with a shadow Reader, which
// so ends in crypto/tls's receive state (sequence number, keys after a
// KeyUpdate); the send side counts the records crypto/tls writes from
// their headers (after the handshake every record is sealed under the
// server's application key, until crypto/tls answers a KeyUpdate, which the
// shadow sees first and which ends the bookkeeping: goroutine mode).

// FollowMax bounds the inbound records a LateConn follows: past it the
// connection is crypto/tls's alone (an upgrade then runs in goroutine mode),
// so a connection that is never upgraded, or hijacked by another handler
// (a proxy, another WebSocket library), pays the shadow's decryption for at
// most this many bytes. WebSocket upgrades come on fresh connections, or
// after a few requests.
const FollowMax = 1 << 20

var errFollowedEnough = errors.New("more than FollowMax bytes received before the upgrade")

// errH2 is why an HTTP/2 connection is not followed: net/http's HTTP/2
// server never hands out its connection.
var errH2 = errors.New("ALPN negotiated h2")

// LateConn is the net.Conn under a *tls.Conn made by ServerLate: find it with
// tls.Conn.NetConn. Its Read and Write are crypto/tls's; HandOff, Raw and
// Fallback are the hijacking handler's, once nothing else uses the tls.Conn.
type LateConn struct {
	net.Conn // the raw socket: deadlines and addresses
	rc       *recConn
	hs       bool // the handshake runs: Read and Write are rc's
	suite    uint16

	// Receive side, owned by crypto/tls's reading goroutine.
	rdone  bool  // not followed any more: a pass-through
	rwhy   error // why, when rdone
	hdr    [tlsrec.HeaderLen]byte
	nh     int    // header bytes of the current record handed
	left   int    // body bytes of the current record not yet handed
	rec    []byte // the current record as handed (pooled), nil between records
	shadow *tlsrec.Reader
	stop   bool // HandOff drains: at a record boundary Read would block
	seen   int  // bytes of records opened so far (FollowMax)

	// Send side, owned by crypto/tls's writing goroutine.
	wdone   bool
	whdr    [tlsrec.HeaderLen]byte
	wnh     int
	wleft   int
	wseq    uint64 // records sealed under the application key so far
	wsecret []byte

	released  atomic.Bool
	onRelease func()
}

// ServerLate runs the server handshake on conn (the raw socket) for a
// connection net/http will serve, and returns the tls.Conn, its handshake
// done, over a *LateConn. Live reports whether a hand-off is still possible
// (TLS 1.3 with a supported suite, secrets logged, not h2); only then is
// onRelease (if not nil) called, once, when the connection is handed off,
// falls back or is closed. On error conn is not closed.
func (p *Prepared) ServerLate(ctx context.Context, conn net.Conn, onRelease func()) (*tls.Conn, *LateConn, error) {
	rc := newRecConn(conn, true, p.log)
	lc := &LateConn{Conn: conn, rc: rc, hs: true}
	tc := tls.Server(lc, p.cfg)
	err := tc.HandshakeContext(ctx)
	clientSecret, serverSecret := rc.release()
	if err != nil {
		rc.dropWritten()
		rc.dropReadAhead()
		return nil, nil, err
	}
	st := tc.ConnectionState()
	var why error
	switch {
	case st.Version != tls.VersionTLS13:
		why = errNotTLS13
	case !tlsrec.Supported(st.CipherSuite):
		why = tlsrec.ErrUnsupportedSuite
	case st.NegotiatedProtocol == "h2":
		why = errH2
	case clientSecret == nil:
		why = errNoSecrets
	case rc.over:
		why = errCapture
	}
	if why == nil {
		// The records crypto/tls sealed under the application key during the
		// handshake (its NewSessionTicket) come first in the send count; it
		// read nothing under the client's.
		keys := tlsrec.Keys{Suite: st.CipherSuite, Secret: serverSecret}
		lc.wseq, why = tlsrec.CountOpened(keys, rc.written)
		if why == nil {
			lc.shadow, why = tlsrec.NewReader(tlsrec.Keys{Suite: st.CipherSuite, Secret: clientSecret}, tlsrec.ReaderOptions{})
		}
	}
	clear(clientSecret)
	rc.dropWritten()
	rc.pass = true // before anyone else has the tls.Conn: rc is a pass-through from now on
	lc.hs, lc.suite = false, st.CipherSuite
	if why != nil {
		clear(serverSecret)
		lc.shadow = nil
		lc.rdone, lc.rwhy, lc.wdone = true, why, true
		lc.released.Store(true)
	} else {
		lc.wsecret, lc.onRelease = serverSecret, onRelease
	}
	lc.dropDrained()
	return tc, lc, nil
}

// Live reports whether the connection can still be handed off.
func (c *LateConn) Live() bool { return !c.released.Load() }

// Raw returns the socket under the TLS connection.
func (c *LateConn) Raw() net.Conn { return c.Conn }

// release ends the bookkeeping's claim, once.
func (c *LateConn) release() {
	if c.released.CompareAndSwap(false, true) && c.onRelease != nil {
		c.onRelease()
	}
}

// Close closes the socket. It may run concurrently with Read and Write (an
// http.Server closing its connections), so it frees nothing they use: the
// keys go with the LateConn.
func (c *LateConn) Close() error {
	c.release()
	return c.Conn.Close()
}

// dropDrained gives back the handshake's read-ahead once crypto/tls has had
// all of it (read side only).
func (c *LateConn) dropDrained() {
	if rc := c.rc; rc.buf != nil && rc.r == rc.w {
		bufpool.Put(rc.buf)
		rc.buf, rc.r, rc.w = nil, 0, 0
	}
}

// giveUpRead stops following the receive side: goroutine mode only.
func (c *LateConn) giveUpRead(err error) {
	c.rdone, c.rwhy = true, err
	if c.rec != nil {
		bufpool.Put(c.rec)
		c.rec = nil
	}
	c.shadow = nil
	c.release()
}

func (c *LateConn) Read(p []byte) (int, error) {
	if c.hs {
		return c.rc.Read(p)
	}
	if c.rdone {
		n, err := c.rc.Read(p)
		c.dropDrained()
		return n, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if c.stop && c.nh == 0 {
		return 0, errWouldBlock
	}
	if c.nh < len(c.hdr) {
		n, err := c.rc.Read(p[:min(len(p), len(c.hdr)-c.nh)])
		c.nh += copy(c.hdr[c.nh:], p[:n])
		if c.nh == len(c.hdr) {
			c.header()
		}
		c.dropDrained()
		return n, err
	}
	n, err := c.rc.Read(p[:min(len(p), c.left)])
	c.rec = append(c.rec, p[:n]...)
	c.left -= n
	if c.left == 0 {
		c.opened()
	}
	c.dropDrained()
	return n, err
}

// header checks a whole record header (RFC 8446 §5.1: after the handshake
// only protected application_data, at most 2^14+256 bytes) before taking a
// buffer for the record; anything else is crypto/tls's to reject, with the
// bookkeeping given up.
func (c *LateConn) header() {
	h := c.hdr
	n := int(h[3])<<8 | int(h[4])
	if h[0] != 23 || h[1] != 3 || h[2] != 3 || n > tlsrec.MaxCiphertext {
		c.giveUpRead(errors.New("unexpected record header after the handshake"))
		return
	}
	c.rec = append(bufpool.Get(len(h) + n)[:0], h[:]...)
	c.left = n
	if n == 0 {
		c.opened()
	}
}

var errKeyUpdateAnswered = errors.New("the client asked for a KeyUpdate: crypto/tls answered it")

// opened runs the shadow over the whole record crypto/tls now has.
func (c *LateConn) opened() {
	rec, err := c.shadow.Open(c.rec)
	c.seen += len(c.rec)
	bufpool.Put(c.rec)
	c.rec, c.nh = nil, 0
	switch {
	case err != nil:
		c.giveUpRead(err)
	case rec.UpdateRequested:
		c.giveUpRead(errKeyUpdateAnswered)
	case c.seen > FollowMax:
		c.giveUpRead(errFollowedEnough)
	default:
		c.shadow.Relax() // an idle keep-alive connection keeps no AEAD (tlsrec/idle.go)
	}
}

func (c *LateConn) Write(p []byte) (int, error) {
	if c.hs || c.wdone {
		return c.rc.Write(p)
	}
	n, err := c.rc.Write(p)
	c.count(p[:n])
	if err != nil || n < len(p) {
		c.wdone = true // crypto/tls's send side is broken now anyway
		c.release()
	}
	return n, err
}

// count follows the record headers of what crypto/tls wrote.
func (c *LateConn) count(b []byte) {
	for len(b) > 0 && !c.wdone {
		if c.wleft > 0 {
			k := min(len(b), c.wleft)
			c.wleft -= k
			b = b[k:]
			continue
		}
		k := copy(c.whdr[c.wnh:], b)
		c.wnh += k
		b = b[k:]
		if c.wnh == len(c.whdr) {
			c.wnh = 0
			c.wleft = int(c.whdr[3])<<8 | int(c.whdr[4])
			c.wseq++
			if c.whdr[0] != 23 {
				c.wdone = true
				c.release()
			}
		}
	}
}

// Fallback keeps the connection on its tls.Conn (goroutine mode): the
// bookkeeping stops, crypto/tls's state was never touched.
func (c *LateConn) Fallback() {
	if c.rwhy == nil {
		c.rwhy = errors.New("fallback")
	}
	c.giveUpRead(c.rwhy)
	c.wdone = true
	clear(c.wsecret)
	c.wsecret = nil
}

// HandOff moves the connection, hijacked from net/http (tc is the tls.Conn
// over c; nothing else reads or writes it now), to the record layer. It
// first takes the plaintext crypto/tls had decrypted and nobody read
// (Result.Plain: it follows what net/http buffered). ErrGoroutineMode
// (wrapping the reason) leaves tc working, with Plain still to be read
// first; otherwise Result.Reader, Writer and Leftover continue exactly where
// crypto/tls stopped, and tc must not be used again. A record crypto/tls had
// begun to read is read whole first: set a read deadline on Raw.
func (c *LateConn) HandOff(tc *tls.Conn) (*Result, error) {
	res := &Result{Conn: tc, State: tc.ConnectionState()}
	if tc.NetConn() != net.Conn(c) {
		return res, fmt.Errorf("%w: not this connection's tls.Conn", ErrGoroutineMode)
	}
	if c.released.Load() && c.rwhy == nil { // closed
		c.giveUpRead(net.ErrClosed)
	}
	if !c.rdone {
		c.stop = true
		var buf [4096]byte
		for {
			n, err := tc.Read(buf[:])
			res.Plain = append(res.Plain, buf[:n]...)
			if err != nil {
				if !errors.Is(err, errWouldBlock) && !c.rdone {
					c.giveUpRead(err) // EOF, an alert, a deadline: the tls.Conn reports it
				}
				break
			}
		}
		c.stop = false
	}
	why := c.rwhy
	switch {
	case why != nil:
	case c.wdone:
		why = errors.New("send side not followed")
	case c.nh != 0 || c.left != 0 || c.wnh != 0 || c.wleft != 0:
		why = errors.New("hand-off inside a record")
	}
	var w *tlsrec.Writer
	if why == nil {
		w, why = tlsrec.NewWriter(tlsrec.Keys{Suite: c.suite, Secret: c.wsecret, Seq: c.wseq})
	}
	if why != nil {
		c.Fallback()
		return res, fmt.Errorf("%w: %w", ErrGoroutineMode, why)
	}
	if rc := c.rc; rc.buf != nil {
		res.Leftover = bytes.Clone(rc.buf[rc.r:rc.w])
	}
	res.Reader, res.Writer = c.shadow, w
	c.shadow = nil
	c.rdone, c.wdone = true, true
	c.rwhy = errors.New("handed off")
	clear(c.wsecret)
	c.wsecret = nil
	c.release()
	return res, nil
}
