package iplimit

import (
	"net/netip"
	"sync"
)

// Counter counts connections per IP address against a cap; see the package
// documentation. Its methods are safe for concurrent use.
type Counter struct {
	max  int
	bits int // an IPv6 address counts under its first bits bits (1-128)
	mu   sync.Mutex
	n    map[netip.Addr]int
}

// DefaultV6Bits is the IPv6 prefix length New takes for v6bits outside
// 1-128: a /64, the smallest block a home line or a host is given (RFC 6177
// §3 suggests a /56 to a /48 per site), so that one holder of a /64 cannot
// open 2^64 "different" addresses past the cap.
const DefaultV6Bits = 64

// New returns a Counter with cap max that counts an IPv6 address under its
// first v6bits bits (outside 1-128: DefaultV6Bits; 128: every address
// alone), or nil (admit everything) for max <= 0.
func New(max, v6bits int) *Counter {
	if max <= 0 {
		return nil
	}
	if v6bits < 1 || v6bits > 128 {
		v6bits = DefaultV6Bits
	}
	return &Counter{max: max, bits: v6bits, n: make(map[netip.Addr]int)}
}

// Key is the address a connection from a counts under: IPv4-mapped IPv6
// addresses are the IPv4 ones, an IPv6 address is its prefix's first
// address (the Counter's length), zones dropped. ok is false for an invalid
// address (a peer with no IP), which is not counted.
func (l *Counter) Key(a netip.Addr) (k netip.Addr, ok bool) {
	if !a.IsValid() {
		return a, false
	}
	a = a.Unmap().WithZone("")
	if a.Is6() && l.bits < 128 {
		p, _ := a.Prefix(l.bits) // cannot fail: a valid IPv6 address, 1 <= bits < 128
		a = p.Addr()
	}
	return a, true
}

func (l *Counter) key(a netip.Addr) netip.Addr {
	k, _ := l.Key(a)
	return k
}

// Enter counts a connection from a and reports whether it is within the cap.
// It counts it either way: the caller calls Leave once, whatever the answer.
func (l *Counter) Enter(a netip.Addr) bool {
	if l == nil {
		return true
	}
	k, ok := l.Key(a)
	if !ok {
		return true
	}
	l.mu.Lock()
	n := l.n[k] + 1
	l.n[k] = n
	l.mu.Unlock()
	return n <= l.max
}

// Admit is Enter that leaves nothing counted when it answers false.
func (l *Counter) Admit(a netip.Addr) bool {
	if l.Enter(a) {
		return true
	}
	l.Leave(a)
	return false
}

// Leave undoes one Enter (or one admitting Admit).
func (l *Counter) Leave(a netip.Addr) {
	if l == nil {
		return
	}
	k, ok := l.Key(a)
	if !ok {
		return
	}
	l.mu.Lock()
	if n := l.n[k] - 1; n > 0 {
		l.n[k] = n
	} else {
		delete(l.n, k)
	}
	l.mu.Unlock()
}

// Move moves a connection counted under from to to (when their keys differ:
// from's count drops, to's rises) and reports whether to is within the cap.
// As with Enter, to is counted either way. Same keys change nothing and
// report true: the connection was judged when it entered.
func (l *Counter) Move(from, to netip.Addr) bool {
	if l == nil {
		return true
	}
	if l.key(from) == l.key(to) {
		return true
	}
	l.Leave(from)
	return l.Enter(to)
}

// Count is the number of connections counted under a's key.
func (l *Counter) Count(a netip.Addr) int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[l.key(a)]
}

// Len is the number of keys (IPv4 addresses, IPv6 prefixes) with
// connections counted.
func (l *Counter) Len() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.n)
}
