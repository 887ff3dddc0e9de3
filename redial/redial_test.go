package redial

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

func TestDelay(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tests := []struct {
		n         int
		lo, hi    time.Duration
		jitter, r float64
		want      time.Duration
	}{
		{0, 10 * ms, time.Second, 0, 0.5, 10 * ms},
		{1, 10 * ms, time.Second, 0, 0.5, 20 * ms},
		{3, 10 * ms, time.Second, 0, 0.5, 80 * ms},
		{10, 10 * ms, time.Second, 0, 0.5, time.Second}, // capped
		{1000, 10 * ms, time.Second, 0, 0, time.Second}, // no overflow
		{0, 100 * ms, time.Second, 0.2, 0, 80 * ms},     // -20%
		{0, 100 * ms, time.Second, 0.2, 0.5, 100 * ms},  // middle
		{0, 100 * ms, time.Second, 0.2, 0.9999, 119_996 * time.Microsecond},
	}
	for _, tt := range tests {
		got := delay(tt.n, tt.lo, tt.hi, tt.jitter, tt.r)
		if d := got - tt.want; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("delay(%d, %v, %v, %v, %v) = %v, want %v", tt.n, tt.lo, tt.hi, tt.jitter, tt.r, got, tt.want)
		}
	}
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{&upgrade.HandshakeError{Status: 403}, false},
		{&upgrade.HandshakeError{Status: 404}, false},
		{&upgrade.HandshakeError{Status: 408}, true},
		{&upgrade.HandshakeError{Status: 429}, true},
		{&upgrade.HandshakeError{Status: 503}, true},
		{syscall.ECONNREFUSED, true},
		{engine.ErrClientClosed, false},
	}
	for _, tt := range tests {
		if got := Retryable(tt.err); got != tt.want {
			t.Errorf("Retryable(%v) = %v", tt.err, got)
		}
	}
}

// dropper closes each of the first n connections right after it opens, and
// records how the others end.
type dropper struct {
	engine.NopHandler
	n      int32
	opened atomic.Int32
	closes chan frame.StatusCode
}

func (d *dropper) OnOpen(c *engine.Conn) {
	if d.opened.Add(1) <= d.n {
		c.Close(4000, "go away")
	}
}

func (d *dropper) OnClose(_ *engine.Conn, code frame.StatusCode, _ string, _ error) {
	d.closes <- code
}

// counter counts the client side's opens and closes.
type counter struct {
	engine.NopHandler
	opens, closes atomic.Int32
	open          chan struct{}
}

func (c *counter) OnOpen(*engine.Conn) {
	c.opens.Add(1)
	c.open <- struct{}{}
}

func (c *counter) OnClose(*engine.Conn, frame.StatusCode, string, error) { c.closes.Add(1) }

func startServer(t *testing.T, h engine.Handler, u *upgrade.Upgrader) string {
	t.Helper()
	s, err := engine.NewServer(h, nil, u)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return "ws://" + s.Addr().String() + "/"
}

func newClient(t *testing.T) *engine.Client {
	t.Helper()
	cl, err := engine.NewClient(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

func testCtx(t *testing.T) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx, cancel
}

// The server drops three connections; Run reconnects each time, and on cancel
// closes the fourth with 1001 and returns.
func TestRunReconnects(t *testing.T) {
	t.Parallel()
	srv := &dropper{n: 3, closes: make(chan frame.StatusCode, 8)}
	url := startServer(t, srv, nil)
	h := &counter{open: make(chan struct{}, 8)}
	ctx, cancel := testCtx(t)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, newClient(t), url, h, &Options{MinDelay: time.Millisecond})
	}()
	for i := range 4 {
		select {
		case <-h.open:
		case <-ctx.Done():
			t.Fatalf("only %d connections opened", i)
		}
	}
	for range 3 {
		if code := <-srv.closes; code != 4000 {
			t.Fatalf("server saw %d, want its own 4000", code)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if code := <-srv.closes; code != frame.StatusGoingAway {
		t.Fatalf("the last connection ended with %d, want 1001", code)
	}
	if o, c := h.opens.Load(), h.closes.Load(); o != 4 || c != 4 {
		t.Fatalf("client handler saw %d opens and %d closes, want 4 and 4", o, c)
	}
}

// Nothing listens: dials fail with ECONNREFUSED, the waits double up to
// MaxDelay, and Run gives up after MaxElapsed.
func TestRunGivesUp(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var mu sync.Mutex
	var waits []time.Duration
	ctx, _ := testCtx(t)
	err = Run(ctx, newClient(t), "ws://"+addr+"/", engine.NopHandler{}, &Options{
		// MaxElapsed leaves room for four retries on a loaded box: at 60 ms
		// a run at load 10 gave up after three.
		MinDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond, Jitter: -1, MaxElapsed: time.Second,
		OnRetry: func(err error, wait time.Duration) {
			mu.Lock()
			waits = append(waits, wait)
			mu.Unlock()
		},
	})
	if !errors.Is(err, ErrGaveUp) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Run = %v, want ErrGaveUp wrapping ECONNREFUSED", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(waits) < 4 {
		t.Fatalf("%d retries before giving up: %v", len(waits), waits)
	}
	want := []time.Duration{1, 2, 4, 4}
	for i, w := range want {
		if waits[i] != w*time.Millisecond {
			t.Fatalf("waits %v, want %v ms then 4 ms", waits, want)
		}
	}
}

