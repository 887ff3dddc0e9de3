package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/weir-ws/weir/internal/loadgen"
)

const benchUsage = `usage: weir bench [flags] URL

Load for any WebSocket echo server: URL is ws://host:port/path, wss://... or
host:port. Scenarios (-scenario):

  echo   every connection sends a message, waits for its echo and sends again
         (a closed loop): messages/s, MB/s, round trip p50/p99/p99.9
  idle   the connections are opened and held: how many stay open
  storm  -concurrency goroutines per process dial and drop connections:
         handshakes/s, handshake p50/p99/p99.9

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
		return enc.Encode(rep)
	}
	return rep.print(stdout)
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
	fs.StringVar(&c.scenario, "scenario", "echo", "echo, idle or storm")
	fs.IntVar(&c.concurrency, "concurrency", 32, "storm: dialling goroutines per process")
	fs.IntVar(&c.procs, "procs", 0, "generator processes (0: enough for at most 18000 connections each within\nthe open-file limit; 1: this process only)")
	fs.IntVar(&c.src, "src", -1, "source addresses 127.0.0.2 and up (0: the kernel's pick; -1: automatic, on Linux\nwith a loopback target one per 28000 connections, and 8 for a storm)")
	fs.BoolVar(&c.jsonOut, "json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return c, err
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
	case c.scenario != "echo" && c.scenario != "idle" && c.scenario != "storm":
		return c, bad("unknown scenario %q", c.scenario)
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
	}
}

// split spreads the connections over the processes.
func (c benchConfig) split() []loadgen.Options {
	return loadgen.Split(c.options(c.conns, 0), c.procs)
}
