package main

import (
	"math"
	"sync/atomic"
)

// Latency histogram: log-spaced buckets, 2% wide, from 1 µs to about 100 s, so
// p50/p99/p999 come out within 2% without keeping every sample. Buckets are atomic
// because weir's client calls OnMessage from several workers at once.
const (
	histGrowth  = 1.02
	histBuckets = 1000
	histMinNs   = 1000.0
)

var histLogG = math.Log(histGrowth)

type hist struct{ b [histBuckets]atomic.Uint64 }

func histIndex(ns int64) int {
	if float64(ns) <= histMinNs {
		return 0
	}
	i := int(math.Log(float64(ns)/histMinNs)/histLogG) + 1
	return min(i, histBuckets-1)
}

// histUpper is the upper bound (ns) of bucket i.
func histUpper(i int) float64 { return histMinNs * math.Pow(histGrowth, float64(i)) }

func (h *hist) add(ns int64) { h.b[histIndex(ns)].Add(1) }

// snapshot copies and zeroes the counts.
func (h *hist) snapshot() []uint64 {
	out := make([]uint64, histBuckets)
	for i := range h.b {
		out[i] = h.b[i].Swap(0)
	}
	return out
}

// quantile returns the q-quantile (0..1) of merged counts, in microseconds.
func quantile(counts []uint64, q float64) float64 {
	var total uint64
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= rank {
			return histUpper(i) / 1000
		}
	}
	return histUpper(len(counts)-1) / 1000
}
