package engine

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"time"
)

// Proxies for the client's dial: an HTTP CONNECT tunnel (over TCP or TLS) or a
// SOCKS5 connect. Either way the result is a byte stream to the target on which
// the WebSocket handshake (and TLS for wss) runs as if dialled directly.

var (
	// ErrProxy is returned when a proxy refuses the tunnel: an HTTP answer other
	// than 2xx to CONNECT, a SOCKS5 reply other than success, or failed SOCKS5
	// authentication. The error text has the status or reply.
	ErrProxy = errors.New("weir: proxy refused the tunnel")
	// ErrProxyScheme is returned for a proxy URL whose scheme is none of http,
	// https, socks5 and socks5h.
	ErrProxyScheme = errors.New("weir: unsupported proxy scheme")
)

// proxyAddr is the address to dial for proxy u, with the scheme's default port.
func proxyAddr(u *url.URL) (string, error) {
	var port string
	switch u.Scheme {
	case "http":
		port = "80"
	case "https":
		port = "443"
	case "socks5", "socks5h":
		port = "1080"
	default:
		return "", fmt.Errorf("%w: %q", ErrProxyScheme, u.Scheme)
	}
	if p := u.Port(); p != "" {
		port = p
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}

// tunnel turns nc, a connection to proxy, into one to target. On error nc is
// closed. ctx bounds the exchange.
func tunnel(ctx context.Context, nc net.Conn, proxy *url.URL, target string, tlsCfg *tls.Config) (net.Conn, error) {
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	var err error
	switch proxy.Scheme {
	case "https":
		cfg := &tls.Config{}
		if tlsCfg != nil {
			cfg = tlsCfg.Clone()
		}
		cfg.ServerName = proxy.Hostname() // the proxy's certificate, not the target's
		cfg.NextProtos = nil              // CONNECT is HTTP/1.1
		tc := tls.Client(nc, cfg)
		if err = tc.HandshakeContext(ctx); err == nil {
			nc = tc
			err = connectHTTP(nc, proxy, target)
		}
	case "socks5", "socks5h":
		err = connectSOCKS5(nc, proxy, target)
	default:
		err = connectHTTP(nc, proxy, target)
	}
	if !stop() || err != nil {
		nc.Close()
		if err == nil || ctx.Err() != nil {
			err = fmt.Errorf("weir: proxy %s: %w (%v)", proxy.Scheme, ctx.Err(), err)
		}
		return nil, err
	}
	return nc, nil
}

// connectHTTP asks an HTTP proxy for a tunnel to target (RFC 9110 §9.3.6).
func connectHTTP(nc net.Conn, proxy *url.URL, target string) error {
	req := "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n"
	if proxy.User != nil {
		pw, _ := proxy.User.Password()
		req += "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(proxy.User.Username()+":"+pw)) + "\r\n"
	}
	req += "\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		return err
	}
	// Read the answer byte by byte up to the blank line: nothing past it may be
	// consumed, since the tunnel's first bytes belong to the WebSocket handshake.
	br := bufio.NewReaderSize(&oneByteReader{nc}, 16)
	resp, err := http.ReadResponse(br, &http.Request{Method: "CONNECT"})
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%w: %s", ErrProxy, resp.Status)
	}
	return nil
}

// oneByteReader reads one byte per call, so a bufio.Reader over it never reads ahead.
type oneByteReader struct{ r io.Reader }

func (o *oneByteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}

// SOCKS5 (RFC 1928) constants.
const (
	socksVersion      = 5
	socksNoAuth       = 0x00
	socksUserPass     = 0x02 // RFC 1929
	socksNoAcceptable = 0xff
	socksConnect      = 0x01
	socksIPv4         = 0x01
	socksDomain       = 0x03
	socksIPv6         = 0x04
)

// socksReplies are the REP texts of RFC 1928 §6.
var socksReplies = [...]string{
	1: "general SOCKS server failure",
	2: "connection not allowed by ruleset",
	3: "network unreachable",
	4: "host unreachable",
	5: "connection refused",
	6: "TTL expired",
	7: "command not supported",
	8: "address type not supported",
}

