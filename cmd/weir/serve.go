package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// echo sends every message back as it came.
type echo struct{ engine.NopHandler }

func (echo) OnMessage(c *engine.Conn, op frame.Opcode, p []byte) { c.WriteMessage(op, p) }

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	maxMsg := fs.Int64("max-message", 16<<20, "largest message accepted, bytes (over it: close 1009)")
	maxFrame := fs.Int64("max-frame", 0, "largest frame accepted, bytes (0: same as -max-message)")
	loops := fs.Int("loops", 0, "event loops (0: GOMAXPROCS)")
	workers := fs.Int("workers", 0, "worker goroutines (0: 4×GOMAXPROCS)")
	inline := fs.Bool("inline", false, "run callbacks on the event loops instead of the worker pool")
	gpc := fs.Bool("goroutine-per-conn", false, "one goroutine per connection instead of the event loops")
	reuse := fs.Bool("reuseport", false, "one SO_REUSEPORT listener per loop")
	ping := fs.Duration("ping-interval", 20*time.Second, "keepalive ping after this long without input (negative: off)")
	maxConns := fs.Int("max-conns", 0, "connection cap (0: none)")
	anyOrigin := fs.Bool("any-origin", false, "accept cross-origin handshakes")
	fs.Parse(args)

	cfg := &engine.Config{
		Loops: *loops, Workers: *workers, MaxMessageSize: *maxMsg, MaxFrameSize: *maxFrame,
		GoroutinePerConn: *gpc, ReusePort: *reuse, PingInterval: *ping, MaxConns: *maxConns,
	}
	if *inline {
		cfg.Dispatch = engine.DispatchInline
	}
	u := &upgrade.Upgrader{}
	if *anyOrigin {
		u.CheckOrigin = func(*upgrade.Request) bool { return true }
	}
	srv, err := engine.NewServer(echo{}, cfg, u)
	if err != nil {
		return err
	}
	if err := srv.Listen(*addr); err != nil {
		return err
	}
	fmt.Printf("weir echo server on ws://%s/ (Ctrl-C to stop)\n", srv.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	slog.Info("shutting down", "conns", srv.NumConns())
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
