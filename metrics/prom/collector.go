package prom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/metrics"
)

// Collector is a prometheus.Collector over a metrics.Source.
type Collector struct {
	src   metrics.Source
	ns    string
	descs []*prometheus.Desc // one per family, in metrics.Families' order
}

// NewCollector returns a collector for src (an *engine.Server or
// *engine.Client) with metric names prefixed by namespace
// (metrics.DefaultNamespace when empty). constLabels, when not nil, are added
// to every metric (for example {"server": "edge"} to tell several apart).
func NewCollector(src metrics.Source, namespace string, constLabels prometheus.Labels) *Collector {
	c := &Collector{src: src, ns: namespace}
	for _, f := range metrics.Families(engine.Metrics{}, namespace) {
		c.descs = append(c.descs, prometheus.NewDesc(f.Name, f.Help, f.LabelNames, constLabels))
	}
	return c
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector: one snapshot, const metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	fams := metrics.Families(c.src.Metrics(), c.ns)
	for i, f := range fams {
		d := c.descs[i]
		for _, s := range f.Series {
			switch f.Kind {
			case metrics.Counter:
				ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, s.Value, s.LabelValues...)
			case metrics.Gauge:
				ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, s.Value, s.LabelValues...)
			case metrics.Histogram:
				h := s.Hist
				buckets := make(map[float64]uint64, len(h.Bounds))
				for j, b := range h.Bounds {
					buckets[b] = h.Counts[j]
				}
				ch <- prometheus.MustNewConstHistogram(d, h.Count, h.Sum, buckets, s.LabelValues...)
			}
		}
	}
}
