package main

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestRotated(t *testing.T) {
	t.Parallel()
	s := []string{"a", "b", "c"}
	for _, tt := range []struct {
		k    int
		want []string
	}{{0, []string{"a", "b", "c"}}, {1, []string{"b", "c", "a"}}, {2, []string{"c", "a", "b"}}, {4, []string{"b", "c", "a"}}} {
		if got := rotated(s, tt.k); !slices.Equal(got, tt.want) {
			t.Errorf("rotated(%d) = %v, want %v", tt.k, got, tt.want)
		}
	}
	if !slices.Equal(s, []string{"a", "b", "c"}) {
		t.Errorf("input changed: %v", s)
	}
}

func TestMedianCells(t *testing.T) {
	t.Parallel()
	rows := []EchoRow{
		{Server: "weir", Conns: 1000, Size: 64, CPUPerMsg: 14, MsgsPerSec: 100, Errors: 1},
		{Server: "gws", Conns: 1000, Size: 64, CPUPerMsg: 20, MsgsPerSec: 50},
		{Server: "weir", Conns: 998, Size: 64, CPUPerMsg: 12, MsgsPerSec: 300, Errors: 2},
		{Server: "weir", Conns: 1000, Size: 64, CPUPerMsg: 30, MsgsPerSec: 200},
		{Server: "weir", Conns: 1000, Size: 64, Deflate: true, CPUPerMsg: 40},
	}
	got := medianCells(rows)
	if len(got) != 3 {
		t.Fatalf("%d cells, want 3: %+v", len(got), got)
	}
	w := got[0]
	if w.Server != "weir" || w.Deflate || w.CPUPerMsg != 14 || w.MsgsPerSec != 200 || w.Errors != 3 || w.Conns != 1000 {
		t.Errorf("weir cell %+v", w)
	}
	if !slices.Equal(w.RoundsCPU, []float64{14, 12, 30}) {
		t.Errorf("rounds %v", w.RoundsCPU)
	}
	if got[1].Server != "gws" || got[1].RoundsCPU != nil || got[1].CPUPerMsg != 20 {
		t.Errorf("single-round cell %+v", got[1])
	}
	if !got[2].Deflate || got[2].CPUPerMsg != 40 {
		t.Errorf("deflate cell %+v", got[2])
	}
}

func TestMedianStorms(t *testing.T) {
	t.Parallel()
	got := medianStorms([]StormRow{
		{Server: "weir", PerSec: 10, CPUPerHSus: 60, Errors: 1},
		{Server: "gws", PerSec: 9, CPUPerHSus: 70},
		{Server: "weir", PerSec: 12, CPUPerHSus: 50},
		{Server: "weir", PerSec: 11, CPUPerHSus: 55, Errors: 1},
	})
	if len(got) != 2 || got[0].Server != "weir" || got[0].PerSec != 11 || got[0].CPUPerHSus != 55 || got[0].Errors != 2 {
		t.Fatalf("got %+v", got)
	}
	if !slices.Equal(got[0].RoundsPerSec, []float64{10, 12, 11}) || got[1].RoundsPerSec != nil {
		t.Fatalf("rounds %+v", got)
	}
}

func TestMergeInto(t *testing.T) {
	t.Parallel()
	old := Results{Command: "wsbench run", Seconds: 100,
		Echo:  []EchoRow{{Server: "weir", Size: 64}, {Server: "weir", Deflate: true, Size: 1024}},
		Idle:  []IdleRow{{Server: "weir"}, {Server: "weir", Deflate: true}},
		Storm: []StormRow{{Server: "weir", PerSec: 1}},
		Bcast: []BcastRow{{Server: "weir"}}}
	path := t.TempDir() + "/r.json"
	b, _ := json.Marshal(old)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	fresh := &Results{Command: "wsbench run -scenarios storm", Seconds: 5, Storm: []StormRow{{Server: "weir", PerSec: 2}}}
	got := mergeInto(path, fresh, map[string]bool{"storm": true})
	if len(got.Echo) != 2 || len(got.Idle) != 2 || len(got.Bcast) != 1 {
		t.Errorf("kept sections changed: %+v", got)
	}
	if len(got.Storm) != 1 || got.Storm[0].PerSec != 2 {
		t.Errorf("storm %+v", got.Storm)
	}
	if got.Seconds != 105 || got.Command != "wsbench run; wsbench run -scenarios storm" {
		t.Errorf("command %q, seconds %v", got.Command, got.Seconds)
	}
}

// TestPickServersOrder: -servers decides the order the servers run in (a run
// that swaps the order must really swap it), unknown names are left out.
func TestPickServersOrder(t *testing.T) {
	t.Parallel()
	all := []server{{name: "weir"}, {name: "gws"}, {name: "gorilla"}, {name: "weir@main"}}
	for _, tc := range []struct{ list, want string }{
		{"weir,weir@main", "weir,weir@main"},
		{"weir@main,weir", "weir@main,weir"},
		{"gorilla,nope,weir", "gorilla,weir"},
		{"gws", "gws"},
	} {
		var got []string
		for _, s := range pickServers(all, tc.list) {
			got = append(got, s.name)
		}
		if g := strings.Join(got, ","); g != tc.want {
			t.Errorf("pickServers(%q) = %s, want %s", tc.list, g, tc.want)
		}
	}
	if all[0].name != "weir" || all[3].name != "weir@main" {
		t.Errorf("the list given was reordered: %v", all)
	}
}
