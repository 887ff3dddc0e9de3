package metrics

import (
	"expvar"
	"strconv"

	"github.com/weir-ws/weir/engine"
)

// Source is anything with operator metrics: *engine.Server and *engine.Client.
type Source interface {
	Metrics() engine.Metrics
}

// SourceFunc makes a function a Source (for example one that adds up several
// servers' metrics).
type SourceFunc func() engine.Metrics

// Metrics calls f.
func (f SourceFunc) Metrics() engine.Metrics { return f() }

// PublishExpvar publishes src's metrics under name in expvar (GET
// /debug/vars): a snapshot, as JSON, at every read. Like expvar.Publish, it
// panics if name is already in use.
func PublishExpvar(name string, src Source) {
	expvar.Publish(name, expvar.Func(func() any { return src.Metrics() }))
}

// Kind is a metric family's type, as Prometheus names them.
type Kind uint8

const (
	Counter Kind = iota
	Gauge
	Histogram
)

func (k Kind) String() string {
	switch k {
	case Gauge:
		return "gauge"
	case Histogram:
		return "histogram"
	}
	return "counter"
}

// Family is one metric and its series.
type Family struct {
	Name       string // with the namespace: weir_closes_total
	Help       string
	Kind       Kind
	LabelNames []string // nil when the family has a single series
	Series     []Series
}

// Series is one labelled value of a family.
type Series struct {
	LabelValues []string // in LabelNames' order
	Value       float64  // Counter and Gauge
	Hist        *Hist    // Histogram
}

// Hist is a cumulative histogram in seconds.
type Hist struct {
	Bounds []float64 // upper bounds, seconds
	Counts []uint64  // Counts[i]: observations <= Bounds[i]
	Count  uint64
	Sum    float64 // seconds
}

// DefaultNamespace prefixes every metric name unless another is given.
const DefaultNamespace = "weir"

// Families describes m as metric families, names prefixed with namespace
// (DefaultNamespace when empty). The families, their order, their label
// names and (except for values) their series are the same for every m. Label
// names, and series within a family, come in sorted order, as client_golang
// writes them, so that the two encodings compare line for line.
func Families(m engine.Metrics, namespace string) []Family {
	if namespace == "" {
		namespace = DefaultNamespace
	}
	n := func(s string) string { return namespace + "_" + s }
	one := func(name, help string, k Kind, v float64) Family {
		return Family{Name: n(name), Help: help, Kind: k, Series: []Series{{Value: v}}}
	}
	refused := Family{Name: n("handshakes_refused_total"), Kind: Counter, LabelNames: []string{"status"},
		Help: "Opening handshakes answered with an HTTP error, by status (other: not in the table)."}
	for _, s := range m.HandshakesRefused {
		refused.Series = append(refused.Series, Series{LabelValues: []string{s.Label()}, Value: float64(s.Count)})
	}
	closes := Family{Name: n("closes_total"), Kind: Counter, LabelNames: []string{"by", "code"},
		Help: "Connections that opened and ended, by close status (application: 3000-4999) and by who started the closing handshake."}
	for _, c := range m.Closes {
		closes.Series = append(closes.Series, Series{LabelValues: []string{c.By(), c.Code}, Value: float64(c.Count)})
	}
	writes := Family{Name: n("writes_refused_total"), Kind: Counter, LabelNames: []string{"policy"},
		Help: "Writes that met the outbound cap, by WriteBufferPolicy: error (refused), drop (dropped), close (connection closed 1008).",
		Series: []Series{
			{LabelValues: []string{"close"}, Value: float64(m.WritesClosed)},
			{LabelValues: []string{"drop"}, Value: float64(m.WritesDropped)},
			{LabelValues: []string{"error"}, Value: float64(m.WritesRefused)},
		}}
	h := &Hist{Count: m.PingRTT.Count, Sum: m.PingRTT.Sum.Seconds(), Counts: m.PingRTT.Counts}
	for _, b := range m.PingRTT.Bounds {
		h.Bounds = append(h.Bounds, b.Seconds())
	}
	return []Family{
		one("connections", "WebSocket connections now, handshakes in progress included.", Gauge, float64(m.Conns)),
		one("connections_opened_total", "Connections taken on: accepted, adopted or dialled.", Counter, float64(m.Opened)),
		one("connections_closed_total", "Connections that have ended.", Counter, float64(m.Closed)),
		one("handshakes_accepted_total", "Opening handshakes answered 101 by the server.", Counter, float64(m.HandshakesAccepted)),
		refused,
		one("handshakes_timed_out_total", "Opening handshakes on the event loops that did not finish within the handshake timeout.", Counter, float64(m.HandshakesTimedOut)),
		one("messages_received_total", "Data messages received.", Counter, float64(m.MessagesIn)),
		one("messages_sent_total", "Data messages sent.", Counter, float64(m.MessagesOut)),
		one("frames_received_total", "Frames received, control frames included.", Counter, float64(m.FramesIn)),
		one("frames_sent_total", "Frames sent, control frames included.", Counter, float64(m.FramesOut)),
		one("bytes_received_total", "Bytes received on WebSocket connections.", Counter, float64(m.BytesIn)),
		one("bytes_sent_total", "Bytes sent on WebSocket connections.", Counter, float64(m.BytesOut)),
		closes,
		writes,
		one("loop_takeovers_total", "Times a handler held an event loop for 20 ms and another goroutine took the loop over.", Counter, float64(m.LoopTakeovers)),
		one("buffered_bytes", "Memory holding outbound bytes queued now, all connections together.", Gauge, float64(m.Buffered)),
		one("buffered_inbound_bytes", "Memory holding partial inbound frames and messages now, all connections together.", Gauge, float64(m.BufferedInbound)),
		{Name: n("ping_rtt_seconds"), Kind: Histogram, Help: "Round trips of PingRTT pings to their pongs.", Series: []Series{{Hist: h}}},
	}
}

// formatValue writes v as Prometheus reads it: integers without exponent.
func formatValue(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}
