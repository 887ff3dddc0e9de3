package turns

import (
	"math"
	"testing"
	"time"
)

// stuckTurns returns a Turns started with the given callbacks whose clock
// began a second ago, so a turn that began at 1 has lasted a second.
func stuckTurns(stopped, takeOver func() bool) *Turns {
	t := &Turns{}
	t.Start(stopped, takeOver)
	t.base = time.Now().Add(-time.Second)
	return t
}

func TestOnLoop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		n         int
		slowUntil int64
		want      bool
	}{
		{"one event", 1, 0, true},
		{"a full batch", Batch, 0, true},
		{"over the batch", Batch + 1, 0, false},
		{"slow phase", 1, math.MaxInt64, false},
		{"slow phase over", 1, 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := &Turns{}
			tr.Start(func() bool { return true }, func() bool { return true })
			defer tr.Stop()
			tr.SetSlowUntil(tc.slowUntil)
			if got := tr.OnLoop(tc.n); got != tc.want {
				t.Fatalf("OnLoop(%d) = %v, want %v", tc.n, got, tc.want)
			}
		})
	}
}

// TestSlowTurnStartsSlowPhase: a turn of SlowTurn or more sends the batches
// of the next SlowFor to the pool. (Whether a quick turn stays on the loop is
// not asserted: on a loaded machine even an empty turn may take 0.5 ms.)
func TestSlowTurnStartsSlowPhase(t *testing.T) {
	t.Parallel()
	tr := &Turns{}
	tr.Start(func() bool { return true }, func() bool { return true }) // watchdog idle
	defer tr.Stop()
	s := tr.Begin()
	tr.End(s - int64(SlowTurn)) // as if it began SlowTurn earlier
	if tr.OnLoop(1) {
		t.Fatalf("a turn of SlowTurn did not start a slow phase")
	}
	if left := time.Duration(tr.slowUntil.Load() - tr.now()); left <= 0 || left > SlowFor {
		t.Fatalf("slow phase ends in %v, want within (0, %v]", left, SlowFor)
	}
}

// TestWatchdogTakesOverOnce: a turn that has lasted StuckAfter is left behind
// once; later looks of the watchdog start no second runner for it.
func TestWatchdogTakesOverOnce(t *testing.T) {
	t.Parallel()
	var calls int
	var tr *Turns
	tr = stuckTurns(func() bool { return false }, func() bool {
		calls++
		tr.LeaveBehind()
		return true
	})
	defer tr.Stop()
	gen := tr.Gen()
	tr.start.Store(1)
	tr.watchdog()
	if calls != 1 || tr.Gen() != gen+1 {
		t.Fatalf("after a stuck turn: %d takeovers, generation %d; want 1, %d", calls, tr.Gen(), gen+1)
	}
	tr.watchdog()
	if calls != 1 {
		t.Fatalf("the same stuck turn was taken over %d times", calls)
	}
	if tr.watching.Load() {
		t.Fatalf("the watchdog stays armed with no turns coming")
	}
}

// TestWatchdogStopped: once the loop stops, a stuck turn starts no runner, and
// one that stopped meanwhile (takeOver false) does not re-arm the timer.
func TestWatchdogStopped(t *testing.T) {
	t.Parallel()
	var calls int
	tr := stuckTurns(func() bool { return true }, func() bool { calls++; return true })
	defer tr.Stop()
	tr.start.Store(1)
	tr.watchdog()
	if calls != 0 {
		t.Fatalf("a stopped loop was taken over")
	}

	tr = stuckTurns(func() bool { return false }, func() bool { calls++; return false })
	defer tr.Stop()
	tr.start.Store(1)
	tr.busy.Store(true)
	tr.watching.Store(true)
	tr.watchdog()
	if calls != 1 || !tr.busy.Load() {
		t.Fatalf("stopped during the takeover: %d calls, busy %v; want 1 call and nothing more done", calls, tr.busy.Load())
	}
}

// TestTakeoversLogRate: every takeover is counted; one log line per LogEvery.
func TestTakeoversLogRate(t *testing.T) {
	t.Parallel()
	var k Takeovers
	t0 := time.Unix(1000, 0)
	steps := []struct {
		at  time.Duration
		log bool
	}{{0, true}, {time.Second, false}, {LogEvery - time.Second, false}, {LogEvery, true}, {LogEvery + time.Second, false}}
	for i, s := range steps {
		n, log := k.Count(t0.Add(s.at))
		if n != uint64(i+1) || log != s.log {
			t.Fatalf("step %d: count %d, log %v; want %d, %v", i, n, log, i+1, s.log)
		}
	}
	if k.Load() != uint64(len(steps)) {
		t.Fatalf("Load = %d", k.Load())
	}
}

// BenchmarkTurn is the bookkeeping of one turn on the loop: OnLoop, Gen,
// Begin and End (the watchdog armed once, as under steady turns).
func BenchmarkTurn(b *testing.B) {
	b.ReportAllocs()
	tr := &Turns{}
	tr.Start(func() bool { return true }, func() bool { return true })
	defer tr.Stop()
	for b.Loop() {
		if tr.OnLoop(1) && tr.Gen() == 0 {
			tr.End(tr.Begin())
		}
	}
}

// TestLeftBehindBeforeGenMoves: the watchdog claims a stuck turn and only then
// bumps the generation (in takeOver, after the engine's stop lock). A turn that
// ends in between must still learn it was left behind: a runner that went by
// Gen alone polled on beside the new runner (-race saw two goroutines in one
// loop's poller and timing wheel, under load).
func TestLeftBehindBeforeGenMoves(t *testing.T) {
	t.Parallel()
	claimed, bump := make(chan struct{}), make(chan struct{})
	var tr *Turns
	tr = stuckTurns(func() bool { return false }, func() bool {
		close(claimed)
		<-bump // descheduled between the claim and the bump
		tr.LeaveBehind()
		return true
	})
	defer tr.Stop()
	gen := tr.Gen()
	tr.Begin()
	const s = 1
	tr.start.Store(s) // as if the turn began a second ago (stuckTurns' clock): stuck
	go tr.watchdog()
	<-claimed
	left := tr.End(s)
	if tr.Gen() != gen {
		t.Fatal("the generation moved before the bump")
	}
	// The old runner's check was Gen() == its generation: true here, so it
	// went on running the loop.
	if !left {
		t.Fatal("a turn the watchdog claimed ended without being told it was left behind")
	}
	close(bump)
}
