package loadgen

import (
	"math"
	"sync/atomic"
	"time"
)

// Latency histogram: log-spaced buckets, 2% wide, from 1 µs to about 400 s, so
// p50/p99/p999 come out within 2% without keeping every sample.
const (
	histGrowth  = 1.02
	histBuckets = 1000
	histMinNs   = 1000.0
)

var histLogG = math.Log(histGrowth)

// Hist is a latency histogram as counts per bucket: bucket 0 holds samples up to
// 1 µs, bucket i samples up to 1 µs × 1.02^i. It is a plain slice so that it
// travels in an Event as a JSON array and histograms from several generators merge
// by adding counts.
type Hist []uint64

// Merge adds o's counts to h, growing h as needed.
func (h *Hist) Merge(o Hist) {
	if len(*h) < len(o) {
		*h = append(*h, make(Hist, len(o)-len(*h))...)
	}
	for i, c := range o {
		(*h)[i] += c
	}
}

// Count is the number of samples in h.
func (h Hist) Count() uint64 {
	var n uint64
	for _, c := range h {
		n += c
	}
	return n
}

// Quantile returns the q-quantile (0 < q <= 1) of h: the upper bound of the bucket
// holding the sample of rank ⌈q·n⌉, so at most 2% above the true value. It is 0
// for an empty histogram.
func (h Hist) Quantile(q float64) time.Duration {
	total := h.Count()
	if total == 0 {
		return 0
	}
	rank := max(uint64(math.Ceil(q*float64(total))), 1)
	var seen uint64
	for i, c := range h {
		seen += c
		if seen >= rank {
			return time.Duration(histUpper(i))
		}
	}
	return time.Duration(histUpper(len(h) - 1))
}

// histIndex is the bucket of a sample of ns nanoseconds.
func histIndex(ns int64) int {
	if float64(ns) <= histMinNs {
		return 0
	}
	i := int(math.Log(float64(ns)/histMinNs)/histLogG) + 1
	return min(i, histBuckets-1)
}

// histUpper is the upper bound (ns) of bucket i.
func histUpper(i int) float64 { return histMinNs * math.Pow(histGrowth, float64(i)) }

// hist is the live histogram a generator adds to. Buckets are atomic because
// weir's client calls OnMessage from several workers at once.
type hist struct{ b [histBuckets]atomic.Uint64 }

// add records one sample; it does not allocate.
func (h *hist) add(ns int64) { h.b[histIndex(ns)].Add(1) }

// read copies the counts.
func (h *hist) read() Hist {
	out := make(Hist, histBuckets)
	for i := range h.b {
		out[i] = h.b[i].Load()
	}
	return out
}

// reset zeroes the counts.
func (h *hist) reset() {
	for i := range h.b {
		h.b[i].Store(0)
	}
}
