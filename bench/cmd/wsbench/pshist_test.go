package main

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestHistQuantileError checks histQuantile against the exact order
// statistic (the ceil(q·n)-th smallest sample) on samples spread from
// 1 µs to 100 s: within 0.1 % (the bound pshist.go states; the issue asks
// for 1 %), for every quantile the benchmark reports and the extremes.
func TestHistQuantileError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		gen  func(r *rand.Rand) float64 // µs
		n    int
	}{
		{"log-uniform 1 µs..100 s", func(r *rand.Rand) float64 { return math.Exp(r.Float64() * math.Log(1e8)) }, 20000},
		{"around 100 ms, 2 ms wide", func(r *rand.Rand) float64 { return 99e3 + r.Float64()*2e3 }, 5000},
		{"two clusters 1 ms apart", func(r *rand.Rand) float64 { return 84e3 + float64(r.IntN(2))*1e3 + r.Float64()*10 }, 1001},
		{"sub-ms", func(r *rand.Rand) float64 { return 50 + r.Float64()*900 }, 3},
		{"one sample", func(r *rand.Rand) float64 { return 12345.6 }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(1, uint64(tt.n)))
			h := make([]uint64, histBuckets)
			s := make([]float64, tt.n)
			for i := range s {
				s[i] = tt.gen(r)
				h[histIdx(s[i])]++
			}
			slices.Sort(s)
			for _, q := range []float64{0, .001, .1, .5, .9, .99, .999, 1} {
				exact := s[max(1, int(math.Ceil(q*float64(len(s)))))-1]
				got := histQuantile(h, q)
				if e := math.Abs(got-exact) / exact; e > 0.001 {
					t.Errorf("q%g = %.3f µs, exact %.3f µs: relative error %.5f > 0.001", q, got, exact, e)
				}
			}
		})
	}
}

func TestHistEdges(t *testing.T) {
	t.Parallel()
	if got := histQuantile(make([]uint64, histBuckets), .5); got != 0 {
		t.Errorf("empty: %v, want 0", got)
	}
	for _, tt := range []struct {
		us   float64
		want int
	}{{0, 0}, {-5, 0}, {math.NaN(), 0}, {0.999, 0}, {1, 1}, {1e12, histBuckets - 1}, {math.Inf(1), histBuckets - 1}} {
		if got := histIdx(tt.us); got != tt.want {
			t.Errorf("histIdx(%v) = %d, want %d", tt.us, got, tt.want)
		}
	}
	if top := histUs(histBuckets - 2); top < 100e6 {
		t.Errorf("the histogram ends at %.0f µs, want 100 s or more", top)
	}
}

func TestHistAddSparse(t *testing.T) {
	t.Parallel()
	g := &psGen{}
	for _, us := range []float64{10, 10, 5000, 1e5} {
		g.hist[histIdx(us)].Add(1)
	}
	rep := g.report()
	if len(rep.Hist) != 6 {
		t.Fatalf("sparse histogram %v: want 3 pairs", rep.Hist)
	}
	h := make([]uint64, histBuckets)
	histAddSparse(h, rep.Hist)
	histAddSparse(h, rep.Hist)
	histAddSparse(h, []uint64{histBuckets, 7, 3}) // out of range, odd length: ignored
	if got := h[histIdx(10)]; got != 4 {
		t.Errorf("bucket of 10 µs: %d, want 4", got)
	}
	if got := histQuantile(h, .5); math.Abs(got-10)/10 > 0.001 {
		t.Errorf("p50 %.3f, want 10", got)
	}
	if got := histQuantile(h, 1); math.Abs(got-1e5)/1e5 > 0.001 {
		t.Errorf("max %.3f, want 1e5", got)
	}
}

func TestTraceTable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Two publishes (stamps 1e9 and 2e9 ns): A's ingress 1 ms after the
	// stamp, its write 2 ms after, B's deliver 5 ms after; the second
	// publish has no B events (lost), and a duplicate later write of the
	// first is ignored (first time kept).
	a := "in 1000000000 1001000000\nw 1000000000 1002000000\nw 1000000000 1009000000\nin 2000000000 2001000000\nbad line\n"
	b := "d 1000000000 1005000000\n"
	os.WriteFile(filepath.Join(dir, "r0-A.trace"), []byte(a), 0o644)
	os.WriteFile(filepath.Join(dir, "r0-B.trace"), []byte(b), 0o644)
	out, err := psTraces(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| publisher → node A's ingress calls Hub.Publish | stamp → A.in | 2 | 1.000 | 1.000 | 1.000 |",
		"| hop: node A's Hub.Publish → node B's deliver | A.in → B.d | 1 | 4.000 | 4.000 | 4.000 |",
		"| publisher → node B's deliver | stamp → B.d | 1 | 5.000 | 5.000 | 5.000 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "A.w → A.wd") {
		t.Errorf("a segment with no events printed:\n%s", out)
	}
}
