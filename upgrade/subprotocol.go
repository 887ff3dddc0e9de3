package upgrade

import "strings"

// appendSubprotocols parses one Sec-WebSocket-Protocol value: a comma-separated
// list of tokens, each unique (RFC 6455 §4.1 step 10, §11.3.4). Empty
// elements are ignored up to maxEmptyListElements (RFC 9110 §5.6.1), but the
// list is 1#token: a value with no token is malformed. The strings alias v.
func appendSubprotocols(dst []string, v string) ([]string, bool) {
	empty, n := 0, 0
	for {
		i := strings.IndexByte(v, ',')
		elem := v
		if i >= 0 {
			elem = v[:i]
		}
		elem = trimOWS(elem)
		if elem == "" {
			if empty++; empty > maxEmptyListElements {
				return dst, false
			}
			if i < 0 {
				return dst, n > 0
			}
			v = v[i+1:]
			continue
		}
		n++
		if !isToken(elem) {
			return dst, false
		}
		for _, p := range dst {
			if p == elem {
				return dst, false
			}
		}
		dst = append(dst, elem)
		if i < 0 {
			return dst, true
		}
		v = v[i+1:]
	}
}

// indexOffered returns the index of p in offered, or -1.
func indexOffered(offered []string, p string, fold bool) int {
	for i, o := range offered {
		if o == p || fold && equalFold(o, p) {
			return i
		}
	}
	return -1
}

// selectSubprotocol settles the subprotocol. chosen/set come from the verify
// hook or the async Accept; otherwise SelectSubprotocol, otherwise the first of
// u.Subprotocols (server preference) that the client offered. It returns the
// name the connection keeps (the server's spelling), the client's spelling for
// the 101 (RFC 6455 §4.2.2: a value the client sent), and an error when the pick
// was not offered, which is never sent.
func (u *Upgrader) selectSubprotocol(r *Request, chosen string, set bool) (keep, wire string, err error) {
	fold := u != nil && u.SubprotocolsCaseInsensitive
	if !set && u != nil && u.SelectSubprotocol != nil {
		chosen, set = u.SelectSubprotocol(r), true
	}
	if set {
		if chosen == "" {
			return "", "", nil
		}
		i := indexOffered(r.protos, chosen, fold)
		if i < 0 {
			return "", "", ErrSubprotocolNotOffered
		}
		return chosen, r.protos[i], nil
	}
	if u == nil || len(r.protos) == 0 {
		return "", "", nil
	}
	for _, p := range u.Subprotocols {
		if i := indexOffered(r.protos, p, fold); i >= 0 {
			return p, r.protos[i], nil
		}
	}
	return "", "", nil
}
