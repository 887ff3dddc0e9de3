package engine

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/dial"
	"github.com/weir-ws/weir/internal/handoff"
	"github.com/weir-ws/weir/internal/sockopt"
	"github.com/weir-ws/weir/internal/wsconn"
	"github.com/weir-ws/weir/proxy"
	"github.com/weir-ws/weir/upgrade"
)

var (
	// ErrProxy is proxy.ErrRefused: a proxy refused the tunnel.
	ErrProxy = proxy.ErrRefused
	// ErrProxyScheme is proxy.ErrScheme: a proxy URL of an unsupported scheme.
	ErrProxyScheme = proxy.ErrScheme
)

// DialOptions configure one Dial. A nil *DialOptions, and every zero field, means
// the documented default. The fields from Subprotocols to Compression are
// those of dial.Options, documented there; the rest are the engine's.
type DialOptions struct {
	// Handler receives the connection's events. Nil: the connection is read with
	// ReadMessage (messages are queued for it, and reading pauses while the queue is
	// full).
	Handler          Handler
	Subprotocols     []string
	Origin           string
	Header           http.Header
	Version          int
	TLSConfig        *tls.Config
	HandshakeTimeout time.Duration
	// NetDialContext dials TCP (or the proxy). Default: a net.Dialer with LocalAddr.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// LocalAddr is the local address to dial from (for example 127.0.0.2 to pass the
	// ephemeral-port limit of one source address). On Linux the default dialer sets
	// IP_BIND_ADDRESS_NO_PORT with it, so the port is picked per destination at
	// connect time rather than at bind time.
	LocalAddr    net.Addr
	Proxy        func(*http.Request) (*url.URL, error)
	NoProxy      bool
	MaxRedirects int
	OnRequest    func(r *upgrade.ClientRequest) error
	Compression  *deflate.Options
	// ReadQueue caps the messages queued for ReadMessage before reading pauses.
	// Default 64. Reading also pauses once the queued messages hold 1 MiB.
	ReadQueue int
	// MaskKey, for tests only, replaces the masking-key generator.
	MaskKey func() [4]byte
}

// dialOptions are o's options for package dial.
func (o *DialOptions) dialOptions() *dial.Options {
	d := &dial.Options{
		Subprotocols: o.Subprotocols, Origin: o.Origin, Header: o.Header, Version: o.Version,
		TLSConfig: o.TLSConfig, HandshakeTimeout: o.HandshakeTimeout, NetDialContext: o.NetDialContext,
		Proxy: o.Proxy, NoProxy: o.NoProxy, MaxRedirects: o.MaxRedirects, OnRequest: o.OnRequest,
		Compression: o.Compression,
	}
	if d.NetDialContext == nil {
		d.NetDialContext = sockopt.Dialer(o.LocalAddr).DialContext // the port at connect time: see sockopt
	}
	return d
}

// Client dials connections that run on its engine's loops, with the same Conn API
// and callbacks as server connections, and no goroutine per connection.
type Client struct {
	reports // NumConns, Stats, Metrics, BufferedAmount, BufferedInbound (stats.go)
	// closing is canceled by Close: it ends the dials in flight too
	closing     context.Context
	cancelDials context.CancelFunc
}

// NewClient returns a client whose connections use cfg (nil: defaults) and h as
// the default handler (nil: blocking reads with ReadMessage).
func NewClient(h Handler, cfg *Config) (*Client, error) {
	d := cfg.filled()
	e, err := wsconn.NewEngine(coreHandler(h), d.machine(), false)
	if err != nil {
		return nil, err
	}
	closing, cancel := context.WithCancel(context.Background())
	return &Client{reports: reports{e}, closing: closing, cancelDials: cancel}, nil
}

// Close aborts the client's connections and stops its loops. A Dial running
// meanwhile returns ErrClientClosed (its dial is canceled), or a connection
// that Close ends. Like Server.Close it waits for the engine's goroutines,
// except when called from a Handler callback: then it returns once the stop
// has begun.
func (cl *Client) Close() error {
	cl.e.Stopping.Store(true)
	cl.cancelDials()
	abortAndStop(cl.e, cl.e.Stop)
	return nil
}

var (
	defaultClientOnce sync.Once
	defaultClient     *Client
	defaultClientErr  error
)

