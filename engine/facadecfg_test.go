package engine

import (
	"bytes"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/defaults"
	"github.com/weir-ws/weir/internal/keepalive"
	"github.com/weir-ws/weir/internal/sock"
	"github.com/weir-ws/weir/internal/wsconn"
	"github.com/weir-ws/weir/internal/wsread"
	"github.com/weir-ws/weir/internal/wswrite"
)

// Config across the split (issue 14): before it, one engine-wide Config,
// filled by Config.defaults, held the settings and the limits the read and
// write sides take, and the machine and hosting both read it. Now the
// machine reads a wsconn.Config (Config.machine) and hosting the Server's
// filled copy. These tests pin that what each reads is what it read before.

// oldDefaults is Config.defaults as it was before the split (6286e8b,
// engine/config.go), its limits returned instead of kept in unexported
// fields: the reference the filled and converted Configs must match.
func oldDefaults(c *Config) (d Config, rl wsread.Limits, wl wswrite.Limits, ka keepalive.Policy) {
	if c != nil {
		d = *c
	}
	defaults.Fill(runtime.GOMAXPROCS(0), defaults.Fields{
		Loops: &d.Loops, Workers: &d.Workers, ReadBufferSize: &d.ReadBufferSize,
		MaxMessageSize: &d.MaxMessageSize, MaxFrameSize: &d.MaxFrameSize, MaxFragments: &d.MaxFragments,
		HandshakeTimeout: &d.HandshakeTimeout, CloseTimeout: &d.CloseTimeout,
		PingInterval: &d.PingInterval, PongTimeout: &d.PongTimeout, TimerResolution: &d.TimerResolution,
		MaxWriteBuffer: &d.MaxWriteBuffer, WriteHighWater: &d.WriteHighWater,
		MaxTotalBuffered: &d.MaxTotalBuffered, MaxTotalInbound: &d.MaxTotalInbound,
		MaxTLSHandshakes: &d.MaxTLSHandshakes, Backlog: &d.Backlog,
	})
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	rl = wsread.Limits{
		MaxFrameSize:   d.MaxFrameSize,
		MaxMessageSize: d.MaxMessageSize,
		MaxFragments:   int64(max(d.MaxFragments, 0)), // 0: no cap
		SkipUTF8:       d.SkipUTF8Validation,
		Headers:        d.Trace != nil && d.Trace.FrameIn != nil,
	}
	ka = keepalive.Policy{Ping: d.PingInterval, Pong: d.PongTimeout, Idle: d.IdleTimeout}
	wl = wswrite.Limits{
		MaxBuffer:     d.MaxWriteBuffer,
		MaxTotal:      defaults.QueueShare(d.MaxTotalBuffered),
		Policy:        [...]wswrite.Policy{WriteBufferError: wswrite.PolicyRefuse, WriteBufferDrop: wswrite.PolicyDrop, WriteBufferClose: wswrite.PolicyClose}[d.WriteBufferPolicy],
		DrainLowWater: d.DrainLowWater,
		HighWater:     d.WriteHighWater,
		FragmentSize:  d.WriteFragmentSize,
		Trace:         d.Trace != nil && d.Trace.FrameOut != nil,
		Compression:   d.Compression,
	}
	return d, rl, wl, ka
}

