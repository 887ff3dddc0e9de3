package cli

import (
	"context"
	"crypto/tls"
	_ "embed"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/metrics"
	"github.com/weir-ws/weir/pubsub"
	"github.com/weir-ws/weir/upgrade"
)

// demoOptions configure startDemo.
type demoOptions struct {
	Addr      string         // listen address; port 0 picks one
	Config    *engine.Config // the engine's options (nil: defaults)
	AnyOrigin bool           // accept cross-origin handshakes
	ReusePort bool           // one SO_REUSEPORT listener per loop
	Metrics   bool           // serve the engine's metrics at /metrics (Prometheus text format)
	// Bridge, if set, makes the chat's Hub a node of a cluster: the rooms'
	// messages and notices go to the other nodes and theirs come here. The
	// demo closes it (through the Hub), also when startDemo fails.
	Bridge pubsub.Bridge
	// TLS, if set, serves wss on TLSAddr with the engine's own listener
	// (engine.Server.ListenTLS: on the event loops); the page stays on Addr.
	TLS     *tls.Config
	TLSAddr string
}

// demo is a running demo server: net/http in front, the engine behind it for
// every WebSocket. startDemo returns it serving; Shutdown or Close stops it and
// waits for its goroutines.
type demo struct {
	srv     *engine.Server
	hub     *pubsub.Hub // the chat's rooms
	h       *demoHandler
	hs      *http.Server
	lns     []net.Listener
	started time.Time
	mem     memCache
	failed  chan error   // the first listener that stopped for a reason other than Shutdown
	metrics http.Handler // /metrics, nil unless demoOptions.Metrics
	wg      sync.WaitGroup
}

// startDemo listens on o.Addr and serves the demo until Shutdown or Close.
func startDemo(o demoOptions) (*demo, error) {
	u := &upgrade.Upgrader{Verify: tagRole}
	if o.AnyOrigin {
		u.CheckOrigin = func(*upgrade.Request) bool { return true }
	}
	hub, err := pubsub.New(&pubsub.Config{Bridge: o.Bridge}) // starts the bridge
	if err != nil {
		if o.Bridge != nil {
			o.Bridge.Close()
		}
		return nil, err
	}
	h := &demoHandler{hub: hub}
	srv, err := engine.NewServer(h, o.Config, u)
	if err != nil {
		hub.Close()
		return nil, err
	}
	n := 1
	if o.ReusePort {
		if n = runtime.GOMAXPROCS(0); o.Config != nil && o.Config.Loops > 0 {
			n = o.Config.Loops
		}
	}
	lns, err := listenHTTP(o.Addr, o.ReusePort, n)
	if err != nil {
		srv.Close()
		hub.Close()
		return nil, err
	}
	h.node = lns[0].Addr().String() // before any connection can arrive: not serving yet
	if o.TLS != nil {
		if err := srv.ListenTLS(o.TLSAddr, o.TLS); err != nil {
			for _, ln := range lns {
				ln.Close()
			}
			srv.Close()
			hub.Close()
			return nil, err
		}
	}
	d := &demo{
		srv: srv, hub: hub, h: h, lns: lns, started: time.Now(),
		failed: make(chan error, 1),
	}
	if o.Metrics {
		d.metrics = metrics.Handler(srv, "")
	}
	d.hs = &http.Server{
		Handler:           d,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
	for _, ln := range lns {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			if err := d.hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				select {
				case d.failed <- err:
				default:
				}
			}
		}()
	}
	return d, nil
}

// Addr is the address the demo listens on (the chosen port when it was 0).
func (d *demo) Addr() net.Addr { return d.lns[0].Addr() }

// Failed delivers the error of a listener that stopped on its own.
func (d *demo) Failed() <-chan error { return d.failed }

// Shutdown stops accepting, lets HTTP requests in flight finish, sends 1001 to
// every WebSocket and waits for them to close until ctx ends (then closes the
// rest), and waits for the accept goroutines.
func (d *demo) Shutdown(ctx context.Context) error {
	err := d.hs.Shutdown(ctx)
	err = errors.Join(err, d.srv.Shutdown(ctx))
	d.wg.Wait()
	// After the engine: the connections' leave notices go out first.
	return errors.Join(err, d.hub.Close())
}

// Close stops everything at once, without close frames.
func (d *demo) Close() error {
	err := errors.Join(d.hs.Close(), d.srv.Close())
	d.wg.Wait()
	return errors.Join(err, d.hub.Close())
}

// listenHTTP opens the HTTP listeners: one, or n sharing the port with
// SO_REUSEPORT so that the kernel spreads new connections across n accept
// goroutines.
func listenHTTP(addr string, reusePort bool, n int) ([]net.Listener, error) {
	if !reusePort {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, err
		}
		return []net.Listener{ln}, nil
	}
	if reusePortControl == nil {
		return nil, errReusePortUnsupported
	}
	lc := net.ListenConfig{Control: reusePortControl}
	lns := make([]net.Listener, 0, n)
	for range n {
		ln, err := lc.Listen(context.Background(), "tcp", addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, err
		}
		addr = ln.Addr().String() // port 0: the others join the port the first one got
		lns = append(lns, ln)
	}
	return lns, nil
}

// errReusePortUnsupported: -reuseport on a platform without SO_REUSEPORT here.
var errReusePortUnsupported = errors.New("serve: -reuseport needs Linux, macOS or FreeBSD")

// ServeHTTP routes a request: WebSocket upgrades (and anything for /chat) go to
// the engine, which tells chat from echo by path (tagRole); the rest is the page
// and /stats.
func (d *demo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isWebSocket(r) || r.URL.Path == chatPath {
		d.srv.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path == "/stats" {
		d.serveStats(w)
		return
	}
	if r.URL.Path == "/metrics" && d.metrics != nil {
		d.metrics.ServeHTTP(w, r)
		return
	}
	f, ok := staticFiles[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	// Everything is served from here; the page talks only to its own origin
	// (CSP 3: 'self' covers ws: and wss: to the same host).
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "+
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	w.Write(f.body)
}

// isWebSocket reports whether r asks for a WebSocket upgrade (an Upgrade field
// with the websocket token, RFC 6455 §4.2.1); the engine checks the rest.
func isWebSocket(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "websocket") {
				return true
			}
		}
	}
	return false
}

// The page: vanilla HTML, JavaScript and CSS, embedded so the binary is the
// whole demo and works offline.
var (
	//go:embed demo/index.html
	indexHTML []byte
	//go:embed demo/demo.js
	demoJS []byte
	//go:embed demo/demo.css
	demoCSS []byte
)

type staticFile struct {
	contentType string
	body        []byte
}

var staticFiles = map[string]staticFile{
	"/":         {"text/html; charset=utf-8", indexHTML},
	"/demo.js":  {"text/javascript; charset=utf-8", demoJS},
	"/demo.css": {"text/css; charset=utf-8", demoCSS},
}
