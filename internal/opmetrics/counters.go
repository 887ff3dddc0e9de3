package opmetrics

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/wswrite"
)

// Counters are one engine's event counters.
type Counters struct {
	accepted atomic.Uint64
	timedOut atomic.Uint64
	refused  [nRefuse]atomic.Uint64
	closes   [2][nCloseCodes]atomic.Uint64
	writes   [nWritePolicies]atomic.Uint64
	rtt      [len(RTTBuckets) + 1]atomic.Uint64 // per bucket (not cumulative); last: +Inf
	rttSum   atomic.Int64                       // nanoseconds
}

// Accept counts a handshake answered 101.
func (m *Counters) Accept() { m.accepted.Add(1) }

// TimeOut counts a handshake on the loops that did not finish in time.
func (m *Counters) TimeOut() { m.timedOut.Add(1) }

// Refuse counts a handshake refused with an HTTP status.
func (m *Counters) Refuse(status int) { m.refused[refuseIndex(status)].Add(1) }

// Close counts the end of a connection that opened, by its close code and by
// whether the peer started the closing handshake.
func (m *Counters) Close(code frame.StatusCode, peer bool) {
	by := closedLocal
	if peer {
		by = closedPeer
	}
	m.closes[by][closeIndex(code)].Add(1)
}

// Write counts a write refused under policy WriteRefused, WriteDropped or
// WriteClosed.
func (m *Counters) Write(policy int) { m.writes[policy].Add(1) }

// WriteErr counts a write by the error the write side returned: the refusals
// of the WriteBufferPolicy (wswrite.ErrFull, ErrDropped, ErrSlowConsumer)
// under their policy; nil and other errors are not counted (one comparison
// each).
func (m *Counters) WriteErr(err error) {
	switch err {
	case wswrite.ErrFull:
		m.Write(WriteRefused)
	case wswrite.ErrDropped:
		m.Write(WriteDropped)
	case wswrite.ErrSlowConsumer:
		m.Write(WriteClosed)
	}
}

// ObserveRTT records a ping round trip.
func (m *Counters) ObserveRTT(d time.Duration) {
	i := 0
	for i < len(RTTBuckets) && d > RTTBuckets[i] {
		i++
	}
	m.rtt[i].Add(1)
	m.rttSum.Add(int64(d))
}

// Snapshot is the counters with what the engine keeps elsewhere: the traffic
// totals (a walk over the connections), the buffered gauges, the loops'
// takeovers and the TLS counters. It allocates the tables: call it per scrape.
func (m *Counters) Snapshot(st EngineStats, buffered, inbound int64, takeovers uint64, tls TLS) Metrics {
	return Metrics{
		EngineStats:        st,
		Buffered:           buffered,
		BufferedInbound:    inbound,
		HandshakesAccepted: m.accepted.Load(),
		HandshakesTimedOut: m.timedOut.Load(),
		HandshakesRefused:  m.Refused(),
		Closes:             m.Closes(),
		WritesRefused:      m.writes[WriteRefused].Load(),
		WritesDropped:      m.writes[WriteDropped].Load(),
		WritesClosed:       m.writes[WriteClosed].Load(),
		LoopTakeovers:      takeovers,
		PingRTT:            m.RTT(),
		TLS:                tls,
	}
}

// Refused returns the refused handshakes, one entry per status of the table.
func (m *Counters) Refused() []StatusCount {
	out := make([]StatusCount, nRefuse)
	for i, s := range refuseStatuses {
		out[i] = StatusCount{Status: s, Count: m.refused[i].Load()}
	}
	return out
}

// Closes returns the ended connections, one entry per close code slot and
// closer: local ones first.
func (m *Counters) Closes() []CloseCount {
	out := make([]CloseCount, 0, 2*nCloseCodes)
	for by := range m.closes {
		for i := range m.closes[by] {
			out = append(out, CloseCount{Code: closeLabel(i), Peer: by == closedPeer, Count: m.closes[by][i].Load()})
		}
	}
	return out
}

// RTT makes the cumulative round-trip histogram. Count is the sum of the
// buckets, so it always agrees with them; Sum may be a scrape behind.
func (m *Counters) RTT() Histogram {
	h := Histogram{Bounds: RTTBuckets[:], Counts: make([]uint64, len(RTTBuckets))}
	for i := range m.rtt {
		h.Count += m.rtt[i].Load()
		if i < len(RTTBuckets) {
			h.Counts[i] = h.Count
		}
	}
	h.Sum = time.Duration(m.rttSum.Load())
	return h
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
