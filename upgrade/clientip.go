package upgrade

import (
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns the address of the client: the TCP peer, unless the peer is
// one of the Upgrader's TrustedProxies, in which case the forwarding header
// (X-Forwarded-For by default, or RFC 7239 Forwarded) is walked from the right,
// skipping trusted hops, and the first untrusted address is returned. Nothing
// is trusted by default, so a client cannot spoof its address by sending the
// header itself. An unparsable entry stops the walk at the last trusted hop.
func (r *Request) ClientIP() netip.Addr {
	addr := r.peer.Addr().Unmap()
	if !trusted(r.trusted, addr) {
		return addr
	}
	name := r.ipHeader
	if name == "" {
		name = "X-Forwarded-For"
	}
	forwarded := equalFold(name, "forwarded")
	// Proxies append, so the last line and its last element are the nearest hop.
	fs := r.hb.fields
	for fi := len(fs) - 1; fi >= 0; fi-- {
		if !equalFold(r.hb.str(fs[fi].name), name) {
			continue
		}
		var done bool
		if addr, done = walkHops(addr, r.trusted, forwarded, r.hb.str(fs[fi].value)); done {
			return addr
		}
	}
	return addr
}

// walkHops walks one forwarding header line from the right, from addr (a
// trusted hop): it returns the first untrusted address and true, or the last
// trusted one and false when the line ran out, or addr and true at an
// unparsable entry.
func walkHops(addr netip.Addr, nets []netip.Prefix, forwarded bool, list string) (netip.Addr, bool) {
	for list != "" {
		var elem string
		if k := strings.LastIndexByte(list, ','); k >= 0 {
			elem, list = list[k+1:], list[:k]
		} else {
			elem, list = list, ""
		}
		var ip netip.Addr
		var ok bool
		if forwarded {
			ip, ok = forwardedFor(elem)
		} else {
			ip, ok = parseHop(trimOWS(elem))
		}
		if !ok {
			return addr, true
		}
		addr = ip
		if !trusted(nets, addr) {
			return addr, true
		}
	}
	return addr, false
}

// TrustsProxy reports whether a is one of TrustedProxies: a peer whose
// forwarding header ClientIP believes.
func (u *Upgrader) TrustsProxy(a netip.Addr) bool {
	return u != nil && trusted(u.TrustedProxies, a.Unmap())
}

// ClientIP is Request.ClientIP for a request Parse scanned, before Handshake:
// for a server that judges the client's address (a per-address cap) as soon
// as the request is in.
func (u *Upgrader) ClientIP(req *Request, peer netip.AddrPort) netip.Addr {
	req.peer = peer
	if u != nil {
		req.trusted, req.ipHeader = u.TrustedProxies, u.ClientIPHeader
	}
	return req.ClientIP()
}

// ClientIPHTTP is Request.ClientIP for a request under net/http, from its
// RemoteAddr and header, with u's TrustedProxies and ClientIPHeader. Invalid
// when RemoteAddr is not ip:port.
func (u *Upgrader) ClientIPHTTP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	addr := ap.Addr().Unmap()
	if !u.TrustsProxy(addr) {
		return addr
	}
	name := u.ClientIPHeader
	if name == "" {
		name = "X-Forwarded-For"
	}
	lines := r.Header.Values(name)
	for i := len(lines) - 1; i >= 0; i-- {
		var done bool
		if addr, done = walkHops(addr, u.TrustedProxies, equalFold(name, "forwarded"), lines[i]); done {
			return addr
		}
	}
	return addr
}

func trusted(nets []netip.Prefix, a netip.Addr) bool {
	for _, p := range nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHop parses "ip", "ip:port", "[v6]" or "[v6]:port".
func parseHop(s string) (netip.Addr, bool) {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// forwardedFor extracts the for= parameter of one Forwarded element (RFC 7239
// §4); obfuscated identifiers and "unknown" do not parse.
func forwardedFor(elem string) (netip.Addr, bool) {
	for elem != "" {
		var pair string
		pair, elem = cutByte(elem, ';')
		k, v := cutByte(trimOWS(pair), '=')
		if equalFold(k, "for") {
			return parseHop(v)
		}
	}
	return netip.Addr{}, false
}
