package handoff

import (
	"crypto/tls"

	"github.com/weir-ws/weir/internal/perconn"
	"github.com/weir-ws/weir/internal/tlshand"
	"github.com/weir-ws/weir/internal/tlsloop"
)

// Late hands off a wss connection that an http.Server served on the
// engine's TLS listener (tlshand.ServerLate) and a handler hijacked after
// its 101: tc is the hijacked tls.Conn, lc the LateConn under it, head the
// bytes net/http had buffered past the request. It returns head followed by
// the plaintext crypto/tls had decrypted and not handed out (it may append
// to head). dropExporter drops the exporter from the state a loop keeps
// (Config.TLSDropExporter). The caller bounds the hand-off's drain with a
// read deadline on lc.Raw() and clears it after for goroutine mode.
func Late(tc *tls.Conn, lc *tlshand.LateConn, head []byte, s Sockets, dropExporter bool) (Conn, []byte) {
	raw := lc.Raw()
	s.Tune(raw)
	remote := perconn.AddrPort(raw.RemoteAddr())
	res, err := lc.HandOff(tc)
	head = append(head, res.Plain...)
	if err == nil {
		if fd, ok := s.Take(raw); ok {
			if dropExporter {
				tlsloop.DropExporter(&res.State)
			}
			return loop(fd, raw, remote, res), head
		}
		lc.Fallback() // crypto/tls's state is untouched: the tls.Conn goes on
	}
	return goroutine(tc, remote, TLSGoroutine), head
}
