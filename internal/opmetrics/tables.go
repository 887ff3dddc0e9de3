package opmetrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/weir-ws/weir/frame"
)

// refuseStatuses are the HTTP statuses counted one by one for refused
// handshakes; the last slot counts any other status.
var refuseStatuses = [...]int{
	http.StatusBadRequest,                  // malformed request (upgrade.ErrMalformed, ...)
	http.StatusForbidden,                   // origin denied, rejected by Verify
	http.StatusNotFound,                    // no endpoint at the path
	http.StatusMethodNotAllowed,            // not GET
	http.StatusUpgradeRequired,             // a plain GET, or an unsupported version
	http.StatusTooManyRequests,             // an application's rate limit
	http.StatusRequestHeaderFieldsTooLarge, // header limits
	http.StatusInternalServerError,         // a hook panicked, a bad negotiation
	http.StatusServiceUnavailable,          // MaxConns, MaxConnsPerIP, shutting down, verify timeout
	0,                                      // other
}

const nRefuse = len(refuseStatuses)

// refuseIndex maps an HTTP status to its slot in refuseStatuses.
func refuseIndex(status int) int {
	for i, s := range refuseStatuses[:nRefuse-1] {
		if s == status {
			return i
		}
	}
	return nRefuse - 1
}

// Close code slots: 1000-1015 one each (RFC 6455 §7.4.1, 1004 reserved
// included), then 3000-4999 (§7.4.2: registered and private use) as one
// "application" slot, then "other" (0, or anything else).
const (
	closeFirst  = 1000
	closeLast   = 1015
	closeApp    = closeLast - closeFirst + 1
	closeOther  = closeApp + 1
	nCloseCodes = closeOther + 1
)

func closeIndex(code frame.StatusCode) int {
	switch {
	case code >= closeFirst && code <= closeLast:
		return int(code - closeFirst)
	case code >= 3000 && code <= 4999:
		return closeApp
	}
	return closeOther
}

// closeLabel names slot i: the code, "application" or "other".
func closeLabel(i int) string {
	switch i {
	case closeApp:
		return "application"
	case closeOther:
		return "other"
	}
	return strconv.Itoa(closeFirst + i)
}

// Who closed: the peer when its close frame arrived before ours went out (it
// started the closing handshake), locally otherwise (our Close, a protocol
// failure, a timeout, a dropped TCP connection).
const (
	closedLocal = iota
	closedPeer
)

// Write policy slots, one per WriteBufferPolicy outcome.
const (
	WriteRefused = iota // WriteBufferError: ErrWriteBufferFull
	WriteDropped        // WriteBufferDrop: ErrMessageDropped
	WriteClosed         // WriteBufferClose: ErrSlowConsumer
	nWritePolicies
)

// RTTBuckets are the upper bounds of the ping round-trip histogram: 250 µs to
// 10 s.
var RTTBuckets = [...]time.Duration{
	250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}