// Dial connects to a ws, wss, http or https URL (or ws+unix:/path/to.sock:/resource)
// on a shared default Client, and returns the open connection and the server's 101
// response. A non-101 answer is a *upgrade.HandshakeError with its status, headers
// and up to 4 KiB of body.
func Dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, *http.Response, error) {
	defaultClientOnce.Do(func() { defaultClient, defaultClientErr = NewClient(nil, nil) })
	if defaultClientErr != nil {
		return nil, nil, defaultClientErr
	}
	return defaultClient.Dial(ctx, rawURL, opts)
}

// Dial connects like the package-level Dial, on this client's loops. The dial itself
// (TCP, proxy, TLS, handshake, redirects: package dial) runs on the calling
// goroutine; once open, a plain TCP or Unix connection moves onto the loops, and
// so does a wss one that negotiated TLS 1.3 with an AES-GCM suite, with the
// record layer of docs/tls-design.md; other TLS connections run in goroutine
// mode on their tls.Conn.
func (cl *Client) Dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, *http.Response, error) {
	var o DialOptions
	if opts != nil {
		o = *opts
	}
	if cl.e.Stopping.Load() {
		return nil, nil, ErrClientClosed
	}
	do := o.dialOptions()
	if loopTLS(cl.e) {
		do.TLSHandshake = cl.tlsHandshake // dialtls.go
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(cl.closing, cancel)() // Close ends the dial too
	r, err := dial.Dial(ctx, rawURL, do)
	if err != nil {
		if cl.closing.Err() != nil {
			return nil, nil, ErrClientClosed
		}
		return nil, nil, err
	}
	c := cl.open(r.Conn, r.Head, &o, r.Negotiated)
	if c == nil {
		return nil, nil, ErrClientClosed
	}
	return c, r.Response, nil
}

// Adopt runs a client connection whose opening handshake the caller made on nc
// itself, with dial.Handshake, or upgrade.NewClientRequest, ParseResponse and
// ValidateResponse (watershed's connect(res, socket, head, key), or a transport
// Dial does not know). head holds the bytes read past the 101 response (Adopt
// takes it: do not change it afterwards); res is what ValidateResponse returned.
// From opts only Handler, ReadQueue, Compression (the options that were offered),
// Version and MaskKey apply. A plain TCP or Unix socket moves onto the loops (nc
// is closed: the engine keeps a duplicate of its fd); anything else, such as a
// *tls.Conn or a net.Pipe, runs in goroutine mode. It returns ErrClientClosed
// (nc closed) when the client is closed or closing, and with Compression, an error
// wrapping deflate.ErrBadResponse (nc closed) when res's permessage-deflate
// answer breaks RFC 7692 §7.1 (Compression.Accept).
func (cl *Client) Adopt(nc net.Conn, head []byte, res upgrade.ClientResult, opts *DialOptions) (*Conn, error) {
	if cl.e.Stopping.Load() {
		nc.Close() // as open closes it when Close comes a moment later
		return nil, ErrClientClosed
	}
	var o DialOptions
	if opts != nil {
		o = *opts
	}
	if o.Compression != nil {
		// RFC 7692 §7.1: an answer the offer does not allow fails the
		// connection. ValidateResponse checks only the extension's name;
		// run without compression, the connection would meet the server's
		// compressed frames with 1002.
		if _, _, err := o.Compression.Accept(res.Extensions); err != nil {
			nc.Close()
			return nil, err
		}
	}
	c := cl.open(nc, head, &o, res)
	if c == nil {
		return nil, ErrClientClosed
	}
	return c, nil
}

// open starts a dialled, upgraded connection on the client's engine, or returns nil
// when Close came first (the connection was told going-away and closed).
func (cl *Client) open(nc net.Conn, head []byte, o *DialOptions, res upgrade.ClientResult) *Conn {
	e := cl.e
	h, head := handoff.Client(nc, head, (*sockets)(e))
	c := handedConn(e, h, true)
	if res.Subprotocol != "" {
		c.RareSet().Subprotocol = res.Subprotocol
	}
	if o.Compression != nil {
		if p, ok, _ := o.Compression.Accept(res.Extensions); ok {
			c.RareSet().Compression = deflate.NewConn(p, false, o.Compression)
		}
	}
	if o.Version == 8 {
		c.WSVersion = 8
	}
	c.WriteSide.W.SetMaskKey(o.MaskKey)
	if o.Handler != nil {
		c.RareSet().Handler = handler{o.Handler}
	}
	if c.Handler() == nil {
		c.RareSet().Handler = wsconn.NewQueue(o.ReadQueue, &e.Inbound)
	}
	if !e.StartOpenConn(c, head) {
		return nil
	}
	return pub(c)
}
