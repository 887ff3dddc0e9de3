package upgrade

import (
	"net/netip"
	"strings"
)

// originAllowed applies the origin policy (cross-site WebSocket hijacking
// protection). CheckOrigin, when set, decides alone. Otherwise a request without
// an origin is allowed (it did not come from a browser page), an origin whose
// host equals Host is allowed, an origin matching one of OriginPatterns is
// allowed, and everything else, "null" included, is refused with 403.
func (u *Upgrader) originAllowed(r *Request) bool {
	if u != nil && u.CheckOrigin != nil {
		return u.CheckOrigin(r)
	}
	origin := r.origin()
	if origin == "" {
		return true
	}
	scheme, host, ok := splitOrigin(origin)
	if !ok {
		return false // "null", userinfo, a bad scheme or host: never matched
	}
	if sameOrigin(scheme, host, r.host()) {
		return true
	}
	if u == nil {
		return false
	}
	full := origin[:len(scheme)+3+len(host)] // scheme://host[:port], any path cut
	for _, p := range u.OriginPatterns {
		target := host
		if containsScheme(p) {
			target = full
		}
		if globMatch(p, target) {
			return true
		}
	}
	return false
}

func containsScheme(p string) bool {
	for i := 0; i+3 <= len(p); i++ {
		if p[i] == ':' && p[i+1] == '/' && p[i+2] == '/' {
			return true
		}
	}
	return false
}

// splitOrigin splits a serialized origin, scheme "://" host [":" port] (RFC 6454
// §6.1). A trailing path is tolerated; userinfo is not.
func splitOrigin(o string) (scheme, host string, ok bool) {
	for i := 0; i+3 <= len(o); i++ {
		if o[i] == ':' {
			if i == 0 || o[i+1] != '/' || o[i+2] != '/' {
				return "", "", false
			}
			scheme, host = o[:i], o[i+3:]
			break
		}
	}
	if !validScheme(scheme) {
		return "", "", false
	}
	for i := 0; i < len(host); i++ {
		if c := host[i]; c == '@' {
			return "", "", false
		} else if c == '/' || c == '?' || c == '#' {
			host = host[:i]
			break
		}
	}
	return scheme, host, validOriginHost(host)
}

// validOriginHost checks host [":" port] of an origin strictly: a bracketed IPv6
// address or a reg-name/IPv4 without percent escapes, and a decimal port.
func validOriginHost(h string) bool {
	name, port := h, ""
	if len(h) > 0 && h[0] == '[' {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return false
		}
		a, err := netip.ParseAddr(h[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return false
		}
		name, port = "", h[end+1:]
		if port != "" {
			if port[0] != ':' {
				return false
			}
			port = port[1:]
		}
	} else if i := strings.IndexByte(h, ':'); i >= 0 {
		name, port = h[:i], h[i+1:]
		if name == "" {
			return false
		}
	} else if h == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; class[c]&cHost == 0 || c == '%' || c == '[' || c == ']' || c == ':' {
			return false
		}
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
	}
	return true
}

// validScheme checks ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1).
func validScheme(s string) bool {
	if s == "" || lower(s[0]) < 'a' || lower(s[0]) > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := lower(s[i])
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// splitHostPort splits "host", "host:port", "[v6]" or "[v6]:port".
func splitHostPort(hp string) (host, port string) {
	if len(hp) > 0 && hp[0] == '[' {
		for i := 1; i < len(hp); i++ {
			if hp[i] == ']' {
				if i+1 < len(hp) && hp[i+1] == ':' {
					return hp[:i+1], hp[i+2:]
				}
				return hp[:i+1], ""
			}
		}
		return hp, ""
	}
	for i := len(hp) - 1; i >= 0; i-- {
		if hp[i] == ':' {
			return hp[:i], hp[i+1:]
		}
	}
	return hp, ""
}

func defaultPort(scheme string) string {
	switch {
	case equalFold(scheme, "http"), equalFold(scheme, "ws"):
		return "80"
	case equalFold(scheme, "https"), equalFold(scheme, "wss"):
		return "443"
	}
	return ""
}

// sameOrigin compares the origin's host with the Host header: host names
// case-insensitively, ports with the scheme's default filled in. A Host without
// a port matches only an origin on its scheme's default port.
func sameOrigin(scheme, originHost, hostHeader string) bool {
	oh, op := splitHostPort(originHost)
	hh, hp := splitHostPort(hostHeader)
	if !equalFold(oh, hh) {
		return false
	}
	def := defaultPort(scheme)
	if op == "" {
		op = def
	}
	if hp == "" {
		return op == def
	}
	return op == hp
}

// globMatch matches s against pattern case-insensitively: '*' matches any run of
// bytes, '?' exactly one; everything else matches itself. Iterative, with
// backtracking to the last star only, so it is linear in practice and never
// allocates.
func globMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || lower(pattern[p]) == lower(s[i])):
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
