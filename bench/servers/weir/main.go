// Command weir is the benchmark server for weir itself: echo every message, broadcast
// on the stats trigger. -mode picks the engine variant: pool (default: loops plus the
// worker pool), inline (callbacks on the loops) or goroutine (one goroutine per
// connection). -tls-cert/-tls-key serve wss through Server.ListenTLS.
package main

import (
	"os"
	"strconv"

	"github.com/weir-ws/weir/bench/internal/srvkit"
	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

type echo struct{ engine.NopHandler }

func (echo) OnMessage(c *engine.Conn, op frame.Opcode, p []byte) { c.WriteMessage(op, p) }

func main() {
	o := srvkit.Parse()
	cfg := &engine.Config{}
	switch o.Mode {
	case "", "pool":
	case "inline":
		cfg.Dispatch = engine.DispatchInline
	case "goroutine":
		cfg.GoroutinePerConn = true
	default:
		srvkit.Fatal(errBadMode(o.Mode))
	}
	if o.Deflate {
		cfg.Compression = &deflate.Options{}
	}
	// WEIR_TLS_DROP_EXPORTER: Config.TLSDropExporter (wss idle memory runs
	// compare the server with and without it).
	cfg.TLSDropExporter = os.Getenv("WEIR_TLS_DROP_EXPORTER") != ""
	// WEIR_MAX_TLS_HANDSHAKES: Config.MaxTLSHandshakes (wss idle memory runs
	// measure what the handshakes in flight add to the GC goal during a storm;
	// unset: the default).
	if n, err := strconv.Atoi(os.Getenv("WEIR_MAX_TLS_HANDSHAKES")); err == nil && n > 0 {
		cfg.MaxTLSHandshakes = n
	}
	srv, err := engine.NewServer(echo{}, cfg, nil)
	if err != nil {
		srvkit.Fatal(err)
	}
	if o.TLS() {
		// wss: on the loops for TLS 1.3 AES-GCM (goroutine mode: tls.NewListener).
		err = srv.ListenTLS(o.Addr, o.TLSConfig())
		o.Extra = func() map[string]any {
			m := srv.TLSMetrics()
			return map[string]any{"tls_loop": m.Loop, "tls_goroutine": m.Goroutine, "tls_failed": m.Failed, "tls_busy": m.Busy}
		}
	} else {
		err = srv.Listen(o.Addr)
	}
	if err != nil {
		srvkit.Fatal(err)
	}
	srvkit.Serve(o, srv.Addr().String(), func(p []byte) int {
		// Server.Broadcast writes each loop's connections from its own goroutine.
		return srv.Broadcast(engine.NewPreparedMessage(frame.OpBinary, p), nil)
	}, srv.NumConns)
}

type errBadMode string

func (e errBadMode) Error() string { return "unknown -mode " + string(e) }
