package loadgen

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	t.Parallel()
	us := int64(time.Microsecond)
	tests := []struct {
		name    string
		samples map[int64]int // ns -> count
		q       float64
		want    time.Duration // the true value; the answer may be up to 2% above
	}{
		{"empty", nil, .5, 0},
		{"one sample", map[int64]int{100 * us: 1}, .5, 100 * time.Microsecond},
		{"one sample p999", map[int64]int{100 * us: 1}, .999, 100 * time.Microsecond},
		{"median of three", map[int64]int{10 * us: 1, 20 * us: 1, 30 * us: 1}, .5, 20 * time.Microsecond},
		{"p99 below the tail", map[int64]int{10 * us: 990, 5000 * us: 10}, .99, 10 * time.Microsecond},
		{"p999 in the tail", map[int64]int{10 * us: 990, 5000 * us: 10}, .999, 5 * time.Millisecond},
		{"q=1 is the maximum", map[int64]int{10 * us: 5, 7000 * us: 1}, 1, 7 * time.Millisecond},
		{"below 1µs counts as 1µs", map[int64]int{300: 4}, .5, time.Microsecond},
		{"beyond the last bucket is clamped", map[int64]int{int64(time.Hour): 1}, .5, time.Duration(histUpper(histBuckets - 1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var h hist
			for ns, n := range tt.samples {
				for range n {
					h.add(ns)
				}
			}
			got := h.read().Quantile(tt.q)
			if got < tt.want || float64(got) > float64(tt.want)*histGrowth*(1+1e-9) {
				t.Fatalf("Quantile(%v) = %v, want %v to 2%% above", tt.q, got, tt.want)
			}
		})
	}
}

func TestQuantilesOrdered(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	var h hist
	for range 100000 {
		h.add(int64(r.ExpFloat64() * 200e3)) // exponential, mean 200 µs
	}
	c := h.read()
	p50, p99, p999 := c.Quantile(.5), c.Quantile(.99), c.Quantile(.999)
	if !(0 < p50 && p50 <= p99 && p99 <= p999) {
		t.Fatalf("p50 %v, p99 %v, p999 %v: not ordered", p50, p99, p999)
	}
}

// TestHistBucketBounds checks that every sample's bucket bound lies at or above it
// and at most one bucket width above.
func TestHistBucketBounds(t *testing.T) {
	t.Parallel()
	for ns := int64(1001); ns < int64(100*time.Second); ns = ns*1013/1000 + 1 {
		up := histUpper(histIndex(ns))
		if up < float64(ns) || up > float64(ns)*histGrowth*(1+1e-9) {
			t.Fatalf("sample %d ns: bucket bound %.0f", ns, up)
		}
	}
}

func TestHistMergeAndReset(t *testing.T) {
	t.Parallel()
	var h Hist
	h.Merge(Hist{1, 2})
	h.Merge(Hist{0, 1, 5})
	h.Merge(nil)
	if want := (Hist{1, 3, 5}); !reflect.DeepEqual(h, want) {
		t.Fatalf("merged %v, want %v", h, want)
	}
	if h.Count() != 9 {
		t.Fatalf("Count %d, want 9", h.Count())
	}
	var live hist
	live.add(5000)
	live.reset()
	if n := live.read().Count(); n != 0 {
		t.Fatalf("after reset: %d samples", n)
	}
}

func TestHistJSON(t *testing.T) {
	t.Parallel()
	var h hist
	h.add(2000)
	h.add(40000)
	in := Event{Ev: EvResult, Msgs: 2, Hist: h.read()}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Event
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip: %+v", out)
	}
}

func TestHistAddAllocs(t *testing.T) {
	var h hist
	if n := testing.AllocsPerRun(100, func() { h.add(123456) }); n != 0 {
		t.Fatalf("hist.add: %v allocs", n)
	}
}

func BenchmarkHistAdd(b *testing.B) {
	b.ReportAllocs()
	var h hist
	ns := int64(1000)
	for b.Loop() {
		h.add(ns)
		ns = ns*1031/1000 + 1
		if ns > int64(time.Second) {
			ns = 1000
		}
	}
}
