package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weir-ws/weir/internal/loadgen"
)

// benchReport is a run's outcome (-json prints it as is). Rates are per second of
// the measured window; MB/s counts payload bytes each way (a round trip moves the
// message out and back).
type benchReport struct {
	Scenario         string  `json:"scenario"`
	Target           string  `json:"target"`
	Procs            int     `json:"procs"`
	Sources          int     `json:"sources"`
	Conns            int     `json:"conns"`      // asked for
	Up               int64   `json:"up"`         // opened
	Failed           int64   `json:"failed"`     // dials that failed
	Open             int64   `json:"open"`       // still open at the end
	Compressed       int64   `json:"compressed"` // negotiated permessage-deflate
	Size             int     `json:"size"`
	Text             bool    `json:"text"`
	Seconds          float64 `json:"seconds"`
	Msgs             uint64  `json:"msgs"`
	MsgsPerSec       float64 `json:"msgs_per_sec"`
	MBPerSec         float64 `json:"mb_per_sec"`
	Handshakes       uint64  `json:"handshakes"`
	HandshakesPerSec float64 `json:"handshakes_per_sec"`
	// Rate is the open loop's (fanout: the publishers') schedule, messages/s in
	// all; Sent the messages due in the measured window and sent (a message due
	// before it, sent late, is warm-up traffic). Msgs then counts echoes
	// (fanout: deliveries, one per connection a message reached).
	Rate       float64 `json:"rate,omitempty"`
	Publishers int     `json:"publishers,omitempty"`
	Sent       uint64  `json:"sent,omitempty"`
	// Percentiles of the round trip (open loop: from the scheduled send time;
	// fanout: of the delivery, from the scheduled send time; storm: of the
	// handshake), in microseconds.
	P50us  float64 `json:"p50_us"`
	P99us  float64 `json:"p99_us"`
	P999us float64 `json:"p999_us"`
	// Errors adds failed dials, connections lost before the end, failed writes,
	// echoes of the wrong size and failed storm dials.
	Errors uint64 `json:"errors"`
}

// benchRun is one run in progress.
type benchRun struct {
	cfg  benchConfig
	f    *loadgen.Fleet
	prog *benchProgress
	rep  benchReport
}

// runBench starts the generators, runs the scenario and returns the report.
// Progress goes to stderr, as a line rewritten in place when tty is set.
func runBench(ctx context.Context, cfg benchConfig, stderr io.Writer, tty bool) (*benchReport, error) {
	opts := cfg.split()
	var spawn loadgen.Spawn
	if len(opts) > 1 { // one generator runs in this process
		self, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("bench: finding this executable to run children: %w", err)
		}
		spawn = benchSpawn(self, stderr)
	}
	f, err := loadgen.StartFleet(ctx, opts, spawn, stderr)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := &benchRun{cfg: cfg, f: f, prog: &benchProgress{w: stderr, tty: tty, label: cfg.scenario}}
	defer b.prog.end()
	b.rep = benchReport{Scenario: cfg.scenario, Target: cfg.target, Procs: cfg.procs, Sources: cfg.src,
		Conns: cfg.conns, Size: cfg.size, Text: cfg.text, Rate: cfg.rate, Publishers: cfg.publishers}
	if err := b.connect(ctx); err != nil {
		return nil, err
	}
	if b.rep.Up == 0 && cfg.scenario != "storm" {
		b.finish(loadgen.Event{}) // nothing to run on: report at once
		return &b.rep, nil
	}
	switch cfg.scenario {
	case "echo", "fanout":
		err = b.echo(ctx)
	case "idle":
		err = b.idle(ctx)
	case "storm":
		err = b.storm(ctx)
	}
	if err != nil {
		return nil, err
	}
	return &b.rep, nil
}

// benchSpawn runs this executable as `bench -child` with a generator's options.
func benchSpawn(self string, stderr io.Writer) loadgen.Spawn {
	return func(o loadgen.Options) *exec.Cmd {
		cmd := exec.Command(self, append([]string{"bench", benchChildFlag}, o.Args()...)...)
		cmd.Env = append(os.Environ(), benchChildEnv+"=1")
		cmd.Stderr = stderr
		return cmd
	}
}

// connect waits for every generator's connect phase.
func (b *benchRun) connect(ctx context.Context) error {
	up := make([]atomic.Int64, b.f.Len())
	failed := make([]atomic.Int64, b.f.Len())
	stop := b.prog.every(func() string {
		s := fmt.Sprintf("connecting %d/%d", sumCounters(up), b.cfg.conns)
		if n := sumCounters(failed); n > 0 {
			s += fmt.Sprintf(", %d failed", n)
		}
		return s
	})
	ready, err := b.f.Collect(ctx, loadgen.EvReady, func(i int, e loadgen.Event) {
		up[i].Store(e.Conns)
		failed[i].Store(e.Failed)
	})
	stop()
	if err != nil {
		return err
	}
	for _, e := range ready {
		b.rep.Up += e.Conns
		b.rep.Failed += e.Failed
		b.rep.Compressed += e.Compressed
	}
	return nil
}

