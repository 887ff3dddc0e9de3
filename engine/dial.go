package engine

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/internal/sockopt"
	"github.com/weir-ws/weir/upgrade"
)

// DialOptions configure one Dial. A nil *DialOptions, and every zero field, means
// the documented default.
type DialOptions struct {
	// Handler receives the connection's events. Nil: the connection is read with
	// ReadMessage (messages are queued for it, and reading pauses while the queue is
	// full).
	Handler Handler
	// Subprotocols are offered in order; the server's pick must be one of them.
	Subprotocols []string
	// Origin is sent as Origin (Sec-WebSocket-Origin with Version 8).
	Origin string
	// Header holds extra request fields (cookies, authorization...).
	Header http.Header
	// Version is 13 (default) or 8.
	Version int
	// TLSConfig for wss (cloned; ServerName from the URL host when empty).
	TLSConfig *tls.Config
	// HandshakeTimeout bounds the whole dial: TCP, proxy, TLS and the handshake.
	// Default 10 s; negative: only ctx.
	HandshakeTimeout time.Duration
	// NetDialContext dials TCP (or the proxy). Default: a net.Dialer with LocalAddr.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// LocalAddr is the local address to dial from (for example 127.0.0.2 to pass the
	// ephemeral-port limit of one source address). On Linux the default dialer sets
	// IP_BIND_ADDRESS_NO_PORT with it, so the port is picked per destination at
	// connect time rather than at bind time.
	LocalAddr net.Addr
	// Proxy picks a proxy for the request. Default: http.ProxyFromEnvironment
	// (HTTP_PROXY for ws, HTTPS_PROXY for wss, NO_PROXY). Schemes: http and https
	// (a CONNECT tunnel, RFC 9110 §9.3.6; https speaks TLS to the proxy, with
	// TLSConfig's roots), socks5 and socks5h (RFC 1928, user name and password
	// from the URL per RFC 1929; host names go to the proxy to resolve). A URL
	// without a port uses 80, 443 or 1080. Set NoProxy to dial directly.
	Proxy   func(*http.Request) (*url.URL, error)
	NoProxy bool
	// MaxRedirects follows up to this many 3xx answers (default 0: none, as ws).
	// Authorization and Cookie are dropped when a redirect changes host.
	MaxRedirects int
	// OnRequest may change the request just before it is written (ws
	// finishRequest); it runs for every redirect too.
	OnRequest func(r *upgrade.ClientRequest) error
	// Compression offers permessage-deflate with these options (nil: no offer).
	// ws offers by default; weir asks you to opt in, since compressing secrets
	// next to attacker-controlled data invites CRIME/BREACH-style attacks.
	Compression *deflate.Options
	// ReadQueue caps the messages queued for ReadMessage before reading pauses.
	// Default 64.
	ReadQueue int
	// MaskKey, for tests only, replaces the masking-key generator.
	MaskKey func() [4]byte
}

// Client dials connections that run on its engine's loops, with the same Conn API
// and callbacks as server connections, and no goroutine per connection.
type Client struct {
	e *engine
}

// NewClient returns a client whose connections use cfg (nil: defaults) and h as
// the default handler (nil: blocking reads with ReadMessage).
func NewClient(h Handler, cfg *Config) (*Client, error) {
	e, err := newEngine(h, cfg)
	if err != nil {
		return nil, err
	}
	return &Client{e: e}, nil
}

// Close aborts the client's connections and stops its loops. A Dial running
// meanwhile returns ErrClientClosed, or a connection that Close ends.
func (cl *Client) Close() error {
	cl.e.stopping.Store(true)
	cl.e.abortAll(cl.e.closedChan())
	cl.e.stop()
	return nil
}

// NumConns is the number of the client's connections.
func (cl *Client) NumConns() int { return int(cl.e.nconns.Load()) }

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
// (TCP, proxy, TLS, handshake) runs on the calling goroutine; once open, a plain
// TCP or Unix connection moves onto the loops, and a TLS one runs in goroutine mode
// (crypto/tls needs a net.Conn).
func (cl *Client) Dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, *http.Response, error) {
	var o DialOptions
	if opts != nil {
		o = *opts
	}
	if cl.e.stopping.Load() {
		return nil, nil, ErrClientClosed
	}
	if o.HandshakeTimeout == 0 {
		o.HandshakeTimeout = 10 * time.Second
	}
	if o.HandshakeTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.HandshakeTimeout)
		defer cancel()
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, err
	}
	var via []*url.URL
	for {
		nc, head, resp, res, err := cl.handshake(ctx, u, &o, via)
		var he *upgrade.HandshakeError
		if errors.As(err, &he) && len(via) < o.MaxRedirects && isRedirect(he.Status) {
			loc, lerr := u.Parse(he.Header.Get("Location"))
			if lerr != nil {
				return nil, nil, err
			}
			via = append(via, u)
			downgrade := isSecure(u) && !isSecure(loc)
			if loc.Host != u.Host || downgrade {
				// A change of host, or from wss to ws, drops the credentials (ws).
				if o.Header != nil {
					o.Header = o.Header.Clone()
					o.Header.Del("Authorization")
					o.Header.Del("Cookie")
				}
				loc.User = nil
			} else if loc.User == nil {
				loc.User = u.User // same host: URL credentials go on
			}
			u = loc
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		c := cl.open(nc, head, &o, res)
		if c == nil {
			return nil, nil, ErrClientClosed
		}
		return c, resp, nil
	}
}

