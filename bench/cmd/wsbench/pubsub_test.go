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

func TestPsHop(t *testing.T) {
	t.Parallel()
	rep := func(kv ...int64) psReport {
		var r psReport
		for i := 0; i < len(kv); i += 2 {
			r.FirstStamps = append(r.FirstStamps, uint64(kv[i]))
			r.FirstNs = append(r.FirstNs, kv[i+1])
		}
		return r
	}
	tests := []struct {
		name     string
		a, b     []psReport
		n        int
		p50, p90 float64 // µs
	}{
		{"none", nil, nil, 0, 0, 0},
		{"no common publish", []psReport{rep(1, 1000)}, []psReport{rep(2, 5000)}, 0, 0, 0},
		{"paired by stamp", []psReport{rep(1, 1000, 2, 2000, 3, 3000)},
			[]psReport{rep(3, 6000, 1, 2000, 2, 4000, 4, 9000)}, 3, 2, 3},
		{"first of a node's processes", []psReport{rep(1, 5000), rep(1, 1000)},
			[]psReport{rep(1, 4000), rep(1, 3000)}, 1, 2, 2},
		{"B ahead of A", []psReport{rep(1, 3000)}, []psReport{rep(1, 1000)}, 1, -2, -2},
		{"short latency list ignored past its end", []psReport{{FirstStamps: []uint64{1, 2}, FirstNs: []int64{1000}}},
			[]psReport{rep(1, 2000, 2, 2000)}, 1, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, p50, p90 := psHop(tt.a, tt.b)
			if n != tt.n || p50 != tt.p50 || p90 != tt.p90 {
				t.Errorf("psHop = %d, %v, %v; want %d, %v, %v", n, p50, p90, tt.n, tt.p50, tt.p90)
			}
		})
	}
}

func TestPsGenFirsts(t *testing.T) {
	t.Parallel()
	g := &psGen{firstsOn: true, firsts: make(map[uint64]int64)}
	g.first(7, 300)
	g.first(7, 100)
	g.first(7, 200)
	if r := g.report(); len(r.FirstStamps) != 1 || r.FirstStamps[0] != 7 || r.FirstNs[0] != 100 {
		t.Fatalf("report: %v %v, want [7] [100]", r.FirstStamps, r.FirstNs)
	}
	for st := range uint64(maxFirsts + 10) {
		g.first(1000+st, 1)
	}
	if n := len(g.report().FirstStamps); n != maxFirsts {
		t.Errorf("%d publishes kept, want the bound %d", n, maxFirsts)
	}
	g.first(7, 50) // one already kept still gets its minimum
	g.mark()
	if n := len(g.report().FirstStamps); n != 0 {
		t.Errorf("after mark: %d kept", n)
	}
}