// oldReads is what the machine's code read of the old engine-wide Config,
// field by field, in the wsconn.Config that replaces it (its Trace is
// compared apart: funcs are not comparable).
func oldReads(d Config, rl wsread.Limits, wl wswrite.Limits, ka keepalive.Policy) wsconn.Config {
	return wsconn.Config{
		Loops: d.Loops, Workers: d.Workers,
		Inline:           d.Dispatch == DispatchInline, // reactor.Config's, in newEngine
		GoroutinePerConn: d.GoroutinePerConn,
		ReadBufferSize:   d.ReadBufferSize,   // newWorker
		ReadQueue:        d.ReadQueue,        // serverQueue
		DisableAssembly:  d.DisableAssembly,  // frameEnd, compressedEnd
		DisableAutoPong:  d.DisableAutoPong,  // control
		WriteHighWater:   d.WriteHighWater,   // readHeld
		MaxTotalInbound:  d.MaxTotalInbound,  // inbound.Max
		HandshakeTimeout: d.HandshakeTimeout, // startServerConn, startNetConn, ServeHTTP's bound
		CloseTimeout:     d.CloseTimeout,
		TimerResolution:  d.TimerResolution,
		TCP:              sock.TCPOptions{KeepAlive: d.TCPKeepAlive, UserTimeout: d.TCPUserTimeout}, // tcpOpts
		Compression:      d.Compression,
		Logger:           d.Logger,
		PanicPolicy:      d.PanicPolicy,
		ReadLimits:       rl, // compressedEnd read MaxMessageSize and SkipUTF8Validation: the same
		WriteLimits:      wl,
		Keepalive:        ka,
	}
}

// configSamples are Configs whose defaults and conversions differ: nil,
// zero, negatives, each dispatch, each write policy, each Trace shape.
func configSamples() map[string]*Config {
	logger := slog.New(slog.DiscardHandler)
	return map[string]*Config{
		"nil":  nil,
		"zero": {},
		"negative": {
			Loops: -1, Workers: -1, ReadBufferSize: -1, MaxMessageSize: -1, MaxFrameSize: -1, MaxFragments: -1,
			HandshakeTimeout: -1, CloseTimeout: -1, PingInterval: -1, PongTimeout: -1, IdleTimeout: -1,
			TimerResolution: -1, MaxWriteBuffer: -1, WriteHighWater: -1, MaxTotalBuffered: -1, MaxTotalInbound: -1,
			MaxTLSHandshakes: -1, Backlog: -1, IPv6PrefixLen: -1, ReadQueue: -1,
		},
		"inline, drop, FrameIn only": {
			Loops: 1, Workers: 2, Dispatch: DispatchInline, WriteBufferPolicy: WriteBufferDrop,
			SkipUTF8Validation: true, MaxMessageSize: 1 << 20, MaxWriteBuffer: 32 << 10,
			TCPUserTimeout: 3 * time.Second, TCPKeepAlive: net.KeepAliveConfig{Enable: true, Idle: time.Minute},
			Compression: &deflate.Options{Threshold: 64},
			Trace:       &Trace{FrameIn: func(*Conn, frame.Header) {}},
		},
		"goroutine, close, FrameOut only": {
			GoroutinePerConn: true, WriteBufferPolicy: WriteBufferClose, DisableAssembly: true, DisableAutoPong: true,
			IdleTimeout: time.Minute, ReadQueue: 3, TLSDropExporter: true, MaxTLSHandshakes: 3, IPv6PrefixLen: 48,
			ReusePort: true, Backlog: 16, MaxConns: 5, MaxConnsPerIP: 2, PanicPolicy: PanicPropagate, Logger: logger,
			MaxFragments: 7, WriteFragmentSize: 100, DrainLowWater: 10, MaxTotalBuffered: 1 << 20, MaxTotalInbound: 1 << 22,
			Trace: &Trace{FrameOut: func(*Conn, frame.Header) {}},
		},
		"empty Trace": {Loops: 1, Trace: &Trace{}},
		"pool, error policy, both traced": {
			Loops: 2, Dispatch: DispatchPool, WriteBufferPolicy: WriteBufferError, MaxFrameSize: 1000, HandshakeTimeout: time.Second,
			Trace: &Trace{FrameIn: func(*Conn, frame.Header) {}, FrameOut: func(*Conn, frame.Header) {}},
		},
	}
}

// checkTrace: the machine's Trace is nil exactly when the user's is, each
// field nil exactly when the user's is (a nil field costs no call per
// frame), and a call passes the machine's Conn on as the same *Conn.
func checkTrace(t *testing.T, user *Trace, m *wsconn.Trace) {
	t.Helper()
	if (m == nil) != (user == nil) {
		t.Fatalf("machine's Trace %v, the user's %v", m, user)
	}
	if m == nil {
		return
	}
	if (m.FrameIn == nil) != (user.FrameIn == nil) || (m.FrameOut == nil) != (user.FrameOut == nil) {
		t.Fatalf("machine's Trace has FrameIn %v FrameOut %v, the user's %v %v",
			m.FrameIn != nil, m.FrameOut != nil, user.FrameIn != nil, user.FrameOut != nil)
	}
}