// A refusal that will not change (403) ends Run at once; 429 is retried.
func TestRunRefused(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status int
		retry  bool
	}{{403, false}, {429, true}} {
		var dials atomic.Int32
		url := startServer(t, engine.NopHandler{}, &upgrade.Upgrader{Verify: func(r *upgrade.Request, d *upgrade.Decision) {
			dials.Add(1)
			d.Reject(tt.status, "no")
		}})
		ctx, cancel := testCtx(t)
		retries := make(chan struct{}, 16)
		done := make(chan error, 1)
		go func() {
			done <- Run(ctx, newClient(t), url, engine.NopHandler{}, &Options{MinDelay: time.Millisecond,
				OnRetry: func(error, time.Duration) {
					select {
					case retries <- struct{}{}:
					default:
					}
				}})
		}()
		if !tt.retry {
			err := <-done
			var he *upgrade.HandshakeError
			if !errors.Is(err, ErrGaveUp) || !errors.As(err, &he) || he.Status != tt.status || dials.Load() != 1 {
				t.Fatalf("%d: Run = %v after %d dials, want ErrGaveUp with the HandshakeError after 1", tt.status, err, dials.Load())
			}
			continue
		}
		<-retries
		<-retries
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) || dials.Load() < 2 {
			t.Fatalf("%d: Run = %v after %d dials", tt.status, err, dials.Load())
		}
	}
}

// A MaxDelay that means "no cap" (math.MaxInt64) must not wrap the doubling
// or the jitter's product around to a negative wait: a dial that a hostile
// server keeps failing would then be retried in a hot loop.
func TestDelayHugeMaxDelay(t *testing.T) {
	t.Parallel()
	lo := 500 * time.Millisecond
	for _, hi := range []time.Duration{math.MaxInt64, math.MaxInt64 / 3 * 2, 1 << 62} {
		for _, r := range []float64{0, 0.5, 0.9999} {
			prev := time.Duration(0)
			for n := range 100 {
				d := delay(n, lo, hi, 0.2, r)
				if d < prev || d < lo*8/10 {
					t.Fatalf("hi %v, r %v: delay(%d) = %v after %v", hi, r, n, d, prev)
				}
				prev = d
			}
		}
	}
}

// A NaN Jitter gets the default: min and max pass NaN through, and a NaN
// wait converts to none at all (a hot loop).
func TestOptionsNaNJitter(t *testing.T) {
	t.Parallel()
	o := (&Options{Jitter: math.NaN()}).withDefaults()
	if math.IsNaN(o.Jitter) || o.Jitter != DefaultJitter {
		t.Fatalf("Jitter %v, want the default", o.Jitter)
	}
	if d := delay(0, o.MinDelay, o.MaxDelay, o.Jitter, 0.5); d != DefaultMinDelay {
		t.Fatalf("delay %v", d)
	}
}

// stamper closes every connection as it opens and records when each opened.
type stamper struct {
	engine.NopHandler
	opens chan time.Time
}

func (s *stamper) OnOpen(c *engine.Conn) {
	s.opens <- time.Now()
	c.Close(frame.StatusTryAgainLater, "busy")
}

// A server that accepts every handshake and closes at once must not be
// redialled every MinDelay forever: a connection that ended before MinUptime
// counts as a failure, and the waits double (RFC 6455 §7.2.3). Each gap
// between opens is checked against its lower bound only (a timer never fires
// early; a loaded machine only widens the gaps).
func TestRunBacksOffEarlyLoss(t *testing.T) {
	t.Parallel()
	const lo, opens = 5 * time.Millisecond, 7
	srv := &stamper{opens: make(chan time.Time, 64)}
	url := startServer(t, srv, nil)
	ctx, cancel := testCtx(t)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, newClient(t), url, engine.NopHandler{}, &Options{MinDelay: lo, MaxDelay: time.Hour, Jitter: -1})
	}()
	var at []time.Time
	for len(at) < opens {
		select {
		case ts := <-srv.opens:
			at = append(at, ts)
		case <-ctx.Done():
			t.Fatalf("only %d connections opened", len(at))
		}
	}
	cancel()
	<-done
	for i := 1; i < opens; i++ {
		if gap, want := at[i].Sub(at[i-1]), lo<<(i-1); gap < want {
			t.Fatalf("open %d came %v after open %d, want at least %v (the waits do not back off)", i, gap, i-1, want)
		}
	}
}

// panicky's OnClose panics; the engine contains and logs it (PanicClose).
type panicky struct{ engine.NopHandler }

func (panicky) OnClose(*engine.Conn, frame.StatusCode, string, error) { panic("boom") }

// A panic in the handler's OnClose, which the engine only logs, must not stop
// Run from noticing the loss: it used to skip the signal Run waits on, so Run
// never redialled and, once ctx ended, never returned. A nil handler is
// NopHandler's (it used to panic the same way, in every callback).
func TestRunHandlerPanicsInOnClose(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		h    engine.Handler
	}{{"OnClose panics", panicky{}}, {"nil handler", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := &stamper{opens: make(chan time.Time, 64)}
			url := startServer(t, srv, nil)
			cl, err := engine.NewClient(nil, &engine.Config{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cl.Close() })
			ctx, cancel := testCtx(t)
			done := make(chan error, 1)
			go func() { done <- Run(ctx, cl, url, tc.h, &Options{MinDelay: time.Millisecond, MinUptime: -1}) }()
			for i := range 3 {
				select {
				case <-srv.opens:
				case <-time.After(10 * time.Second):
					t.Fatalf("no redial after %d connections", i)
				}
			}
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Run = %v, want context.Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after ctx ended")
			}
		})
	}
}