// echo runs the echo loop, closed or open, or the fan-out: warm-up, mark, the
// measured window.
func (b *benchRun) echo(ctx context.Context) error {
	if err := b.f.Send(loadgen.CmdGo); err != nil {
		return err
	}
	if b.cfg.warmup > 0 {
		if _, _, err := b.window(ctx, "warm-up", b.cfg.warmup); err != nil {
			return err
		}
	}
	if err := b.f.Send(loadgen.CmdMark); err != nil {
		return err
	}
	if _, err := b.f.Collect(ctx, loadgen.EvMarked, nil); err != nil {
		return err
	}
	tot, secs, err := b.window(ctx, "measuring", b.cfg.duration)
	if err != nil {
		return err
	}
	b.f.Send(loadgen.CmdStop)
	// The generators' own window when longer: they obeyed the mark or the
	// report late (short of CPU), and counted for that long.
	b.rep.Seconds = max(secs, time.Duration(tot.Window)).Seconds()
	b.rep.Msgs = tot.Msgs
	b.rep.Sent = tot.Sent
	b.rep.MsgsPerSec = float64(tot.Msgs) / b.rep.Seconds
	b.rep.MBPerSec = b.rep.MsgsPerSec * float64(b.cfg.size) / 1e6
	b.finish(tot)
	return nil
}

// idle holds the connections for the duration.
func (b *benchRun) idle(ctx context.Context) error {
	tot, secs, err := b.window(ctx, "holding", b.cfg.duration)
	if err != nil {
		return err
	}
	b.rep.Seconds = secs.Seconds()
	b.finish(tot)
	return nil
}

// storm starts the storms and waits for their results.
func (b *benchRun) storm(ctx context.Context) error {
	hs := make([]atomic.Int64, b.f.Len())
	errs := make([]atomic.Int64, b.f.Len())
	t0 := time.Now()
	if err := b.f.Send(loadgen.CmdGo); err != nil {
		return err
	}
	stop := b.prog.every(func() string {
		el := time.Since(t0)
		return fmt.Sprintf("dialling %v/%v  %.0f handshakes/s  %d errors",
			el.Round(time.Second), b.cfg.duration, float64(sumCounters(hs))/el.Seconds(), sumCounters(errs))
	})
	rs, err := b.f.Collect(ctx, loadgen.EvResult, func(i int, e loadgen.Event) {
		hs[i].Store(int64(e.Handshakes))
		errs[i].Store(int64(e.Errors))
	})
	stop()
	if err != nil {
		return err
	}
	tot := sumResults(rs)
	b.rep.Seconds = time.Since(t0).Seconds()
	b.rep.Handshakes = tot.Handshakes
	b.rep.HandshakesPerSec = float64(tot.Handshakes) / b.rep.Seconds
	b.finish(tot)
	return nil
}

// finish fills in the percentiles, the connections still open and the errors.
func (b *benchRun) finish(tot loadgen.Event) {
	us := func(q float64) float64 { return float64(tot.Hist.Quantile(q)) / float64(time.Microsecond) }
	b.rep.P50us, b.rep.P99us, b.rep.P999us = us(.5), us(.99), us(.999)
	b.rep.Errors = tot.Errors
	if b.cfg.scenario != "storm" {
		b.rep.Open = tot.Open
		b.rep.Errors += uint64(b.rep.Failed) + uint64(max(b.rep.Up-tot.Open, 0))
	}
}

// window lets the generators run for d, reporting once a second for the progress
// line, and returns the totals of the last report and the time from the start of
// the window to it.
func (b *benchRun) window(ctx context.Context, phase string, d time.Duration) (loadgen.Event, time.Duration, error) {
	start := time.Now()
	end := start.Add(d)
	prev, prevAt := uint64(0), start
	for {
		select {
		case <-ctx.Done():
			return loadgen.Event{}, 0, ctx.Err()
		case <-time.After(min(time.Second, time.Until(end))):
		}
		at := time.Now()
		rs, err := b.f.Report(ctx)
		if err != nil {
			return loadgen.Event{}, 0, err
		}
		tot := sumResults(rs)
		line := fmt.Sprintf("%s %v/%v  %d/%d open", phase, at.Sub(start).Round(time.Second), d, tot.Open, b.rep.Up)
		if b.cfg.scenario == "echo" || b.cfg.scenario == "fanout" {
			rate := float64(tot.Msgs-prev) / at.Sub(prevAt).Seconds()
			line += fmt.Sprintf("  %.0f msg/s  p99 %v", rate, tot.Hist.Quantile(.99).Round(time.Microsecond))
			prev, prevAt = tot.Msgs, at
		}
		b.prog.show(line)
		if !at.Before(end) {
			return tot, at.Sub(start), nil
		}
	}
}