func isSecure(u *url.URL) bool { return u.Scheme == "wss" || u.Scheme == "https" }

func isRedirect(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// handshake dials u and runs the opening handshake; on success it returns the
// connection and the bytes read past the 101.
func (cl *Client) handshake(ctx context.Context, u *url.URL, o *DialOptions, via []*url.URL) (net.Conn, []byte, *http.Response, upgrade.ClientResult, error) {
	var res upgrade.ClientResult
	req, network, addr, err := clientRequest(u, o, len(via) > 0)
	if err != nil {
		return nil, nil, nil, res, err
	}
	if o.OnRequest != nil {
		if err := o.OnRequest(req); err != nil {
			return nil, nil, nil, res, err
		}
	}
	nc, err := cl.dialTransport(ctx, network, addr, req, o)
	if err != nil {
		return nil, nil, nil, res, err
	}
	fail := func(err error) (net.Conn, []byte, *http.Response, upgrade.ClientResult, error) {
		nc.Close()
		if ctx.Err() != nil && !errors.As(err, new(*upgrade.HandshakeError)) {
			err = fmt.Errorf("weir: dial %s: %w", u.Redacted(), ctx.Err())
		}
		return nil, nil, nil, res, err
	}
	// Cancelling ctx, or its deadline (HandshakeTimeout), aborts a handshake in
	// progress (WebSocket-Node abort()): the socket gets a past deadline. No socket
	// deadline is set from ctx's own: it could fire before ctx reports done.
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	out, err := req.AppendTo(nil)
	if err != nil {
		return fail(err)
	}
	if _, err := nc.Write(out); err != nil {
		return fail(err)
	}
	buf := make([]byte, 0, 4096)
	var resp upgrade.Response
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, rerr := nc.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		hn, perr := upgrade.ParseResponse(buf, &resp, nil)
		if perr == upgrade.ErrNeedMore {
			if rerr != nil {
				return fail(fmt.Errorf("weir: dial %s: reading the handshake response: %w", u.Redacted(), rerr))
			}
			continue
		}
		if perr != nil {
			return fail(perr)
		}
		hresp := &http.Response{
			Status: fmt.Sprintf("%d %s", resp.StatusCode(), resp.Reason()), StatusCode: resp.StatusCode(),
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: resp.HTTPHeader(),
			Body: http.NoBody,
		}
		res, err = upgrade.ValidateResponse(req, &resp)
		if err == nil && o.Compression != nil {
			// RFC 7692 §5.1: a response the client did not allow fails the dial.
			_, _, err = o.Compression.Accept(res.Extensions)
		}
		if err != nil {
			var he *upgrade.HandshakeError
			if errors.As(err, &he) {
				he.ReadBody(io.MultiReader(strings.NewReader(string(buf[hn:])), nc), upgrade.DefaultErrorBodyLimit)
			}
			return fail(err)
		}
		head := append([]byte(nil), buf[hn:]...)
		if !stop() {
			// ctx ended just now and its past deadline may be on the socket.
			return fail(fmt.Errorf("weir: dial %s: %w", u.Redacted(), context.Cause(ctx)))
		}
		return nc, head, hresp, res, nil
	}
}

// clientRequest builds the request for u; network and addr are what to dial.
func clientRequest(u *url.URL, o *DialOptions, redirected bool) (*upgrade.ClientRequest, string, string, error) {
	req := &upgrade.ClientRequest{}
	network := "tcp"
	var addr string
	if u.Scheme == "ws+unix" {
		// ws+unix:/path/to.sock:/resource (ws's form).
		path := u.Opaque
		if path == "" {
			path = u.Path
		}
		sock, resource, _ := strings.Cut(path, ":")
		if resource == "" {
			resource = "/"
		}
		if u.RawQuery != "" {
			resource += "?" + u.RawQuery
		}
		req.Host, req.Resource, req.Addr = "localhost", resource, sock
		network, addr = "unix", sock
	} else {
		if err := req.SetURL(u); err != nil {
			return nil, "", "", err
		}
		addr = req.Addr
	}
	req.Key = upgrade.GenerateKey()
	req.Version = o.Version
	req.Origin = o.Origin
	req.Subprotocols = o.Subprotocols
	if o.Header != nil {
		req.Header = o.Header.Clone() // OnRequest edits a copy, per hop
	}
	if o.Compression != nil {
		req.Extensions = []upgrade.ExtensionOffer{o.Compression.Offer()}
	}
	_ = redirected
	return req, network, addr, nil
}

