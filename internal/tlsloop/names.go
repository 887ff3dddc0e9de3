package tlsloop

import (
	"sync"
	"sync/atomic"
)

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
	m  map[string]internEntry
	n  int // numbers handed out, never reset
}

type internEntry struct {
	p   *string
	num uint16
}

// internedNum holds the table's strings by number (1 up), written once
// under interned.mu before the number is handed out: a connection whose
// state is kept outside the Go heap (conn.go) keeps the number, not the
// pointer, which the collector would not see there; the table keeps the
// string alive.
var internedNum [maxInterned + 1]atomic.Pointer[string]

// internedAt returns the table's string number num (not 0).
func internedAt(num uint16) *string { return internedNum[num].Load() }

// intern returns alpn+sni, the copy in the table when there is one, nil
// when both are empty. It is a pointer, 8 bytes instead of a string's 16:
// connections share the table's; one the table does not keep has its own.
// num is the string's number in the table, 0 when it is not there.
func intern(alpn, sni string) (p *string, num uint16) {
	n := len(alpn) + len(sni)
	if n == 0 {
		return nil, 0
	}
	if n > maxInternLen {
		s := alpn + sni
		return &s, 0
	}
	var buf [maxInternLen]byte
	key := append(append(buf[:0], alpn...), sni...)
	interned.mu.Lock()
	defer interned.mu.Unlock()
	if e, ok := interned.m[string(key)]; ok {
		return e.p, e.num
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
	p = &s
	if len(interned.m) < maxInterned {
		if interned.m == nil {
			interned.m = make(map[string]internEntry)
		}
		if interned.n < maxInterned {
			interned.n++
			num = uint16(interned.n)
			internedNum[num].Store(p)
		}
		interned.m[s] = internEntry{p, num}
	}
	return p, num
}
