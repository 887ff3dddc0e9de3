package engine

import (
	"context"
	"iter"
	"net"
	"sync"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/admit"
	"github.com/weir-ws/weir/internal/fanout"
	"github.com/weir-ws/weir/internal/iplimit"
	"github.com/weir-ws/weir/internal/opening"
	"github.com/weir-ws/weir/internal/prepared"
	"github.com/weir-ws/weir/internal/tlshand"
	"github.com/weir-ws/weir/internal/wsconn"
	"github.com/weir-ws/weir/upgrade"
)

// Server accepts WebSocket connections: on its own listening sockets (Listen,
// ListenAndServe, Serve) with the handshake done on the loops, or from net/http
// (ServeHTTP) with the upgraded socket then moved onto the loops.
type Server struct {
	reports        // NumConns, Stats, Metrics, BufferedAmount, BufferedInbound (stats.go)
	cfg     Config // filled: what hosting reads (listening, the caps, TLS)
	upg     *upgrade.Upgrader

	mu     sync.Mutex
	lis    listening // what it listens on
	done   chan struct{}
	closed bool
	tls    *tlshand.Slots // ListenTLS's handshake slots (tlsaccept.go); nil before
}

// NewServer returns a server that calls h for every connection. A nil h queues
// every connection's messages for Conn.ReadMessage and NetConn instead, as for a
// client dialled without a Handler: for code that prefers to block, such as a
// net/http handler that takes the connection from Adopt and loops on ReadMessage
// (pass NopHandler{} to ignore what arrives). cfg may be nil (defaults); u
// configures the handshake (nil: upgrade's defaults: any path, the origin must
// match the host, no subprotocol, no extension).
func NewServer(h Handler, cfg *Config, u *upgrade.Upgrader) (*Server, error) {
	var ch wsconn.Handler = wsconn.QueueHandler{} // ReadMessage's (internal/wsconn blocking.go)
	if h != nil {
		ch = handler{h}
	}
	d := cfg.filled()
	e, err := wsconn.NewEngine(ch, d.machine(), true)
	if err != nil {
		return nil, err
	}
	// permessage-deflate and ServeHTTP's bound, on a copy of u (internal/opening)
	if u, err = opening.Upgrader(u, e.Cfg.Compression, e.Cfg.HandshakeTimeout); err != nil {
		e.Stop()
		return nil, err
	}
	s := &Server{reports: reports{e}, cfg: d, upg: u, done: make(chan struct{})}
	e.Gate = admit.New(d.MaxConns, &e.Census.Live, iplimit.New(d.MaxConnsPerIP, d.IPv6PrefixLen), u)
	e.Upgrader = u
	return s, nil
}

// Listen starts accepting on addr ("host:port"; port 0 picks one) and returns once
// the socket is listening. Addr tells the address.
func (s *Server) Listen(addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stoppedLocked() {
		return ErrServerClosed
	}
	return s.listen(addr)
}

// ListenAndServe is Listen, then waits until the server is shut down; it returns
// ErrServerClosed then.
func (s *Server) ListenAndServe(addr string) error {
	if err := s.Listen(addr); err != nil {
		return err
	}
	<-s.done
	return ErrServerClosed
}

// Serve accepts on ln until the server is shut down, and returns ErrServerClosed. A
// TCP or Unix listener's socket is watched by a loop; any other listener (a
// tls.Listener, say) is served in goroutine-per-connection mode.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.Start(ln); err != nil {
		return err
	}
	<-s.done
	return ErrServerClosed
}

// Start is Serve without the wait.
func (s *Server) Start(ln net.Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stoppedLocked() {
		return ErrServerClosed
	}
	if s.lis.addr == nil {
		s.lis.addr = ln.Addr()
	}
	return serveListener(s.e, &s.lis, ln)
}

// Addr is the address of the first listening socket, nil before Listen or Serve.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lis.addr
}

// Conns iterates over the connections that are open (ws clients). It holds no lock
// while yielding.
func (s *Server) Conns() iter.Seq[*Conn] {
	return func(yield func(*Conn) bool) {
		for c := range s.e.Conns(wsconn.StateOpen) {
			if !yield(pub(c)) {
				return
			}
		}
	}
}