// dialTransport opens the TCP (or Unix) connection, through an HTTP CONNECT proxy
// when one applies, and wraps it in TLS for wss.
func (cl *Client) dialTransport(ctx context.Context, network, addr string, req *upgrade.ClientRequest, o *DialOptions) (net.Conn, error) {
	dial := o.NetDialContext
	if dial == nil {
		d := &net.Dialer{LocalAddr: o.LocalAddr}
		if o.LocalAddr != nil {
			d.Control = sockopt.BindNoPort // the port at connect time: see sockopt
		}
		dial = d.DialContext
	}
	target := addr
	var proxyURL *url.URL
	if network == "tcp" && !o.NoProxy {
		proxy := o.Proxy
		if proxy == nil {
			proxy = http.ProxyFromEnvironment
		}
		scheme := "http"
		if req.Secure {
			scheme = "https"
		}
		pu, err := proxy(&http.Request{Method: "GET", URL: &url.URL{Scheme: scheme, Host: req.Host}, Header: http.Header{}})
		if err != nil {
			return nil, err
		}
		if pu != nil {
			if addr, err = proxyAddr(pu); err != nil {
				return nil, err
			}
			proxyURL = pu
		}
	}
	nc, err := dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if proxyURL != nil {
		if nc, err = tunnel(ctx, nc, proxyURL, target, o.TLSConfig); err != nil {
			return nil, err
		}
	}
	if req.Secure {
		cfg := &tls.Config{}
		if o.TLSConfig != nil {
			cfg = o.TLSConfig.Clone()
		}
		if cfg.ServerName == "" {
			host, _, err := net.SplitHostPort(target)
			if err != nil {
				host = target
			}
			cfg.ServerName = host
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			if ctx.Err() != nil {
				err = fmt.Errorf("weir: TLS handshake: %w (%v)", ctx.Err(), err)
			}
			return nil, err
		}
		return tc, nil
	}
	return nc, nil
}

// Adopt runs a client connection whose opening handshake the caller made on nc
// itself, with upgrade.NewClientRequest, ParseResponse and ValidateResponse
// (watershed's connect(res, socket, head, key), or a transport Dial does not
// know). head holds the bytes read past the 101 response (Adopt takes it: do not
// change it afterwards); res is what ValidateResponse returned. From opts only
// Handler, ReadQueue, Compression (the options that were offered), Version and
// MaskKey apply. A plain TCP or Unix socket moves onto the loops (nc is closed:
// the engine keeps a duplicate of its fd); anything else, such as a *tls.Conn or
// a net.Pipe, runs in goroutine mode. It returns ErrClientClosed when the client
// is closed or closing.
func (cl *Client) Adopt(nc net.Conn, head []byte, res upgrade.ClientResult, opts *DialOptions) (*Conn, error) {
	if cl.e.stopping.Load() {
		return nil, ErrClientClosed
	}
	var o DialOptions
	if opts != nil {
		o = *opts
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
	e.tuneNet(nc)
	var c *Conn
	if fd, ok := takeFD(nc, e.cfg.GoroutinePerConn || len(e.loops) == 0); ok {
		c = e.newConn(int32(fd), nil, true)
		c.remote = addrPort(nc.RemoteAddr())
		nc.Close()
	} else {
		c = e.newConn(-1, nil, true)
		c.goroutine = newGoroutineMode(nc)
		c.remote = addrPort(nc.RemoteAddr())
	}
	c.subprotocol = res.Subprotocol
	if o.Compression != nil {
		if p, ok, _ := o.Compression.Accept(res.Extensions); ok {
			c.compression = deflate.NewConn(p, false, o.Compression)
		}
	}
	if o.Version == 8 {
		c.version = 8
	}
	c.write.w.SetMaskKey(o.MaskKey)
	if o.Handler != nil {
		c.handler = guard(o.Handler) // guard.go
	}
	if c.handler == nil {
		c.handler = newQueue(c, o.ReadQueue)
	}
	if !e.startOpenConn(c, head) {
		return nil
	}
	return c
}
