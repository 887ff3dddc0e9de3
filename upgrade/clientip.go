package upgrade

import (
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
		list := r.hb.str(fs[fi].value)
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
				return addr
			}
			addr = ip
			if !trusted(r.trusted, addr) {
				return addr
			}
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
