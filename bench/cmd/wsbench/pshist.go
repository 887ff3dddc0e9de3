package main

import "math"

// The pub/sub latency histogram: log buckets of growth 1.002 from 1 µs to
// about 120 s. A quantile is the geometric middle of the bucket holding the
// sample of its rank, so it is within 0.1 % of that sample (0.1 ms at a
// 100 ms p50): two nodes' p50s can be told apart by much less than a
// millisecond even where the fan-out's spread puts them near 100 ms. (The
// buckets used to be 10 % wide: 8-14 ms at the nats shape's 80-140 ms.)

const histBuckets = 9300 // 1.002^9300 µs ≈ 120 s

var histG = math.Log(1.002)

// histIdx is the bucket of a latency of us µs: 0 below 1 µs, i for
// [histG^(i-1), histG^i), the last for anything beyond.
func histIdx(us float64) int {
	if !(us >= 1) { // NaN too
		return 0
	}
	return int(min(histBuckets-1, math.Log(us)/histG+1))
}

// histUs is bucket i's value in µs: the geometric middle of its bounds (1 µs
// for bucket 0, everything below 1 µs).
func histUs(i int) float64 {
	if i <= 0 {
		return 1
	}
	return math.Exp((float64(i) - 0.5) * histG)
}

// histQuantile is the q-quantile of h in µs: the value of the bucket holding
// the ceil(q·n)-th smallest sample (the first when q is 0), 0 when h is empty.
func histQuantile(h []uint64, q float64) float64 {
	var total uint64
	for _, v := range h {
		total += v
	}
	if total == 0 {
		return 0
	}
	want := max(1, uint64(math.Ceil(q*float64(total))))
	var acc uint64
	for i, v := range h {
		acc += v
		if acc >= want {
			return histUs(i)
		}
	}
	return histUs(len(h) - 1)
}

// histAddSparse adds a report's sparse histogram (index, count pairs) to h,
// ignoring indexes out of range.
func histAddSparse(h []uint64, sparse []uint64) {
	for i := 0; i+1 < len(sparse); i += 2 {
		if sparse[i] < uint64(len(h)) {
			h[sparse[i]] += sparse[i+1]
		}
	}
}
