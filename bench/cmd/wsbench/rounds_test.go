package main

import (
	"slices"
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
