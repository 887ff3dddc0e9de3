// Package prom exposes a weir Server's or Client's operator metrics
// (engine.Metrics) to a Prometheus client_golang registry. It lives in a
// module of its own so that the main module does not depend on client_golang;
// `weir serve -metrics` serves the same metrics, under the same names, with
// package metrics' dependency-free text encoder (docs/metrics.md).
//
// The Collector takes one snapshot per scrape and turns it into constant
// metrics (prometheus.MustNewConstMetric, MustNewConstHistogram): nothing is
// called per message, and the metrics are exactly those of metrics.Families.
package prom
