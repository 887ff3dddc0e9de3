package main

import (
	"testing"
)

func TestPsStepOK(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		st   psStep
		want bool
	}{
		{"within", psStep{P99us: 50e3, Sent: 20, Delivered: 200, Expected: 200}, true},
		{"p99 over", psStep{P99us: 150e3, Sent: 20, Delivered: 200, Expected: 200}, false},
		{"short of deliveries", psStep{P99us: 50e3, Sent: 20, Delivered: 150, Expected: 200}, false},
		{"few publishes: not judged on deliveries", psStep{P99us: 50e3, Sent: 2, Delivered: 10, Expected: 200}, true},
		{"exactly 80 %", psStep{P99us: 100e3, Sent: 10, Delivered: 80, Expected: 100}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.st.ok(100); got != tt.want {
				t.Errorf("ok = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHistQuantile(t *testing.T) {
	t.Parallel()
	h := make([]uint64, histBuckets)
	for us := 1; us <= 1000; us++ {
		h[histIdx(float64(us))]++
	}
	for _, tt := range []struct{ q, lo, hi float64 }{
		{.5, 500, 550}, {.99, 990, 1090}, {1, 1000, 1100},
	} {
		if got := histQuantile(h, tt.q); got < tt.lo || got > tt.hi {
			t.Errorf("q%.2f = %.1f µs, want in [%v, %v]", tt.q, got, tt.lo, tt.hi)
		}
	}
	if got := histQuantile(make([]uint64, histBuckets), .5); got != 0 {
		t.Errorf("empty: %v", got)
	}
	if histIdx(1e12) != histBuckets-1 || histIdx(0) != 0 {
		t.Error("histIdx does not clamp")
	}
}
