// Package metrics publishes a Server's or a Client's operator metrics
// (engine.Metrics) without a dependency outside the standard library: as an
// expvar variable (PublishExpvar), and in the Prometheus text exposition
// format (Handler, WriteText), which is what `weir serve -metrics` serves at
// /metrics. Families describes the metrics once — names, help, types, labels —
// for both, and for adapters to other systems: the module
// github.com/weir-ws/weir/metrics/prom builds a prometheus.Collector on it for
// programs that already use client_golang.
//
// # Cost
//
// Nothing here runs per message. A scrape calls Source.Metrics once (a walk
// over the connections under the engine's stats lock, plus a few dozen atomic
// loads; see engine.Metrics) and formats 64 series (the histogram as one). The engine keeps the
// counters whether or not anything publishes them.
//
// # Contract
//
// Names and label values are fixed by this package: every label value comes
// from a fixed table (HTTP statuses, close codes, policies), never from the
// network, so the number of series is bounded whatever peers send.
// docs/metrics.md lists every metric.
package metrics
