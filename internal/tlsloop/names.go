package tlsloop

import "sync"

// A connection's ALPN protocol and SNI are kept as one string, ALPN first
// (ident.names), and that string is interned: connections with the same
// protocol and server name, which on a server are nearly all of them (one
// or a few host names, the protocols of its own Config), share one copy
// instead of each holding crypto/tls's copy of the SNI and a second string
// header.
//
// The names are the peer's (the SNI is whatever the client sent), so the
// table is bounded: at most maxInterned strings of at most maxInternLen
// bytes, kept for the life of the process (about 100 KB at most). Once it is
// full, or for a longer string, a connection keeps its own copy, as it would
// without the table.
const (
	maxInterned  = 256
	maxInternLen = 300
	maxALPN      = 255 // RFC 7301 §3.1: a protocol name is 1 to 255 bytes
)

var interned struct {
	mu sync.Mutex
	m  map[string]*string
}

// intern returns alpn+sni, the copy in the table when there is one, nil
// when both are empty. It is a pointer, 8 bytes in every connection instead
// of a string's 16: connections share the table's; one the table does not
// keep has its own.
func intern(alpn, sni string) *string {
	n := len(alpn) + len(sni)
	if n == 0 {
		return nil
	}
	if n > maxInternLen {
		s := alpn + sni
		return &s
	}
	var buf [maxInternLen]byte
	key := append(append(buf[:0], alpn...), sni...)
	interned.mu.Lock()
	defer interned.mu.Unlock()
	if s, ok := interned.m[string(key)]; ok {
		return s
	}
	var s string
	switch {
	case alpn == "":
		s = sni // crypto/tls's copy: nothing to allocate
	case sni == "":
		s = alpn // the Config's
	default:
		s = string(key)
	}
	p := &s
	if len(interned.m) < maxInterned {
		if interned.m == nil {
			interned.m = make(map[string]*string)
		}
		interned.m[s] = p
	}
	return p
}
