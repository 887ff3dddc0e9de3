package dial

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/weir-ws/weir/upgrade"
)

// Dial connects to a ws, wss, http or https URL (or ws+unix:/path/to.sock:/resource)
// and runs the opening handshake, following redirects up to o.MaxRedirects. A
// non-101 answer is a *upgrade.HandshakeError with its status, headers and up
// to 4 KiB of body. A redirect from a network URL to ws+unix, or from wss
// (https) to ws (http), is not followed.
func Dial(ctx context.Context, rawURL string, o *Options) (*Result, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	if opts.HandshakeTimeout == 0 {
		opts.HandshakeTimeout = 10 * time.Second
	}
	if opts.HandshakeTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.HandshakeTimeout)
		defer cancel()
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	for hops := 0; ; hops++ {
		r, err := dialOnce(ctx, u, &opts)
		var he *upgrade.HandshakeError
		if !errors.As(err, &he) || hops >= opts.MaxRedirects || !isRedirect(he.Status) {
			return r, err
		}
		loc, lerr := resolve(u, he.Header.Get("Location"))
		if lerr != nil || loc.Scheme == "ws+unix" && u.Scheme != "ws+unix" || isSecure(u) && !isSecure(loc) {
			// A server on the network may not send the client to a local
			// socket, nor out of TLS: the caller asked for wss, and past the
			// handshake its messages, custom fields and subprotocols (where
			// tokens often ride) would go in clear, which no dropping of
			// credentials can scrub. RFC 6455 §4.1 leaves following a 3xx to
			// the client, and browsers follow none. The 3xx is the answer.
			return nil, err
		}
		if origin(loc) != origin(u) {
			// A change of host drops the credentials (ws).
			opts.Header = dropCredentials(opts.Header)
			loc.User = nil
		} else if loc.User == nil {
			loc.User = u.User // same host: URL credentials go on
		}
		u = loc
	}
}

// resolve is the URL a redirect's Location names from u (RFC 3986 §5). On
// ws+unix a reference without scheme or host resolves against the resource,
// on the same socket: the path of u holds "SOCKET:RESOURCE", so "/b" resolved
// as usual would name a socket at /b.
func resolve(u *url.URL, location string) (*url.URL, error) {
	ref, err := url.Parse(location)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "ws+unix" || ref.Scheme != "" || ref.Host != "" {
		return u.ResolveReference(ref), nil
	}
	sock, res := unixTarget(u)
	r := (&url.URL{Path: res, RawQuery: u.RawQuery}).ResolveReference(ref)
	out := *u
	out.RawPath, out.RawQuery, out.Fragment = "", r.RawQuery, ""
	if u.Opaque != "" {
		out.Opaque = sock + ":" + r.Path
	} else {
		out.Path = sock + ":" + r.Path
	}
	return &out, nil
}

// origin is what a redirect must keep for credentials to follow it: the
// host and port, or for ws+unix the socket's path (its URLs have no host).
func origin(u *url.URL) string {
	if u.Scheme == "ws+unix" {
		sock, _ := unixTarget(u)
		return "unix:" + sock
	}
	return u.Host
}

// unixTarget splits a ws+unix URL (ws+unix:/path/to.sock:/resource, ws's
// form; the path is opaque when it does not start with a slash) into the
// socket's path and the resource, without its query.
func unixTarget(u *url.URL) (sock, resource string) {
	path := u.Opaque
	if path == "" {
		path = u.Path
	}
	sock, resource, _ = strings.Cut(path, ":")
	return sock, resource
}

// dropCredentials returns a copy of h without the fields that carry
// credentials, whatever the case of their keys: a literal http.Header may
// hold non-canonical ones, and AppendTo writes keys as they are.
func dropCredentials(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	h = h.Clone()
	for k := range h {
		switch http.CanonicalHeaderKey(k) {
		case "Authorization", "Proxy-Authorization", "Cookie":
			delete(h, k)
		}
	}
	return h
}

func isSecure(u *url.URL) bool { return u.Scheme == "wss" || u.Scheme == "https" }

func isRedirect(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// dialOnce dials u and runs the opening handshake, without redirects.
func dialOnce(ctx context.Context, u *url.URL, o *Options) (*Result, error) {
	req, network, addr, err := NewRequest(u, o)
	if err != nil {
		return nil, err
	}
	if o.OnRequest != nil {
		if err := o.OnRequest(req); err != nil {
			return nil, err
		}
	}
	nc, err := Transport(ctx, network, addr, req.Secure, req.Host, o)
	if err != nil {
		return nil, err
	}
	return Handshake(ctx, nc, req, o.Compression)
}

// NewRequest builds the request for u with o's fields and a fresh key;
// network and addr are what to dial ("unix" and the socket's path for
// ws+unix:/path/to.sock:/resource, ws's form).
func NewRequest(u *url.URL, o *Options) (req *upgrade.ClientRequest, network, addr string, err error) {
	req = &upgrade.ClientRequest{}
	network = "tcp"
	if u.Scheme == "ws+unix" {
		sock, resource := unixTarget(u)
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
	return req, network, addr, nil
}
