package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/weir-ws/weir/internal/loadgen"
)

const benchUsage = `usage: weir bench [flags] URL

Load for any WebSocket echo server: URL is ws://host:port/path, wss://... or
host:port. Scenarios (-scenario):

  echo    every connection sends a message, waits for its echo and sends again
          (a closed loop): messages/s, MB/s, round trip p50/p99/p99.9.
          With -rate R, an open loop instead: R messages/s in all, sent on
          schedule whether or not echoes are back, each timed from its
          scheduled send time, so a stalled server shows in p99 rather than
          slowing the sender down (no coordinated omission)
  fanout  -publishers of the connections send -rate stamped messages/s in all
          (chat JSON, {"name":...,"text":...}) to a server that broadcasts
          them, and every connection times each one's delivery: weir serve's
          ws://host:port/chat does; deliveries/s, delivery p50/p99/p99.9
  idle    the connections are opened and held: how many stay open
  storm   -concurrency goroutines per process dial and drop connections:
          handshakes/s, handshake p50/p99/p99.9

Each dial is bounded by -dial-timeout and the connect phase by
-connect-timeout. The exit status is 1 when the run's errors (failed dials,
connections lost, failed writes, wrong echoes) exceed -max-errors, and always
when no connection came up (storm: no handshake succeeded) or, but for idle,
no message was measured (no echo, no fan-out delivery).

The connections run on weir's client (no goroutine per connection), in this
process or, past about 18000 per process (or the open-file limit), in child
processes. A progress line goes to stderr once a second; the report to stdout.

flags:
`

// Sizing of processes and source addresses.
const (
	// fdsPerProc is the most connections one generator process holds.
	fdsPerProc = 18000
	// fdReserve is the descriptors a generator needs besides its connections.
	fdReserve = 100
	// portsPerSource is about the ephemeral ports one source address has towards
	// one server address (Linux's default 32768-60999).
	portsPerSource = 28000
	// stormSources is the source addresses a storm uses by default: at thousands of
	// handshakes a second, the ports held in TIME_WAIT by one address run out.
	stormSources = 8
	// benchMaxSources is 127.0.0.2 .. 127.0.0.255.
	benchMaxSources = 254
)

// benchChildFlag, as bench's first argument, makes this process a generator child
// driven over stdin and stdout; benchChildEnv is set for it too, so that a test
// binary re-executed as the child can tell (TestMain).
const (
	benchChildFlag = "-child"
	benchChildEnv  = "WEIR_BENCH_CHILD"
)

var (
	// errBenchUsage is wrapped by every error about bench's flags and arguments.
	errBenchUsage = errors.New("bench: usage")
	// errInterrupted is returned when SIGINT or SIGTERM ends a run.
	errInterrupted = errors.New("bench: interrupted")
	// errBenchFailed is wrapped by the error of a run that exceeded -max-errors
	// or had no connection up; the report has been written.
	errBenchFailed = errors.New("bench: run failed")
)

// benchConfig is a parsed command line.
type benchConfig struct {
	target      string
	scenario    string
	conns, size int
	text        bool
	compress    bool
	duration    time.Duration
	warmup      time.Duration
	concurrency int
	procs, src  int // after planning: at least 1, and at least 0
	jsonOut     bool
	rate        float64       // echo: open loop messages/s (0: closed loop); fanout: publishing rate
	publishers  int           // fanout
	dialTimeout time.Duration // one dial
	connectFor  time.Duration // the connect phase (after parsing: never 0)
	maxErrors   errorBudget
}

// errorBudget is -max-errors: a count, or a percentage of the connections
// asked for (storm: of the dials made).
type errorBudget struct {
	n       uint64
	percent float64 // used when isPct
	isPct   bool
}

func (b *errorBudget) String() string {
	if b.isPct {
		return strconv.FormatFloat(b.percent, 'g', -1, 64) + "%"
	}
	return strconv.FormatUint(b.n, 10)
}

func (b *errorBudget) Set(s string) error {
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || !(f >= 0 && f <= 100) {
			return fmt.Errorf("want a count or a percentage from 0%% to 100%%")
		}
		*b = errorBudget{percent: f, isPct: true}
		return nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return fmt.Errorf("want a count or a percentage such as 1%%")
	}
	*b = errorBudget{n: n}
	return nil
}

// allowed is the most errors a run over base connections (storm: dials) may have.
func (b errorBudget) allowed(base uint64) uint64 {
	if !b.isPct {
		return b.n
	}
	return uint64(math.Floor(float64(base) * b.percent / 100))
}

