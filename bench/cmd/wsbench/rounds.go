package main

import (
	"encoding/json"
	"fmt"
	"os"
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
			return median(v)
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

// medianStorms folds storm rows of the same server into one, as medianCells
// does for echo cells.
func medianStorms(rows []StormRow) []StormRow {
	var order []string
	groups := map[string][]StormRow{}
	for _, e := range rows {
		if _, ok := groups[e.Server]; !ok {
			order = append(order, e.Server)
		}
		groups[e.Server] = append(groups[e.Server], e)
	}
	out := make([]StormRow, 0, len(order))
	for _, name := range order {
		g := groups[name]
		if len(g) == 1 {
			out = append(out, g[0])
			continue
		}
		med := func(f func(StormRow) float64) float64 {
			v := make([]float64, len(g))
			for i, e := range g {
				v[i] = f(e)
			}
			return median(v)
		}
		m := g[0]
		m.Handshakes = int64(med(func(e StormRow) float64 { return float64(e.Handshakes) }))
		m.Seconds = med(func(e StormRow) float64 { return e.Seconds })
		m.PerSec = med(func(e StormRow) float64 { return e.PerSec })
		m.CPUPerHSus = med(func(e StormRow) float64 { return e.CPUPerHSus })
		m.Errors, m.RoundsPerSec = 0, nil
		for _, e := range g {
			m.Errors += e.Errors
			m.RoundsPerSec = append(m.RoundsPerSec, e.PerSec)
		}
		out = append(out, m)
	}
	return out
}

// median of v (sorted in place).
func median(v []float64) float64 {
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// mergeInto reads an earlier results file and replaces the sections of the
// scenarios in ran with the new ones; the commands and durations add up.
func mergeInto(path string, fresh *Results, ran map[string]bool) *Results {
	b, err := os.ReadFile(path)
	if err != nil {
		fatal(err)
	}
	var old Results
	if err := json.Unmarshal(b, &old); err != nil {
		fatal(fmt.Errorf("%s: %w", path, err))
	}
	keepEcho := func(deflate bool) bool {
		return (deflate && !ran["deflate"]) || (!deflate && !ran["echo"])
	}
	echo := slices.DeleteFunc(old.Echo, func(e EchoRow) bool { return !keepEcho(e.Deflate) })
	old.Echo = append(echo, fresh.Echo...)
	idle := slices.DeleteFunc(old.Idle, func(e IdleRow) bool {
		return (e.Deflate && ran["deflate"]) || (!e.Deflate && ran["idle"])
	})
	old.Idle = append(idle, fresh.Idle...)
	if ran["broadcast"] {
		old.Bcast = fresh.Bcast
	}
	if ran["storm"] {
		old.Storm = fresh.Storm
	}
	old.Failures = append(old.Failures, fresh.Failures...)
	old.Command += "; " + fresh.Command
	old.Seconds += fresh.Seconds
	return &old
}
