package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

var (
	// ErrRefused is returned when a proxy refuses the tunnel: an HTTP answer
	// other than 2xx to CONNECT, a SOCKS5 reply other than success, or failed
	// SOCKS5 authentication. The error text has the status or reply.
	ErrRefused = errors.New("weir: proxy refused the tunnel")
	// ErrScheme is returned for a proxy URL whose scheme is none of http,
	// https, socks5 and socks5h.
	ErrScheme = errors.New("weir: unsupported proxy scheme")
	// ErrBadReply is returned for a proxy answer that breaks its protocol: a
	// wrong SOCKS version, a method or address type that was not offered or
	// does not exist, an HTTP answer that does not parse or is longer than
	// MaxReplyBytes.
	ErrBadReply = errors.New("weir: malformed proxy reply")
)

// ContextDialer dials the proxy; *net.Dialer is one.
type ContextDialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// DialFunc makes a function a ContextDialer.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// DialContext calls f.
func (f DialFunc) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return f(ctx, network, addr)
}

// Addr is the address to dial for proxy u: its host and port, or the scheme's
// default port (80, 443, 1080). Any other scheme is ErrScheme.
func Addr(u *url.URL) (string, error) {
	var port string
	switch u.Scheme {
	case "http":
		port = "80"
	case "https":
		port = "443"
	case "socks5", "socks5h":
		port = "1080"
	default:
		return "", fmt.Errorf("%w: %q", ErrScheme, u.Scheme)
	}
	if p := u.Port(); p != "" {
		port = p
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}

// Lookup returns the proxy that pick chooses for a connection to host (host or
// host:port) made for a secure (wss, https) or plain URL, or nil for none. A
// nil pick is http.ProxyFromEnvironment: HTTPS_PROXY for secure targets,
// HTTP_PROXY for plain ones, and NO_PROXY.
func Lookup(pick func(*http.Request) (*url.URL, error), secure bool, host string) (*url.URL, error) {
	if pick == nil {
		pick = http.ProxyFromEnvironment
	}
	scheme := "http"
	if secure {
		scheme = "https"
	}
	return pick(&http.Request{Method: "GET", URL: &url.URL{Scheme: scheme, Host: host}, Header: http.Header{}})
}

// Dial connects to proxyURL with d (nil: a zero net.Dialer) and returns a
// connection to target (host:port) through it. tlsCfg gives the roots (and
// client certificate) for an https proxy; its ServerName is replaced by the
// proxy's host.
func Dial(ctx context.Context, d ContextDialer, proxyURL *url.URL, target string, tlsCfg *tls.Config) (net.Conn, error) {
	addr, err := Addr(proxyURL)
	if err != nil {
		return nil, err
	}
	if d == nil {
		d = &net.Dialer{}
	}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return Tunnel(ctx, nc, proxyURL, target, tlsCfg)
}

// Tunnel turns nc, a connection to the proxy at proxyURL, into one to target.
// On error nc is closed.
func Tunnel(ctx context.Context, nc net.Conn, proxyURL *url.URL, target string, tlsCfg *tls.Config) (net.Conn, error) {
	if _, err := Addr(proxyURL); err != nil {
		nc.Close()
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	var err error
	switch proxyURL.Scheme {
	case "https":
		cfg := &tls.Config{}
		if tlsCfg != nil {
			cfg = tlsCfg.Clone()
		}
		cfg.ServerName = proxyURL.Hostname() // the proxy's certificate, not the target's
		cfg.NextProtos = nil                 // CONNECT is HTTP/1.1
		tc := tls.Client(nc, cfg)
		if err = tc.HandshakeContext(ctx); err == nil {
			nc = tc
			err = connectHTTP(nc, proxyURL, target)
		}
	case "socks5", "socks5h":
		err = connectSOCKS5(nc, proxyURL, target)
	default:
		err = connectHTTP(nc, proxyURL, target)
	}
	if !stop() || err != nil {
		nc.Close()
		if err == nil || ctx.Err() != nil {
			err = fmt.Errorf("weir: proxy %s: %w (%v)", proxyURL.Scheme, ctx.Err(), err)
		}
		return nil, err
	}
	return nc, nil
}