// bench runs `weir bench`: flags, the run, and the report. Ctrl-C ends it and
// kills its children.
func bench(args []string) error {
	if len(args) > 0 && args[0] == benchChildFlag {
		return benchChild(args[1:])
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runBenchCmd(ctx, args, os.Stdout, os.Stderr)
}

// benchChild is a generator child: the loadgen process protocol on stdin/stdout.
func benchChild(args []string) error {
	o, err := loadgen.ParseArgs(args)
	if err != nil {
		return err
	}
	return loadgen.Serve(context.Background(), o, os.Stdin, os.Stdout, os.Stderr)
}

// runBenchCmd is bench with its context and output streams given.
func runBenchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseBenchFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	tty := isTerminal(stderr)
	rep, err := runBench(ctx, cfg, &syncWriter{w: stderr}, tty)
	if ctx.Err() != nil {
		return errInterrupted
	}
	if err != nil {
		return err
	}
	if cfg.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.print(stdout)
	}
	if err != nil {
		return err
	}
	return rep.verdict(cfg.maxErrors)
}

// verdict fails a run that had no connection up (storm: no handshake), that
// measured no message (but idle), or that had more errors than -max-errors
// allows.
func (r *benchReport) verdict(budget errorBudget) error {
	base := uint64(r.Conns)
	switch {
	case r.Scenario == "storm" && r.Handshakes == 0:
		return fmt.Errorf("%w: no handshake succeeded (%d errors)", errBenchFailed, r.Errors)
	case r.Scenario == "storm":
		base = r.Handshakes + r.Errors
	case r.Up == 0:
		return fmt.Errorf("%w: no connection came up (%d of %d failed)", errBenchFailed, r.Failed, r.Conns)
	case r.Scenario != "idle" && r.Msgs == 0:
		// Up, yet nothing measured: a server that does not echo or broadcast,
		// or one too slow for the window. No figure stands for the run.
		return fmt.Errorf("%w: no message measured (%d sent)", errBenchFailed, r.Sent)
	}
	if allowed := budget.allowed(base); r.Errors > allowed {
		return fmt.Errorf("%w: %d errors, over -max-errors %s (%d)", errBenchFailed, r.Errors, &budget, allowed)
	}
	return nil
}