// TestConfigAsBefore: for each sample, the filled Config is what defaults
// made before (hosting reads it: the Server's cfg), and the machine's
// Config, as converted and as a live Server's and Client's engine holds
// it, is what the machine's code read before.
func TestConfigAsBefore(t *testing.T) {
	t.Parallel()
	for name, cfg := range configSamples() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d, rl, wl, ka := oldDefaults(cfg)
			want := oldReads(d, rl, wl, ka)
			if got := cfg.filled(); !reflect.DeepEqual(got, d) {
				t.Errorf("filled:\n got %+v\nwant %+v", got, d)
			}
			f := cfg.filled()
			m := f.machine()
			checkTrace(t, d.Trace, m.Trace)
			got := *m
			got.Trace = nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("machine:\n got %+v\nwant %+v", got, want)
			}

			// What a live Server's and Client's engine hold: the same, with
			// the budgets the engine adds.
			s, err := NewServer(NopHandler{}, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			cl, err := NewClient(nil, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			if !reflect.DeepEqual(s.cfg, d) {
				t.Errorf("Server's cfg:\n got %+v\nwant %+v", s.cfg, d)
			}
			for side, e := range map[string]*wsconn.Engine{"server": s.e, "client": cl.e} {
				got := e.Cfg
				checkTrace(t, d.Trace, got.Trace)
				if got.ReadLimits.Budget != &e.Inbound || got.WriteLimits.Total == nil {
					t.Errorf("%s: the read side's budget %v (want the engine's %p), the write side's total %v",
						side, got.ReadLimits.Budget, &e.Inbound, got.WriteLimits.Total)
				}
				if e.Inbound.Max != d.MaxTotalInbound {
					t.Errorf("%s: inbound budget %d, want %d", side, e.Inbound.Max, d.MaxTotalInbound)
				}
				got.Trace, got.ReadLimits.Budget, got.WriteLimits.Total = nil, nil, nil
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s engine's Cfg:\n got %+v\nwant %+v", side, got, want)
				}
				if !d.GoroutinePerConn && len(e.Loops) != d.Loops {
					t.Errorf("%s: %d loops, want %d", side, len(e.Loops), d.Loops)
				}
			}
		})
	}
}

// TestConfigDefaultsDocumented: a nil Config's values, as Config documents
// them, are what the machine and the server read.
func TestConfigDefaultsDocumented(t *testing.T) {
	t.Parallel()
	procs := runtime.GOMAXPROCS(0)
	s, err := NewServer(nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m, h := &s.e.Cfg, &s.cfg
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"Loops", m.Loops, procs},
		{"Workers", m.Workers, max(4, 4*procs)},
		{"Inline", m.Inline, false},
		{"ReadBufferSize", m.ReadBufferSize, 64 << 10},
		{"MaxMessageSize", m.ReadLimits.MaxMessageSize, int64(16 << 20)},
		{"MaxFrameSize", m.ReadLimits.MaxFrameSize, int64(16 << 20)},
		{"MaxFragments", m.ReadLimits.MaxFragments, int64(131072)},
		{"SkipUTF8", m.ReadLimits.SkipUTF8, false},
		{"Headers", m.ReadLimits.Headers, false},
		{"HandshakeTimeout", m.HandshakeTimeout, 10 * time.Second},
		{"CloseTimeout", m.CloseTimeout, 5 * time.Second},
		{"PingInterval", m.Keepalive.Ping, 20 * time.Second},
		{"PongTimeout", m.Keepalive.Pong, 10 * time.Second},
		{"IdleTimeout", m.Keepalive.Idle, time.Duration(0)},
		{"TimerResolution", m.TimerResolution, 100 * time.Millisecond},
		{"MaxWriteBuffer", m.WriteLimits.MaxBuffer, 4 << 20},
		{"WriteHighWater", m.WriteLimits.HighWater, 64 << 10},
		{"WriteHighWater (readHeld)", m.WriteHighWater, 64 << 10},
		{"MaxTotalBuffered less its headroom", m.WriteLimits.MaxTotal, int64(512<<20 - 2<<20)},
		{"WriteBufferPolicy", m.WriteLimits.Policy, wswrite.PolicyRefuse},
		{"Trace", m.WriteLimits.Trace || m.Trace != nil, false},
		{"MaxTotalInbound", s.e.Inbound.Max, int64(256 << 20)},
		{"Logger", m.Logger, slog.Default()},
		{"PanicPolicy", m.PanicPolicy, PanicClose},
		{"MaxTLSHandshakes", h.MaxTLSHandshakes, max(64, 16*procs)},
		{"Backlog", h.Backlog, 1024},
		{"MaxConns", h.MaxConns, 0},
		{"MaxConnsPerIP", h.MaxConnsPerIP, 0},
		{"TLSDropExporter", h.TLSDropExporter, false},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
}

