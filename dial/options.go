package dial

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/upgrade"
)

// Options configure one Dial. A nil *Options, and every zero field, means the
// documented default.
type Options struct {
	// Subprotocols are offered in order; the server's pick must be one of them.
	Subprotocols []string
	// Origin is sent as Origin (Sec-WebSocket-Origin with Version 8).
	Origin string
	// Header holds extra request fields (cookies, authorization...).
	Header http.Header
	// Version is 13 (default) or 8.
	Version int
	// TLSConfig for wss (cloned; ServerName from the URL host when empty), and
	// for an https proxy (its roots).
	TLSConfig *tls.Config
	// HandshakeTimeout bounds the whole dial: TCP, proxy, TLS and the handshake.
	// Default 10 s; negative: only ctx.
	HandshakeTimeout time.Duration
	// NetDialContext dials TCP (or the proxy). Default: a zero net.Dialer's.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Proxy picks a proxy for the request. Default: http.ProxyFromEnvironment
	// (HTTP_PROXY for ws, HTTPS_PROXY for wss, NO_PROXY). Schemes: http and https
	// (a CONNECT tunnel, RFC 9110 §9.3.6; https speaks TLS to the proxy, with
	// TLSConfig's roots), socks5 and socks5h (RFC 1928, user name and password
	// from the URL per RFC 1929; host names go to the proxy to resolve). A URL
	// without a port uses 80, 443 or 1080 (package proxy). Set NoProxy to dial
	// directly.
	Proxy   func(*http.Request) (*url.URL, error)
	NoProxy bool
	// MaxRedirects follows up to this many 3xx answers (default 0: none, as ws).
	// Authorization, Proxy-Authorization and Cookie (in any case), and URL
	// user info, are dropped when a redirect changes host (for ws+unix, the
	// socket). A redirect from a network URL to ws+unix, or from wss (https)
	// to ws (http), is not followed: the 3xx is returned.
	MaxRedirects int
	// OnRequest may change the request just before it is written (ws
	// finishRequest); it runs for every redirect too.
	OnRequest func(r *upgrade.ClientRequest) error
	// TLSHandshake, when set, runs the TLS client handshake for wss instead
	// of tls.Client(nc, cfg).HandshakeContext: nc is the socket (or proxy
	// tunnel), cfg a private clone of TLSConfig with ServerName set. The
	// net.Conn it returns carries the opening handshake and becomes
	// Result.Conn; on error it must not close nc. engine.Client sets it so
	// that a wss connection can move onto its loops afterwards.
	TLSHandshake func(ctx context.Context, nc net.Conn, cfg *tls.Config) (net.Conn, error)
	// Compression offers permessage-deflate with these options (nil: no offer).
	// ws offers by default; weir asks you to opt in, since compressing secrets
	// next to attacker-controlled data invites CRIME/BREACH-style attacks.
	Compression *deflate.Options
}

// Result is an upgraded connection.
type Result struct {
	// Conn is the connection past the 101: a *tls.Conn for wss (or what
	// Options.TLSHandshake returned), else what the dialer (or proxy)
	// returned.
	Conn net.Conn
	// Head holds the bytes read past the 101 response: the first frame bytes.
	// It is the caller's.
	Head []byte
	// Response is the server's 101, with its headers; its Body is empty.
	Response *http.Response
	// Negotiated is what the 101 settled: subprotocol and extensions (check
	// them with Options.Compression.Accept to start permessage-deflate).
	Negotiated upgrade.ClientResult
}
