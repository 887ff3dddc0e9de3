package interop

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/defaults"
)

// Clients that never read, under a 4 KiB broadcast every 10 ms: with
// keepalive off (every one of them stays for the whole run, so the budget is
// full the whole time), and with keepalive on, with and without pongs to keep
// themselves alive. The policy refuses what does not fit.
//
// The baseline is the server with its clients already open and idle (what
// they cost idle is not the broadcast's memory). What weir holds for queued
// output never passes the budget (Config.MaxTotalBuffered), to the byte: the
// queues (BufferedAmount, in whole pages, buffers in motion included) and the
// pool's resident memory, in use and warm, which its peak in use bounds
// (internal/pagepool); both stop at the queues' share of the budget
// (defaults.QueueShare: the budget less 2 MiB, or a quarter of it when
// smaller). RSS grows by that and by what the rest of the process grows by,
// which the test prints part by part: the first time a process meets the
// attack, its code paged in from the binary, thread stacks, the collector's
// metadata, the pool's free lists on the heap (0.69-0.93 MiB measured with
// 2,000 clients, bench/results/attack12-2026-12-06.md; about nothing in the
// second round that -attack-long runs in the same process with new clients).
// The headroom holds it: RSS grows by at most the budget, as configured.
func TestAttackBroadcastNeverRead(t *testing.T) {
	attackParallel(t)
	// Short: fewer clients and bigger messages, so that the kernel's socket
	// buffers (megabytes each on loopback) fill within seconds.
	n, size, dur, budget := 100, 32<<10, 4*time.Second, int64(8<<20)
	if *attackLong {
		n, size, dur, budget = 2000, 4<<10, 30*time.Second, attackBroadcastBudget
	}
	for _, tc := range []struct {
		name      string
		keepalive bool
		pongs     bool
	}{{"keepalive off", false, false}, {"keepalive, no pongs", true, false}, {"keepalive, pongs", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			recordAttack(t, 4, "pool, "+tc.name)
			ping := "-1ns"
			if tc.keepalive {
				ping = "1s"
			}
			tg := startTarget(t, "-mode", "pool", "-broadcast-wait", "-broadcast-every", "10ms", "-broadcast-size", fmt.Sprint(size), "-ping", ping, "-pong-timeout", "2s", "-max-total-buffered", fmt.Sprint(budget))
			tg.alive(t)
			rounds := 1
			if *attackLong {
				rounds = 2
			}
			for round := 1; round <= rounds; round++ {
				r := broadcastRound(t, tg, n, dur, tc.pongs, !tc.keepalive)
				// The pool's buffers resident at the baseline (warm from the
				// round before) count as growth: the budget holds them too.
				poolAt := func(m targetMem) int64 { return m.PoolInUse + m.PoolWarm }
				grown := r.peak - (r.before.RSS - poolAt(r.before))
				rest := grown - poolAt(r.atPeak)
				t.Logf("round %d: %d never-reading clients, %s, %v of %d B every 10 ms: RSS %+.2f MiB past the idle connections (which cost %.1f MiB; pool resident at the start %.2f MiB, counted as growth) = pool resident %.2f + rest %+.2f; budget %.0f MiB (queues' peak %.2f MiB, pool's peak in use %.2f MiB), %d writes refused, %d connections left, %d bytes out",
					round, n, tc.name, dur, size, mib(grown), mib(r.idle), mib(poolAt(r.before)), mib(poolAt(r.atPeak)), mib(rest), mib(budget), mib(r.budgetPeak), mib(r.last.PoolPeak), r.last.WritesRefused, r.last.Conns, r.last.Stats.BytesOut)
				t.Logf("round %d, at the RSS peak: %s", round, breakdown(r.before, r.atPeak))
				share := defaults.QueueShare(budget)
				if r.budgetPeak > share {
					t.Errorf("round %d: the queues held %.2f MiB, over their share %.2f MiB of the budget of %.0f MiB", round, mib(r.budgetPeak), mib(share), mib(budget))
				}
				if r.last.PoolPeak > share {
					t.Errorf("round %d: the pool had %.2f MiB in use at its peak, over the queues' share %.2f MiB of the budget of %.0f MiB", round, mib(r.last.PoolPeak), mib(share), mib(budget))
				}
				if grown > budget {
					t.Errorf("round %d: RSS grew %.2f MiB, over the budget of %.0f MiB (pool %.2f, rest %.2f)", round, mib(grown), mib(budget), mib(poolAt(r.atPeak)), mib(rest))
				}
				if !tc.keepalive && r.last.WritesRefused == 0 {
					t.Errorf("round %d: no write was refused: the budget was never reached", round)
				}
				if !tc.keepalive && r.last.Conns < n {
					t.Errorf("round %d: %d of %d connections left with keepalive off", round, r.last.Conns, n)
				}
				tg.alive(t)
			}
		})
	}
}

// broadcastMeasure is what one round of TestAttackBroadcastNeverRead saw.
type broadcastMeasure struct {
	idle             int64     // RSS the idle clients cost
	before           targetMem // the baseline: the clients open and idle
	peak, budgetPeak int64     // highest RSS and BufferedAmount sampled
	atPeak, last     targetMem
}

// broadcastRound opens n never-reading clients on tg (sending a pong every
// 500 ms with pongs), measures the baseline, runs the broadcast for dur
// sampling the server's memory every dur/20 (with untilRefused, on until a
// write is refused, up to 4×dur), then stops it, closes the clients and
// waits for the server to let every one of them go.
func broadcastRound(t *testing.T, tg *target, n int, dur time.Duration, pongs, untilRefused bool) broadcastMeasure {
	t.Helper()
	var r broadcastMeasure
	empty := tg.memory(t)
	conns := openRawN(t, tg.ws, n)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if pongs {
		for _, r := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tk := time.NewTicker(500 * time.Millisecond)
				defer tk.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tk.C:
						if r.write(cf(true, frame.OpPong, nil)) != nil {
							return
						}
					}
				}
			}()
		}
	}
	time.Sleep(time.Second) // the connections settle (pongs included)
	r.before = tg.memory(t)
	r.idle = r.before.RSS - empty.RSS
	tg.saveProfileAs(t, "heap", "heap-before")
	tg.startBroadcast(t)
	sample := func() targetMem {
		m := tg.memory(t)
		if m.RSS > r.peak {
			r.peak, r.atPeak = m.RSS, m
		}
		r.budgetPeak = max(r.budgetPeak, m.Budget)
		return m
	}
	// Sample for dur; without keepalive, on until the first write is refused
	// (up to 4×dur): on a busy machine the broadcast may not fill the
	// kernel's socket buffers (up to tcp_wmem's 4 MiB each) within dur.
	start := time.Now()
	for m := (targetMem{}); time.Since(start) < dur || untilRefused && m.WritesRefused == 0 && time.Since(start) < 4*dur; {
		time.Sleep(dur / 20)
		m = sample()
	}
	tg.stopBroadcast(t)
	close(stop)
	wg.Wait()
	r.last = sample()
	tg.saveProfile(t, "allocs")
	tg.saveProfileAs(t, "heap", "heap-after")
	for _, c := range conns {
		c.nc.Close()
	}
	var m targetMem
	if !waitFor(badTimeout, func() bool { m = tg.memory(t); return m.Conns == 0 && m.Budget == 0 }) {
		t.Fatalf("%d connections and %d bytes of budget left after the clients went", m.Conns, m.Budget)
	}
	return r
}

// attackBroadcastBudget is the target's Config.MaxTotalBuffered in the long
// broadcast case.
const attackBroadcastBudget = 64 << 20