// sumResults adds up the generators' results; the window is the longest.
func sumResults(rs []loadgen.Event) loadgen.Event {
	var t loadgen.Event
	for _, e := range rs {
		t.Msgs += e.Msgs
		t.Errors += e.Errors
		t.Sent += e.Sent
		t.Handshakes += e.Handshakes
		t.Open += e.Open
		t.Hist.Merge(e.Hist)
		t.Window = max(t.Window, e.Window)
	}
	return t
}

func sumCounters(a []atomic.Int64) int64 {
	var n int64
	for i := range a {
		n += a[i].Load()
	}
	return n
}

// print writes the report for people.
func (r *benchReport) print(w io.Writer) error {
	procs := "1 process"
	if r.Procs > 1 {
		procs = fmt.Sprintf("%d processes", r.Procs)
	}
	dur := func(us float64) time.Duration {
		return time.Duration(us * float64(time.Microsecond)).Round(time.Microsecond)
	}
	pct := fmt.Sprintf("p50 %v  p99 %v  p99.9 %v", dur(r.P50us), dur(r.P99us), dur(r.P999us))
	pw := &reportWriter{w: w}
	switch r.Scenario {
	case "storm":
		pw.printf("storm %s: %s, %.1f s\n", r.Target, procs, r.Seconds)
		pw.printf("handshakes   %d (%.0f/s)\n", r.Handshakes, r.HandshakesPerSec)
		pw.printf("handshake    %s\n", pct)
	default:
		kind := "binary"
		if r.Text {
			kind = "text"
		}
		switch {
		case r.Scenario == "echo" && r.Rate > 0:
			pw.printf("echo %s: %d × %d B %s, open loop at %g msg/s, %s, %.1f s measured\n", r.Target, r.Conns, r.Size, kind, r.Rate, procs, r.Seconds)
		case r.Scenario == "echo":
			pw.printf("echo %s: %d × %d B %s, %s, %.1f s measured\n", r.Target, r.Conns, r.Size, kind, procs, r.Seconds)
		case r.Scenario == "fanout":
			pw.printf("fanout %s: %d connections, %d publishing %g msg/s in all, %s, %.1f s measured\n", r.Target, r.Conns, r.Publishers, r.Rate, procs, r.Seconds)
		default:
			pw.printf("idle %s: %d connections held %.1f s, %s\n", r.Target, r.Conns, r.Seconds, procs)
		}
		pw.printf("connections  %d/%d up, %d failed, %d open at the end", r.Up, r.Conns, r.Failed, r.Open)
		if r.Compressed > 0 {
			pw.printf(", %d compressed", r.Compressed)
		}
		pw.printf("\n")
		switch {
		case r.Up == 0: // nothing ran
		case r.Scenario == "echo" && r.Rate > 0:
			pw.printf("messages     %d sent of %d due, %d echoed (%.0f/s, %.2f MB/s each way)\n", r.Sent, r.due(), r.Msgs, r.MsgsPerSec, r.MBPerSec)
			pw.printf("round trip   %s (from the scheduled send)\n", pct)
		case r.Scenario == "echo":
			pw.printf("messages     %d (%.0f/s, %.2f MB/s each way)\n", r.Msgs, r.MsgsPerSec, r.MBPerSec)
			pw.printf("round trip   %s\n", pct)
		case r.Scenario == "fanout":
			per := 0.0
			if r.Sent > 0 {
				per = float64(r.Msgs) / float64(r.Sent)
			}
			pw.printf("messages     %d sent of %d due, %d delivered (%.0f/s, %.1f per message)\n", r.Sent, r.due(), r.Msgs, r.MsgsPerSec, per)
			pw.printf("delivery     %s (from the scheduled send)\n", pct)
		}
	}
	pw.printf("errors       %d\n", r.Errors)
	return pw.err
}

// due is how many messages the schedule had due in the measured window: Sent
// falls short of it when the publishers (or their machine) fall behind.
func (r *benchReport) due() uint64 { return uint64(r.Rate * r.Seconds) }

// reportWriter keeps the first write error of a series of Fprintf calls.
type reportWriter struct {
	w   io.Writer
	err error
}

func (p *reportWriter) printf(format string, a ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, a...)
	}
}

// benchProgress is the live status on stderr: rewritten in place on a terminal,
// one line each time otherwise.
type benchProgress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	label string
	shown bool // a line is on the terminal, to be cleared
}

func (p *benchProgress) show(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K[%s] %s", p.label, s)
		p.shown = true
		return
	}
	fmt.Fprintf(p.w, "[%s] %s\n", p.label, s)
}

// every shows f() once a second until stop is called.
func (p *benchProgress) every(f func() string) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.show(f())
			case <-done:
				return
			}
		}
	}()
	return func() { close(done); <-finished }
}

// end clears the terminal line, so the report starts on a clean one.
func (p *benchProgress) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}

// syncWriter serialises writes from the progress line, the in-process
// generator's log and the children's stderr.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *syncWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
