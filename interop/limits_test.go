package interop

import (
	"errors"
	"slices"
	"strings"

	"github.com/weir-ws/weir/engine"
)

// Peer limits: cells that cannot pass because of the peer itself. Each entry says
// why and recognises the exact symptom; the cell is marked as the peer's only when
// that symptom is what the run saw. A limit that no longer shows (the peer was
// fixed) fails the cell, so the table cannot go stale silently.

type limit struct {
	peer, scenario string // scenario key: group/name
	roles          []role // nil: both
	why            string
	seen           func(err error) bool
}

func unsupported(what string) func(error) bool {
	return func(err error) bool {
		var u *errUnsupported
		return errors.As(err, &u) && strings.HasPrefix(u.what, what)
	}
}

// closedWith: the peer closed the connection with code instead of answering;
// OnClose reported no error, or cause.
func closedWith(code int, cause error) func(error) bool {
	return func(err error) bool {
		var pc *errPeerClosed
		return errors.As(err, &pc) && int(pc.code) == code && (pc.err == nil || errors.Is(pc.err, cause))
	}
}

// refusedWith: the handshake was refused with one of statuses.
func refusedWith(statuses ...int) func(error) bool {
	return func(err error) bool {
		var r *errRefused
		return errors.As(err, &r) && slices.Contains(statuses, r.status)
	}
}

const (
	whyShedFragments = "watershed does not reassemble fragmented messages: it answers the first frame with FIN=0 with a 1000 close " +
		"(as a server it then stops reading, so it never sees weir's answer nor closes TCP: weir's client ends the close handshake after CloseTimeout)"
	whyShedV8 = "watershed's server accepts only version 13 (accept() throws; the peer script answers 400)"
)

var limits = []limit{
	{peer: "watershed", scenario: "fragments/weir sends frames", why: whyShedFragments, seen: closedWith(1000, engine.ErrCloseTimeout)},
	{peer: "watershed", scenario: "fragments/weir WriteFragmentSize", why: whyShedFragments, seen: closedWith(1000, engine.ErrCloseTimeout)},
	{peer: "watershed", scenario: "fragments/peer sends frames", why: "watershed has no API to send a fragmented message", seen: unsupported("frag")},
	{peer: "watershed", scenario: "ping/peer pings", why: "watershed has no API to send a ping (it only answers them)", seen: unsupported("ping")},
	{peer: "watershed", scenario: "close/peer 1001", why: "watershed's end() always sends 1000", seen: unsupported("close 1001")},
	{peer: "watershed", scenario: "close/peer 4321", why: "watershed's end() always sends 1000", seen: unsupported("close 4321")},
	{peer: "watershed", scenario: "close/weir 4321", why: "watershed reports a received close code only by the names it knows (1000-1011): 4321 arrives as null (the reason does arrive)",
		seen: func(err error) bool {
			var c *errCloseSeen
			return errors.As(err, &c) && c.got != nil && c.got.Code == 0 && c.got.Reason == reasonApp
		}},
	{peer: "watershed", scenario: "handshake/version 8", roles: []role{weirClient}, why: whyShedV8, seen: refusedWith(400)},
	{peer: "chromium", scenario: "fragments/peer sends frames", why: "the browser WebSocket API has no control over fragmentation", seen: unsupported("frag")},
	{peer: "chromium", scenario: "ping/peer pings", why: "the browser WebSocket API cannot send a ping", seen: unsupported("ping")},
	{peer: "chromium", scenario: "close/peer 1001", why: "the browser's WebSocket.close() accepts only 1000 and 3000-4999 (InvalidAccessError)", seen: unsupported("close 1001")},
	{peer: "python-websockets", scenario: "handshake/version 8", roles: []role{weirClient}, why: "websockets' server accepts only version 13 (400)", seen: refusedWith(400)},
	{peer: "gorilla", scenario: "handshake/version 8", roles: []role{weirClient}, why: "gorilla's Upgrader accepts only version 13 (400)", seen: refusedWith(400)},
	{peer: "gobwas", scenario: "handshake/version 8", roles: []role{weirClient}, why: "gobwas' Upgrader accepts only version 13 (426)", seen: refusedWith(426)},
}

func findLimit(peer, scenario string, r role) *limit {
	for i := range limits {
		l := &limits[i]
		if l.peer == peer && l.scenario == scenario && (l.roles == nil || slices.Contains(l.roles, r)) {
			return l
		}
	}
	return nil
}