func parseBenchFlags(args []string, stderr io.Writer) (benchConfig, error) {
	var c benchConfig
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), benchUsage)
		fs.PrintDefaults()
	}
	fs.IntVar(&c.conns, "c", 1000, "connections (echo, idle)")
	fs.IntVar(&c.size, "size", 64, "message size, bytes")
	fs.BoolVar(&c.text, "text", false, "send JSON-like text messages instead of binary")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how long to measure (idle: to hold; storm: to dial)")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "echo: how long to run before measuring")
	fs.BoolVar(&c.compress, "compress", false, "offer permessage-deflate (with -text for compressible messages)")
	fs.StringVar(&c.scenario, "scenario", "echo", "echo, fanout, idle or storm")
	fs.Float64Var(&c.rate, "rate", 0, "echo: an open loop of this many messages/s in all (0: the closed loop);\nfanout: messages/s the publishers send in all (0: 100)")
	fs.IntVar(&c.publishers, "publishers", 1, "fanout: how many of the connections publish")
	fs.DurationVar(&c.dialTimeout, "dial-timeout", 10*time.Second, "bound on one dial: TCP, TLS and the handshake")
	fs.DurationVar(&c.connectFor, "connect-timeout", 0, "bound on the whole connect phase; dials not done by then count as\nfailed (0: -duration plus -dial-timeout)")
	c.maxErrors = errorBudget{percent: 1, isPct: true}
	fs.Var(&c.maxErrors, "max-errors", "errors the run may have and still exit 0: a count, or a percentage of\nthe connections (storm: of the dials)")
	fs.IntVar(&c.concurrency, "concurrency", 32, "storm: dialling goroutines per process")
	fs.IntVar(&c.procs, "procs", 0, "generator processes (0: enough for at most 18000 connections each within\nthe open-file limit; 1: this process only)")
	fs.IntVar(&c.src, "src", -1, "source addresses 127.0.0.2 and up (0: the kernel's pick; -1: automatic, on Linux\nwith a loopback target one per 28000 connections, and 8 for a storm)")
	fs.BoolVar(&c.jsonOut, "json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, fmt.Errorf("%w: %v", errBenchUsage, err) // the flag package printed the usage
	}
	bad := func(format string, a ...any) error {
		fs.Usage()
		return fmt.Errorf("%w: "+format, append([]any{errBenchUsage}, a...)...)
	}
	if fs.NArg() != 1 {
		return c, bad("want one URL, have %d arguments", fs.NArg())
	}
	c.target = fs.Arg(0)
	switch {
	case c.scenario != "echo" && c.scenario != "fanout" && c.scenario != "idle" && c.scenario != "storm":
		return c, bad("unknown scenario %q", c.scenario)
	case c.rate < 0 || c.rate > 0 && c.scenario != "echo" && c.scenario != "fanout":
		return c, bad("-rate %v is for the echo and fanout scenarios, and not negative", c.rate)
	case c.scenario == "fanout" && (c.publishers <= 0 || c.publishers > c.conns):
		return c, bad("-publishers %d (1 to -c %d)", c.publishers, c.conns)
	case c.dialTimeout <= 0 || c.connectFor < 0:
		return c, bad("-dial-timeout must be above 0, -connect-timeout not negative")
	case c.scenario != "storm" && c.conns <= 0:
		return c, bad("-c %d", c.conns)
	case c.size < 0 || c.duration <= 0 || c.warmup < 0:
		return c, bad("-size, -duration and -warmup must not be negative, -duration not 0")
	case c.concurrency <= 0 || c.procs < 0:
		return c, bad("-concurrency %d, -procs %d", c.concurrency, c.procs)
	case c.src < -1 || c.src > benchMaxSources:
		return c, bad("-src %d (0 to %d, or -1)", c.src, benchMaxSources)
	}
	if c.scenario == "storm" {
		c.conns = 0
	}
	if c.scenario == "fanout" && c.rate == 0 {
		c.rate = 100
	}
	if c.scenario != "fanout" {
		c.publishers = 0
	}
	if c.connectFor == 0 {
		c.connectFor = c.duration + c.dialTimeout
	}
	if c.procs == 0 {
		c.procs = planProcs(c.conns, openFileLimit())
	}
	if c.scenario != "storm" {
		c.procs = min(c.procs, c.conns)
	}
	if c.src < 0 {
		c.src = planSources(c.scenario, c.conns, runtime.GOOS == "linux" && isLoopbackTarget(c.target))
	}
	if err := c.options(c.conns, 0).Check(); err != nil {
		return c, bad("%v", err)
	}
	return c, nil
}

// planProcs returns how many generator processes hold conns connections within
// fdsPerProc and the open-file limit (0: unknown).
func planProcs(conns, fileLimit int) int {
	per := fdsPerProc
	if fileLimit > 0 {
		per = max(min(per, fileLimit-fdReserve), 1)
	}
	return max(1, (conns+per-1)/per)
}

// planSources returns the source addresses to spread over: none unless the target
// is on loopback under Linux (where all of 127.0.0.0/8 is local), then one per
// portsPerSource connections beyond the first, or stormSources for a storm.
func planSources(scenario string, conns int, loopbackLinux bool) int {
	switch {
	case !loopbackLinux:
		return 0
	case scenario == "storm":
		return stormSources
	case conns <= portsPerSource:
		return 0
	}
	return min((conns+portsPerSource-1)/portsPerSource, benchMaxSources)
}

// isLoopbackTarget reports whether target (a URL or host:port) names a loopback host.
func isLoopbackTarget(target string) bool {
	host := target
	if u, err := url.Parse(target); err == nil && strings.Contains(target, "://") {
		host = u.Hostname()
	} else if h, _, err := net.SplitHostPort(target); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// options returns the generator options for the share of connections starting at
// global index base.
func (c benchConfig) options(conns, base int) loadgen.Options {
	return loadgen.Options{
		Target: c.target, Conns: conns, Base: base, Sources: c.src, Size: c.size,
		Text: c.text, Deflate: c.compress, Storm: c.scenario == "storm",
		Concurrency: c.concurrency, StormFor: c.duration,
		DialTimeout: c.dialTimeout, ConnectFor: c.connectFor,
		Rate: c.rate, Fanout: c.scenario == "fanout", Publishers: c.publishers,
	}
}

// split spreads the connections over the processes.
func (c benchConfig) split() []loadgen.Options {
	return loadgen.Split(c.options(c.conns, 0), c.procs)
}
