package dial

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"

	"github.com/weir-ws/weir/proxy"
)

// Transport opens the connection to addr on network ("tcp" or "unix"):
// through the proxy that o.Proxy picks for host (TCP only, unless o.NoProxy),
// then TLS when secure, with o.TLSConfig and, when its ServerName is empty,
// addr's host as the name to verify.
func Transport(ctx context.Context, network, addr string, secure bool, host string, o *Options) (net.Conn, error) {
	dialer := proxy.ContextDialer(&net.Dialer{})
	if o.NetDialContext != nil {
		dialer = proxy.DialFunc(o.NetDialContext)
	}
	var pu *url.URL
	if network == "tcp" && !o.NoProxy {
		var err error
		if pu, err = proxy.Lookup(o.Proxy, secure, host); err != nil {
			return nil, err
		}
	}
	var nc net.Conn
	var err error
	if pu != nil {
		nc, err = proxy.Dial(ctx, dialer, pu, addr, o.TLSConfig)
	} else {
		nc, err = dialer.DialContext(ctx, network, addr)
	}
	if err != nil || !secure {
		return nc, err
	}
	cfg := &tls.Config{}
	if o.TLSConfig != nil {
		cfg = o.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		name, _, err := net.SplitHostPort(addr)
		if err != nil {
			name = addr
		}
		cfg.ServerName = name
	}
	if o.TLSHandshake != nil {
		tc, err := o.TLSHandshake(ctx, nc, cfg)
		if err != nil {
			return nil, tlsFailed(ctx, nc, err)
		}
		return tc, nil
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, tlsFailed(ctx, nc, err)
	}
	return tc, nil
}

// tlsFailed closes nc after a failed TLS handshake and says why.
func tlsFailed(ctx context.Context, nc net.Conn, err error) error {
	nc.Close()
	if ctx.Err() != nil {
		err = fmt.Errorf("weir: TLS handshake: %w (%v)", ctx.Err(), err)
	}
	return err
}
