package tlshand

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"github.com/weir-ws/weir/internal/tlsrec"
)

// ErrGoroutineMode means the handshake succeeded but the connection cannot
// move to the record layer: Result.Conn is a usable tls.Conn and the caller
// keeps the connection in goroutine mode with it. The error wraps the reason
// (TLS 1.2, ChaCha20-Poly1305, no secrets logged, ...).
var ErrGoroutineMode = errors.New("tlshand: stay in goroutine mode")

// Options are the hand-off's options; the zero value is fine.
type Options struct {
	// OnSessionTicket receives NewSessionTicket messages on the client side
	// in loop mode (see tlsrec.ReaderOptions). crypto/tls's ClientSessionCache
	// cannot take them, so a client Config with a ClientSessionCache stays in
	// goroutine mode, where resumption works as usual.
	OnSessionTicket func(msg []byte)
	// Goroutine keeps every connection in goroutine mode (the engine's
	// Config.GoroutinePerConn): crypto/tls runs the handshake on the
	// connection itself, nothing is captured for a hand-off, and Server,
	// Client and Listener give the tls.Conn (Server and Client with
	// ErrGoroutineMode), so the slots, timeouts and counters stay the same.
	// Such a Prepared has no key log demultiplexer: ServerLate and
	// ClientConn, which capture for a hand-off, need one prepared without.
	Goroutine bool
}

// Prepared is a user's tls.Config made ready for hand-offs: one clone, made
// once, with a KeyLogWriter that demultiplexes secrets by client random and
// passes every line to the user's own KeyLogWriter. Every connection uses
// the same clone, so the session ticket keys it generates are shared by all
// of them and resumption works (a clone per connection would not: see
// docs/tls-design.md).
type Prepared struct {
	cfg  *tls.Config
	log  *keyLog
	opts Options
}

// Prepare clones cfg once and installs the demultiplexing key log writer;
// with opts.Goroutine, which hands nothing off, the clone keeps cfg's own.
func Prepare(cfg *tls.Config, opts Options) *Prepared {
	c := cfg.Clone()
	if opts.Goroutine {
		return &Prepared{cfg: c, opts: opts}
	}
	l := &keyLog{user: cfg.KeyLogWriter, m: make(map[[32]byte]*entry)}
	c.KeyLogWriter = l
	return &Prepared{cfg: c, log: l, opts: opts}
}

// Config returns the prepared clone (for tests and for goroutine-mode users).
func (p *Prepared) Config() *tls.Config { return p.cfg }

// Result is a finished handshake.
type Result struct {
	Conn  *tls.Conn           // always set; usable only in goroutine mode
	State tls.ConnectionState // kept for Conn.TLSConnectionState
	// In loop mode: the record layer, positioned exactly after what
	// crypto/tls read and wrote.
	Reader *tlsrec.Reader
	Writer *tlsrec.Writer
	// Leftover are bytes read past the handshake: records for Reader, to be
	// fed before anything read from the socket next.
	Leftover []byte
	// Plain (ClientConn.HandOff only) is plaintext crypto/tls had decrypted
	// and the caller not yet read: it comes before Leftover's records, in
	// loop mode and in goroutine mode alike.
	Plain []byte
}

// Server runs the server handshake on conn.
func (p *Prepared) Server(ctx context.Context, conn net.Conn) (*Result, error) {
	return p.run(ctx, conn, true)
}

// Client runs the client handshake on conn; cfg's ServerName etc. apply.
func (p *Prepared) Client(ctx context.Context, conn net.Conn) (*Result, error) {
	return p.run(ctx, conn, false)
}

func (p *Prepared) run(ctx context.Context, conn net.Conn, server bool) (*Result, error) {
	if p.opts.Goroutine {
		tc, err := p.plain(ctx, conn, server)
		if err != nil {
			return nil, err
		}
		return &Result{Conn: tc, State: tc.ConnectionState()}, ErrGoroutineMode
	}
	rc := newRecConn(conn, server, p.log)
	var tc *tls.Conn
	if server {
		tc = tls.Server(rc, p.cfg)
	} else {
		tc = tls.Client(rc, p.cfg)
	}
	err := tc.HandshakeContext(ctx)
	clientSecret, serverSecret := rc.release()
	if err != nil {
		rc.dropWritten()
		rc.dropReadAhead() // the caller closes the connection: nothing reads it again
		return nil, err
	}
	res := &Result{Conn: tc, State: tc.ConnectionState()}
	if err := p.handOff(rc, res, server, clientSecret, serverSecret); err != nil {
		rc.pass = true
		rc.dropWritten()
		res.Reader, res.Writer, res.Leftover = nil, nil, nil
		return res, fmt.Errorf("%w: %w", ErrGoroutineMode, err)
	}
	rc.dropWritten()
	if server {
		rc.dropReadAhead() // the leftover is copied; res.Conn is not used again
	}
	return res, nil
}

var (
	errNotTLS13    = errors.New("not TLS 1.3")
	errNoSecrets   = errors.New("no application traffic secrets logged for this connection")
	errClientCache = errors.New("client Config has a ClientSessionCache")
	errCapture     = errors.New("handshake flights too large to count records")
)

func (p *Prepared) handOff(rc *recConn, res *Result, server bool, clientSecret, serverSecret []byte) error {
	st := &res.State
	if st.Version != tls.VersionTLS13 {
		return errNotTLS13
	}
	if !tlsrec.Supported(st.CipherSuite) {
		return tlsrec.ErrUnsupportedSuite
	}
	if !server && p.cfg.ClientSessionCache != nil {
		return errClientCache
	}
	if clientSecret == nil {
		return errNoSecrets
	}
	if rc.over {
		return errCapture
	}
	readSecret, writeSecret := clientSecret, serverSecret
	if !server {
		readSecret, writeSecret = serverSecret, clientSecret
	}
	// crypto/tls may have sealed records under the application key already
	// (a server's NewSessionTicket): count them in what it wrote.
	// The Writer keeps the AEAD the count built for its first record.
	w, err := tlsrec.NewWriterAfter(tlsrec.Keys{Suite: st.CipherSuite, Secret: writeSecret}, rc.written)
	if err != nil {
		return err
	}
	left, ok := rc.leftover()
	if !ok {
		return errors.New("handshake ended inside a record")
	}
	// crypto/tls read nothing under the peer's application key: it was
	// handed one record at a time and stopped at the last handshake record.
	r, err := tlsrec.NewReader(tlsrec.Keys{Suite: st.CipherSuite, Secret: readSecret},
		tlsrec.ReaderOptions{Client: !server, OnSessionTicket: p.opts.OnSessionTicket})
	if err != nil {
		return err
	}
	clear(readSecret)
	clear(writeSecret)
	res.Reader, res.Writer, res.Leftover = r, w, left
	return nil
}

// plain runs crypto/tls's handshake on conn as it comes (Options.Goroutine).
func (p *Prepared) plain(ctx context.Context, conn net.Conn, server bool) (*tls.Conn, error) {
	tc := tls.Client(conn, p.cfg)
	if server {
		tc = tls.Server(conn, p.cfg)
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tc, nil
}
