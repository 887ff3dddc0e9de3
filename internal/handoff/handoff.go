package handoff

import (
	"crypto/tls"
	"net"
	"net/netip"

	"github.com/weir-ws/weir/internal/perconn"
	"github.com/weir-ws/weir/internal/tlshand"
	"github.com/weir-ws/weir/internal/tlsloop"
)

// Sockets is what a hand-off needs from the engine.
type Sockets interface {
	// Tune applies the engine's TCP options to nc (a raw socket).
	Tune(nc net.Conn)
	// Take duplicates the socket under nc for a loop, or reports false.
	Take(nc net.Conn) (fd int, ok bool)
}

// TLS says which way a connection's TLS went, for the TLS counters.
type TLS uint8

const (
	NoTLS        TLS = iota // a plain connection
	TLSLoop                 // wss on a loop with the record layer
	TLSGoroutine            // wss in goroutine mode on its tls.Conn
)

// Conn is where a handed-off connection runs.
type Conn struct {
	// FD is the loop's fd, or -1 for goroutine mode.
	FD int
	// Net is the connection goroutine mode runs on (FD < 0), else nil.
	Net net.Conn
	// Record is a wss connection's record layer on a loop, else nil.
	Record *tlsloop.Conn
	Remote netip.AddrPort
	TLS    TLS
	// Fresh: Record holds records read past the handshake, which no
	// readiness edge will report; the first read turn opens them.
	Fresh bool
}

// loop is a connection on the loop's fd, the socket it came from closed,
// with the record layer of res (nil: plain).
func loop(fd int, raw net.Conn, remote netip.AddrPort, res *tlshand.Result) Conn {
	raw.Close()
	c := Conn{FD: fd, Remote: remote}
	if res != nil {
		c.Record = tlsloop.New(res.State, res.Reader, res.Writer, res.Leftover)
		c.TLS, c.Fresh = TLSLoop, len(res.Leftover) > 0
	}
	return c
}

// goroutine is a connection in goroutine mode on nc.
func goroutine(nc net.Conn, remote netip.AddrPort, t TLS) Conn {
	return Conn{FD: -1, Net: nc, Remote: remote, TLS: t}
}

// Plain hands off a plain socket (TCP or Unix, or anything else for
// goroutine mode). A *tls.Conn (goroutine mode everywhere, a foreign TLS
// listener's) is counted TLSGoroutine.
func Plain(nc net.Conn, s Sockets) Conn {
	s.Tune(nc)
	remote := perconn.AddrPort(nc.RemoteAddr())
	if fd, ok := s.Take(nc); ok {
		return loop(fd, nc, remote, nil)
	}
	t := NoTLS
	if _, ok := nc.(*tls.Conn); ok {
		t = TLSGoroutine
	}
	return goroutine(nc, remote, t)
}

// Client hands off a dialled connection whose 101 was read: nc as package
// dial returned it (a *tlshand.ClientConn for wss through the engine's
// TLSHandshake), head the bytes read past the 101. It returns head followed
// by the plaintext crypto/tls had decrypted and not handed out (it may
// append to head).
func Client(nc net.Conn, head []byte, s Sockets) (Conn, []byte) {
	cc, ok := nc.(*tlshand.ClientConn)
	if !ok {
		return Plain(nc, s), head
	}
	raw := cc.Raw()
	s.Tune(raw)
	remote := perconn.AddrPort(raw.RemoteAddr())
	res, err := cc.HandOff()
	head = append(head, res.Plain...)
	if err == nil {
		if fd, ok := s.Take(raw); ok {
			return loop(fd, raw, remote, res), head
		}
		cc.Fallback() // crypto/tls's state is untouched: the tls.Conn goes on
	}
	return goroutine(cc, remote, TLSGoroutine), head
}

// Server hands off a connection of ListenTLS whose TLS handshake is done
// (tlshand.Acceptor.Done's arguments). It reports false, with nc closed,
// when a connection for the loops cannot have its fd taken.
func Server(nc net.Conn, remote netip.AddrPort, res *tlshand.Result, inGoroutine bool, s Sockets) (Conn, bool) {
	s.Tune(nc)
	if inGoroutine { // res.Conn is a working tls.Conn over nc
		return goroutine(res.Conn, remote, TLSGoroutine), true
	}
	fd, ok := s.Take(nc)
	if !ok {
		nc.Close()
		return Conn{FD: -1}, false
	}
	return loop(fd, nc, remote, res), true
}