// Shutdown stops accepting, answers handshakes in flight with 503, sends 1001 (going
// away) to every open connection and waits for them to close until ctx ends, then
// closes the rest. It returns ctx.Err() if it had to force connections closed.
// Called from a Handler callback it returns nil at once: see Close.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopAccepting()
	e := s.e
	ch := e.Census.Emptied()
	for c := range e.Conns(wsconn.StateConnecting) {
		c.RejectBusy()
	}
	for c := range e.Conns(wsconn.StateOpen) {
		c.Close(frame.StatusGoingAway, "server shutting down")
	}
	if onEngineGoroutine() { // from a callback: the wait outlives this call (stopself.go)
		ctx, cancel := keepDeadline(ctx)
		go func() { defer cancel(); s.waitShutdown(ctx, ch) }()
		return nil
	}
	return s.waitShutdown(ctx, ch)
}

// waitShutdown is Shutdown's wait for its connections, then the stop.
func (s *Server) waitShutdown(ctx context.Context, ch <-chan struct{}) error {
	e := s.e
	var err error
	if e.Census.Live.Load() > 0 {
		select {
		case <-ch:
		case <-ctx.Done():
			err = ctx.Err()
			abortAll(e, ch)
		}
	}
	s.stop()
	return err
}

// Close closes every connection at once, without close frames, and stops the server.
// It returns once the connections are closed and the engine's goroutines have
// ended, also when another Close or Shutdown is stopping the server.
//
// Called from a Handler callback (or a hook the engine runs), Close and
// Shutdown cannot wait for the goroutine they run on: they stop accepting
// (Shutdown also tells every connection 1001) and return at once; the rest
// of the stop runs on a goroutine of theirs and ends once the callback has
// returned, Shutdown's wait bounded by ctx's deadline (not by its cancel).
func (s *Server) Close() error {
	s.e.Aborting.Store(true) // before stopping: a connection registered now is aborted, not answered 503
	s.stopAccepting()
	abortAndStop(s.e, s.stop)
	return nil
}

// stoppedLocked reports, under s.mu, whether a listener added now would
// never be closed: stopAccepting closes the listeners once, under s.mu,
// after it sets stopping, and Close or Shutdown set closed only at their
// end (a Shutdown may wait for seconds in between).
func (s *Server) stoppedLocked() bool { return s.closed || s.e.Stopping.Load() }

func (s *Server) stopAccepting() {
	s.e.Stopping.Store(true)
	s.mu.Lock()
	for _, ln := range s.lis.listeners {
		ln.Shut()
	}
	for _, ln := range s.lis.netLns {
		ln.Close()
	}
	s.lis.listeners, s.lis.netLns = nil, nil
	s.tls.Stop() // cut the TLS handshakes in flight
	s.mu.Unlock()
}

func (s *Server) stop() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	s.mu.Unlock()
	s.e.Stop()
}

// Broadcast sends pm to every open connection for which filter (nil: all) returns
// true, and returns how many took it. Each loop's connections are written by their
// own goroutine, so a broadcast uses every core, in batches (WritePreparedMany);
// a slow consumer gets the WriteBufferPolicy, never a block.
func (s *Server) Broadcast(pm *PreparedMessage, filter func(*Conn) bool) int {
	return broadcast(s.e, pm.m, filter)
}

// connLists recycles Broadcast's snapshots of the connection tables, so a
// broadcast allocates nothing per connection (nor per empty fd-table slot) in
// steady state.
var connLists fanout.Lists[*wsconn.Conn]

// broadcast writes pm to each loop's connections on a goroutine of its own
// and to goroutine mode's on the caller's (internal/fanout), in batches
// (WritePreparedMany).
func broadcast(e *wsconn.Engine, pm *prepared.Message, filter func(*Conn) bool) int {
	return fanout.Run(&connLists, len(e.Loops)+1, func(i int, dst []*wsconn.Conn) []*wsconn.Conn {
		return e.ConnsOf(i, wsconn.AnyState, dst)
	}, func(conns []*wsconn.Conn) int {
		keep := conns[:0] // the open ones filter lets through, sent to as a batch
		for _, c := range conns {
			if c.State() == wsconn.StateOpen && (filter == nil || filter(pub(c))) {
				keep = append(keep, c)
			}
		}
		return wsconn.WritePreparedMany(keep, pm)
	})
}
