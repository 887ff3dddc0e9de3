package engine

import (
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// Operator metrics (docs/metrics.md). The counters here are touched only on
// events that are rare next to messages: a handshake answered, a connection
// ended, a write refused by the WriteBufferPolicy, a PingRTT pong. Traffic
// (bytes, messages, frames each way) stays per connection (stats.go), so the
// message path gains nothing: one atomic add on an engine-wide cache line per
// such event, and no lock. Every table has a fixed size chosen here, so an
// attacker cannot grow it (a status or close code outside the table is
// counted as "other").

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
	wrRefused = iota // WriteBufferError: ErrWriteBufferFull
	wrDropped        // WriteBufferDrop: ErrMessageDropped
	wrClosed         // WriteBufferClose: ErrSlowConsumer
	nWritePolicies
)

// RTTBuckets are the upper bounds of the ping round-trip histogram
// (Metrics.PingRTT): 250 µs to 10 s.
var RTTBuckets = [...]time.Duration{
	250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// counters are the engine's event counters (engine.m).
type counters struct {
	hsAccepted atomic.Uint64
	hsTimedOut atomic.Uint64
	hsRefused  [nRefuse]atomic.Uint64
	closes     [2][nCloseCodes]atomic.Uint64
	writes     [nWritePolicies]atomic.Uint64
	rtt        [len(RTTBuckets) + 1]atomic.Uint64 // per bucket (not cumulative); last: +Inf
	rttSum     atomic.Int64                       // nanoseconds
}

func (e *engine) countAccepted() { e.m.hsAccepted.Add(1) }

// countRefused counts a refused handshake by the status err answers with.
func (e *engine) countRefused(err error) { e.m.hsRefused[refuseIndex(upgrade.StatusOf(err))].Add(1) }

// countClose counts the end of a connection that opened (finish).
func (e *engine) countClose(code frame.StatusCode, peer bool) {
	by := closedLocal
	if peer {
		by = closedPeer
	}
	e.m.closes[by][closeIndex(code)].Add(1)
}

// countWrite counts a write the WriteBufferPolicy refused (afterWrite; nil and
// other errors cost one comparison each).
func (e *engine) countWrite(err error) {
	switch err {
	case ErrWriteBufferFull:
		e.m.writes[wrRefused].Add(1)
	case ErrMessageDropped:
		e.m.writes[wrDropped].Add(1)
	case ErrSlowConsumer:
		e.m.writes[wrClosed].Add(1)
	}
}

// observeRTT records a ping round trip.
func (e *engine) observeRTT(d time.Duration) {
	i := 0
	for i < len(RTTBuckets) && d > RTTBuckets[i] {
		i++
	}
	e.m.rtt[i].Add(1)
	e.m.rttSum.Add(int64(d))
}

// Metrics is a snapshot of what a gateway operator watches: the traffic
// totals of EngineStats plus the event counters. Every counter only grows;
// Conns and Buffered are gauges. docs/metrics.md lists each with its
// Prometheus name.
type Metrics struct {
	EngineStats
	// Buffered is the pooled memory holding outbound bytes queued now, all
	// connections together (BufferedAmount, bounded by MaxTotalBuffered).
	Buffered int64
	// BufferedInbound is the pooled memory holding partial frames and messages
	// being assembled now, all connections together (BufferedInbound, bounded
	// by MaxTotalInbound).
	BufferedInbound int64
	// HandshakesAccepted counts the handshakes answered 101 by the Server,
	// on its loops or through ServeHTTP (Adopt's are not counted: someone
	// else answered them).
	HandshakesAccepted uint64
	// HandshakesRefused counts the handshakes answered with an error status,
	// one entry per status in a fixed table (Status 0: any other status).
	HandshakesRefused []StatusCount
	// HandshakesTimedOut counts the handshakes on the loops that did not
	// finish within Config.HandshakeTimeout (ended with no answer).
	HandshakesTimedOut uint64
	// Closes counts the connections that opened and then ended, by close
	// status and by who started the closing handshake.
	Closes []CloseCount
	// WritesRefused, WritesDropped and WritesClosed count the writes that met
	// the outbound cap under WriteBufferError, WriteBufferDrop and
	// WriteBufferClose.
	WritesRefused, WritesDropped, WritesClosed uint64
	// PingRTT is the histogram of PingRTT round trips that got their pong.
	PingRTT Histogram
}

// StatusCount is the count of handshakes refused with one HTTP status.
type StatusCount struct {
	Status int // 0: any status not in the table
	Count  uint64
}

// Label is the status as a label value: "403", or "other".
func (s StatusCount) Label() string {
	if s.Status == 0 {
		return "other"
	}
	return strconv.Itoa(s.Status)
}

// CloseCount is the count of connections that ended with one close status.
type CloseCount struct {
	// Code is the label: "1000" to "1015", "application" (3000-4999) or
	// "other".
	Code string
	// Peer: the peer's close frame started the closing handshake.
	Peer  bool
	Count uint64
}

// By is who closed as a label value: "peer" or "local".
func (c CloseCount) By() string {
	if c.Peer {
		return "peer"
	}
	return "local"
}

// Histogram is a cumulative histogram, as Prometheus has them.
type Histogram struct {
	Bounds []time.Duration // upper bounds (RTTBuckets)
	Counts []uint64        // Counts[i]: observations <= Bounds[i]
	Count  uint64          // all observations (the +Inf bucket)
	Sum    time.Duration
}

// metrics makes the snapshot. Its cost is that of stats (a walk over the
// connections) plus a few dozen atomic loads: call it per scrape.
func (e *engine) metrics() Metrics {
	m := Metrics{
		EngineStats:        e.stats(),
		Buffered:           e.buffered.Load(),
		BufferedInbound:    e.inbound.Load(),
		HandshakesAccepted: e.m.hsAccepted.Load(),
		HandshakesTimedOut: e.m.hsTimedOut.Load(),
		HandshakesRefused:  make([]StatusCount, nRefuse),
		Closes:             make([]CloseCount, 0, 2*nCloseCodes),
		WritesRefused:      e.m.writes[wrRefused].Load(),
		WritesDropped:      e.m.writes[wrDropped].Load(),
		WritesClosed:       e.m.writes[wrClosed].Load(),
	}
	for i, s := range refuseStatuses {
		m.HandshakesRefused[i] = StatusCount{Status: s, Count: e.m.hsRefused[i].Load()}
	}
	for by := range e.m.closes {
		for i := range e.m.closes[by] {
			m.Closes = append(m.Closes, CloseCount{Code: closeLabel(i), Peer: by == closedPeer, Count: e.m.closes[by][i].Load()})
		}
	}
	m.PingRTT = e.metricsHistogram()
	return m
}

// metricsHistogram makes the cumulative RTT histogram. Count is the sum of the
// buckets, so it always agrees with them; Sum may be a scrape behind.
func (e *engine) metricsHistogram() Histogram {
	h := Histogram{Bounds: RTTBuckets[:], Counts: make([]uint64, len(RTTBuckets))}
	for i := range e.m.rtt {
		h.Count += e.m.rtt[i].Load()
		if i < len(RTTBuckets) {
			h.Counts[i] = h.Count
		}
	}
	h.Sum = time.Duration(e.m.rttSum.Load())
	return h
}

// Metrics returns the server's operator metrics (see Metrics and
// docs/metrics.md); package metrics publishes them with expvar or in the
// Prometheus text format.
func (s *Server) Metrics() Metrics { return s.e.metrics() }

// Metrics returns the client's operator metrics. The handshake counters are
// the server's and stay zero here (a failed dial returns its error).
func (cl *Client) Metrics() Metrics { return cl.e.metrics() }

// handshakeRefusal reports whether err from upgrade.Upgrader.Upgrade is a
// refusal that was answered (a *HandshakeError), not a connection lost.
func handshakeRefusal(err error) bool {
	var he *upgrade.HandshakeError
	return errors.As(err, &he)
}