// connectSOCKS5 runs a SOCKS5 CONNECT to target over nc: method selection, the
// user name and password of proxy's URL if it has them (RFC 1929), then the
// request. A host name is sent as a name for the proxy to resolve; an IP literal
// as an address. Every read is exact, so no tunnel byte is consumed.
func connectSOCKS5(nc net.Conn, proxy *url.URL, target string) error {
	host, portStr, err := net.SplitHostPort(target)
	if err != nil {
		return err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return fmt.Errorf("weir: socks5: bad port in %q", target)
	}
	// §3: version, methods offered.
	hello := []byte{socksVersion, 1, socksNoAuth}
	if proxy.User != nil {
		hello = []byte{socksVersion, 2, socksNoAuth, socksUserPass}
	}
	if _, err := nc.Write(hello); err != nil {
		return err
	}
	var b [2]byte
	if _, err := io.ReadFull(nc, b[:]); err != nil {
		return err
	}
	if b[0] != socksVersion {
		return fmt.Errorf("weir: socks5: version %d in the method reply", b[0])
	}
	switch b[1] {
	case socksNoAuth:
	case socksUserPass:
		if proxy.User == nil {
			return fmt.Errorf("%w: socks5 proxy asks for a user name and password", ErrProxy)
		}
		if err := socksAuth(nc, proxy.User); err != nil {
			return err
		}
	case socksNoAcceptable:
		return fmt.Errorf("%w: socks5: no acceptable authentication method", ErrProxy)
	default:
		return fmt.Errorf("weir: socks5: proxy chose method %d, which was not offered", b[1])
	}
	// §4: the CONNECT request.
	req := []byte{socksVersion, socksConnect, 0}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Is4() || ip.Is4In6() {
			a := ip.Unmap().As4()
			req = append(append(req, socksIPv4), a[:]...)
		} else {
			a := ip.As16()
			req = append(append(req, socksIPv6), a[:]...)
		}
	} else {
		if len(host) > 255 {
			return fmt.Errorf("weir: socks5: host name over 255 bytes")
		}
		req = append(append(req, socksDomain, byte(len(host))), host...)
	}
	req = binary.BigEndian.AppendUint16(req, uint16(port))
	if _, err := nc.Write(req); err != nil {
		return err
	}
	// §6: VER REP RSV ATYP BND.ADDR BND.PORT.
	var head [4]byte
	if _, err := io.ReadFull(nc, head[:]); err != nil {
		return err
	}
	if head[0] != socksVersion {
		return fmt.Errorf("weir: socks5: version %d in the reply", head[0])
	}
	if rep := head[1]; rep != 0 {
		text := "reply " + strconv.Itoa(int(rep))
		if int(rep) < len(socksReplies) && socksReplies[rep] != "" {
			text = socksReplies[rep]
		}
		return fmt.Errorf("%w: socks5: %s", ErrProxy, text)
	}
	var skip int
	switch head[3] {
	case socksIPv4:
		skip = 4
	case socksIPv6:
		skip = 16
	case socksDomain:
		if _, err := io.ReadFull(nc, b[:1]); err != nil {
			return err
		}
		skip = int(b[0])
	default:
		return fmt.Errorf("weir: socks5: address type %d in the reply", head[3])
	}
	var rest [255 + 2]byte
	_, err = io.ReadFull(nc, rest[:skip+2])
	return err
}

// socksAuth is the user name and password subnegotiation (RFC 1929 §2).
func socksAuth(nc net.Conn, user *url.Userinfo) error {
	name := user.Username()
	pw, _ := user.Password()
	if len(name) == 0 || len(name) > 255 || len(pw) > 255 {
		return fmt.Errorf("weir: socks5: user name and password must be 1-255 and 0-255 bytes")
	}
	msg := append([]byte{1, byte(len(name))}, name...)
	msg = append(append(msg, byte(len(pw))), pw...)
	if _, err := nc.Write(msg); err != nil {
		return err
	}
	var b [2]byte
	if _, err := io.ReadFull(nc, b[:]); err != nil {
		return err
	}
	if b[1] != 0 {
		return fmt.Errorf("%w: socks5: authentication failed", ErrProxy)
	}
	return nil
}
