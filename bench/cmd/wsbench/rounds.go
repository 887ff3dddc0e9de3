package main

import (
	"slices"
)

// rotated returns s starting at index k mod len(s).
func rotated[T any](s []T, k int) []T {
	if len(s) == 0 {
		return s
	}
	k %= len(s)
	return append(slices.Clone(s[k:]), s[:k]...)
}

// medianCells folds echo rows of the same cell (server, deflate, size, nominal
// connection count) into one: the median of each figure over the rounds, the
// errors summed, and every round's CPU/msg kept in RoundsCPU. The order of first
// appearance is kept.
func medianCells(rows []EchoRow) []EchoRow {
	type key struct {
		server  string
		deflate bool
		conns   int
		size    int
	}
	var order []key
	groups := map[key][]EchoRow{}
	for _, e := range rows {
		k := key{e.Server, e.Deflate, nominal(e.Conns), e.Size}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], e)
	}
	out := make([]EchoRow, 0, len(order))
	for _, k := range order {
		g := groups[k]
		if len(g) == 1 {
			out = append(out, g[0])
			continue
		}
		med := func(f func(EchoRow) float64) float64 {
			v := make([]float64, len(g))
			for i, e := range g {
				v[i] = f(e)
			}
			slices.Sort(v)
			if len(v)%2 == 1 {
				return v[len(v)/2]
			}
			return (v[len(v)/2-1] + v[len(v)/2]) / 2
		}
		m := g[0]
		m.Conns = int(med(func(e EchoRow) float64 { return float64(e.Conns) }))
		m.Msgs = uint64(med(func(e EchoRow) float64 { return float64(e.Msgs) }))
		m.Seconds = med(func(e EchoRow) float64 { return e.Seconds })
		m.MsgsPerSec = med(func(e EchoRow) float64 { return e.MsgsPerSec })
		m.P50us = med(func(e EchoRow) float64 { return e.P50us })
		m.P99us = med(func(e EchoRow) float64 { return e.P99us })
		m.P999us = med(func(e EchoRow) float64 { return e.P999us })
		m.CPUSeconds = med(func(e EchoRow) float64 { return e.CPUSeconds })
		m.CPUPerMsg = med(func(e EchoRow) float64 { return e.CPUPerMsg })
		m.Errors = 0
		m.RoundsCPU = nil
		for _, e := range g {
			m.Errors += e.Errors
			m.RoundsCPU = append(m.RoundsCPU, e.CPUPerMsg)
		}
		out = append(out, m)
	}
	return out
}
