package cli

// weir serve: the demo server. One port speaks HTTP and WebSocket; net/http
// reads every request and hands WebSocket upgrades to the engine (Server.ServeHTTP),
// which moves the socket onto its event loops.
//
//	GET /            the chat page (demo/index.html, demo.js, demo.css; no external resources)
//	GET /stats       JSON: connections, messages, bytes, goroutines, heap, uptime
//	GET /metrics     with -metrics: engine metrics, Prometheus text format (docs/metrics.md)
//	ws  /chat        the chat: rooms as topics on a pubsub.Hub (serve_chat.go)
//	ws  any other    echo: every message is sent back as it came (ws://host/ as before)

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/pubsub"
)

const serveUsage = `usage: weir serve [flags]

The demo server, HTTP and WebSocket on one port:

  http://ADDR/        a small chat page with rooms (a message goes to everyone
                      in its room; with -nats, on every node of the cluster)
  http://ADDR/stats   JSON: connections (chat, echo), messages and payload bytes
                      in and out, goroutines, heap, uptime
  http://ADDR/metrics with -metrics: the engine's metrics in the Prometheus text
                      format (handshakes, closes, refused writes, ping RTT, ...)
  ws://ADDR/chat      the chat's WebSocket (JSON text messages)
  ws://ADDR/...       any other path echoes every message back (ws://ADDR/ as before)
  wss://TLSADDR/...   with -tls-cert and -tls-key: the same WebSockets over TLS,
                      accepted by the engine itself (-tls-addr), on its event loops

net/http reads each request; upgrades are handed to the engine, which moves the
socket onto its event loops (or its own goroutine with -goroutine-per-conn).

flags:
`

// natsBuild is the binary that has -nats: it lives in the NATS bridge's
// module, so that this module does not depend on nats.go.
const natsBuild = "github.com/weir-ws/weir/natsbridge/cmd/weir"

// errNoNATS: -nats given to a build without NATS.
var errNoNATS = errors.New("serve: this build has no NATS; build " + natsBuild +
	" (make run-cluster starts a NATS server and two nodes)")

// serveFlags are serve's flags, parsed.
type serveFlags struct {
	addr               *string
	maxMsg, maxFrame   *int64
	loops, workers     *int
	inline, gpc, reuse *bool
	ping               *time.Duration
	maxConns           *int
	anyOrigin          *bool
	compress           *bool
	tls                serveTLSFlags
	metrics            *bool
	noNATS             *string // -nats in a build without NATS; nil when Hooks add it
}

// newServeFlags is serve's flag set, Hooks' flags included. A test parses the
// docs' `weir serve` command lines with it.
func newServeFlags(h Hooks, eh flag.ErrorHandling) (*flag.FlagSet, *serveFlags) {
	fs := flag.NewFlagSet("serve", eh)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), serveUsage)
		fs.PrintDefaults()
	}
	f := &serveFlags{
		addr:      fs.String("addr", "127.0.0.1:8080", "listen address (port 0 picks one)"),
		maxMsg:    fs.Int64("max-message", 16<<20, "largest message accepted, bytes (over it: close 1009)"),
		maxFrame:  fs.Int64("max-frame", 0, "largest frame accepted, bytes (0: same as -max-message)"),
		loops:     fs.Int("loops", 0, "event loops (0: GOMAXPROCS)"),
		workers:   fs.Int("workers", 0, "worker goroutines (0: 4×GOMAXPROCS)"),
		inline:    fs.Bool("inline", false, "run callbacks on the event loops instead of the worker pool"),
		gpc:       fs.Bool("goroutine-per-conn", false, "one goroutine per connection instead of the event loops"),
		reuse:     fs.Bool("reuseport", false, "one SO_REUSEPORT listener and accept goroutine per loop, so the kernel\nspreads new connections across them (Linux, macOS, FreeBSD)"),
		ping:      fs.Duration("ping-interval", 20*time.Second, "keepalive ping after this long without input (negative: off)"),
		maxConns:  fs.Int("max-conns", 0, "WebSocket connection cap (0: none)"),
		anyOrigin: fs.Bool("any-origin", false, "accept cross-origin handshakes (the page itself is same-origin)"),
		compress:  fs.Bool("compress", false, "accept permessage-deflate offers (RFC 7692) with the default options"),
		tls:       addServeTLSFlags(fs), // serve_tls.go
		metrics:   fs.Bool("metrics", false, "serve the engine's metrics at /metrics, Prometheus text format (docs/metrics.md)"),
	}
	if h.ServeFlags != nil {
		h.ServeFlags(fs)
	}
	if fs.Lookup("nats") == nil {
		f.noNATS = fs.String("nats", "", "join a cluster over NATS: not in this build (see "+natsBuild+")")
	}
	return fs, f
}

// serve runs the demo server until SIGINT or SIGTERM, then shuts it down
// gracefully (1001 to every WebSocket, in-flight HTTP requests finished).
func serve(args []string, h Hooks) error {
	fs, f := newServeFlags(h, flag.ExitOnError)
	fs.Parse(args)
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if f.noNATS != nil && *f.noNATS != "" {
		return errNoNATS
	}
	tlsf := f.tls
	tlsCfg, err := tlsf.config()
	if err != nil {
		return err
	}
	var bridge pubsub.Bridge
	var about string
	if h.ServeBridge != nil {
		var err error
		if bridge, about, err = h.ServeBridge(); err != nil {
			return err
		}
	}

	cfg := &engine.Config{
		Loops: *f.loops, Workers: *f.workers, MaxMessageSize: *f.maxMsg, MaxFrameSize: *f.maxFrame,
		GoroutinePerConn: *f.gpc, PingInterval: *f.ping, MaxConns: *f.maxConns,
	}
	if *f.inline {
		cfg.Dispatch = engine.DispatchInline
	}
	if *f.compress {
		cfg.Compression = &deflate.Options{}
	}
	d, err := startDemo(demoOptions{Addr: *f.addr, Config: cfg, AnyOrigin: *f.anyOrigin, ReusePort: *f.reuse,
		Metrics: *f.metrics, Bridge: bridge, TLSAddr: *tlsf.addr, TLS: tlsCfg})
	if err != nil {
		return err
	}
	a := d.Addr()
	fmt.Printf("weir demo on http://%s/ (chat), http://%s/stats, ws://%s/ (echo) (Ctrl-C to stop)\n", a, a, a)
	if tlsCfg != nil {
		fmt.Printf("wss://%s/ (echo; /chat the chat) on the event loops\n", d.srv.Addr())
	}
	if bridge != nil {
		fmt.Printf("cluster: the chat's rooms are shared through %s\n", about)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case err := <-d.Failed():
		d.Close()
		return err
	}
	slog.Info("shutting down", "conns", d.srv.NumConns())
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return d.Shutdown(sctx)
}