// TestTLSDropExporterServerOnly: Config.TLSDropExporter is the server's,
// through ListenTLS and through TLSListener (ServeHTTP), and a Client made
// with it keeps its exporter, as before the split (where the dial path
// never read it).
func TestTLSDropExporterServerOnly(t *testing.T) {
	t.Parallel()
	cert := cliTestCert(t)
	srvTLS := func() *tls.Config { return &tls.Config{Certificates: []tls.Certificate{cert.cert}} }
	for _, tc := range []struct {
		name string
		late bool // TLSListener and net/http, not ListenTLS
	}{{"ListenTLS", false}, {"TLSListener", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, drop := range []bool{false, true} {
				h := &stateHandler{opened: make(chan stateSeen, 1)}
				cfg := Config{TLSDropExporter: drop}
				s, err := NewServer(h, &cfg, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				var addr string
				if tc.late {
					raw, err := net.Listen("tcp", "127.0.0.1:0")
					if err != nil {
						t.Fatal(err)
					}
					ln, err := s.TLSListener(raw, srvTLS())
					if err != nil {
						t.Fatal(err)
					}
					hs := &http.Server{Handler: s}
					served := make(chan struct{})
					go func() { defer close(served); hs.Serve(ln) }()
					t.Cleanup(func() { hs.Close(); <-served })
					addr = raw.Addr().String()
				} else {
					if err := s.ListenTLS("127.0.0.1:0", srvTLS()); err != nil {
						t.Fatal(err)
					}
					addr = s.Addr().String()
				}
				// The client is made with the same Config: it must keep its exporter.
				c := cliDial(t, cliClient(t, nil, cfg), "wss://"+addr+"/", &DialOptions{TLSConfig: clientTLS(t)})
				defer c.Abort()
				cst, ok := c.TLSConnectionState()
				if !ok {
					t.Fatal("client: no TLS state")
				}
				client := seeState(cst)
				server := cliRecv(t, h.opened, "OnOpen")
				if !server.loop || c.c.TLS == nil {
					t.Fatalf("drop %v: server on the loops %v, client %v: the test needs both", drop, server.loop, c.c.TLS != nil)
				}
				if client.ekmErr != nil || len(client.ekm) != 32 {
					t.Errorf("drop %v: the client's exporter: %x, %v", drop, client.ekm, client.ekmErr)
				}
				switch {
				case drop && (!errors.Is(server.ekmErr, ErrNoTLSExporter) || server.ekm != nil):
					t.Errorf("dropped: the server's exporter gave %x, %v", server.ekm, server.ekmErr)
				case !drop && (server.ekmErr != nil || !bytes.Equal(server.ekm, client.ekm)):
					t.Errorf("kept: the server's exporter gave %x, %v; the client's %x", server.ekm, server.ekmErr, client.ekm)
				}
			}
		})
	}
}
