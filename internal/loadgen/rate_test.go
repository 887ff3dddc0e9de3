package loadgen

import (
	"bytes"
	"context"
	"io"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

func TestStamp(t *testing.T) {
	t.Parallel()
	for _, ns := range []int64{0, 1, time.Now().UnixNano(), 1<<63 - 1} {
		b := bytes.Repeat([]byte{'.'}, stampLen+5)
		putStamp(b[3:], ns)
		got, ok := findStamp(b)
		if !ok || got != ns {
			t.Errorf("stamp %d: read %d %v from %q", ns, got, ok, b)
		}
	}
	for _, p := range []string{"", "wts:", "wts:0123456789abcde", "wts:0123456789abcdeg", "nothing here at all, really"} {
		if _, ok := findStamp([]byte(p)); ok {
			t.Errorf("findStamp(%q) found one", p)
		}
	}
}

func TestFanoutPayload(t *testing.T) {
	t.Parallel()
	for _, size := range []int{0, 64, 1000} {
		msg, at := fanoutPayload(size)
		putStamp(msg[at:], 42)
		if ns, ok := findStamp(msg); !ok || ns != 42 {
			t.Fatalf("size %d: stamp %d %v in %q", size, ns, ok, msg)
		}
		if !utf8.Valid(msg) || msg[0] != '{' || !bytes.HasSuffix(msg, []byte(`"}`)) {
			t.Fatalf("size %d: %q is not chat JSON", size, msg)
		}
		if size >= 64 && len(msg) != size {
			t.Fatalf("size %d: %d bytes", size, len(msg))
		}
	}
}

// TestRate: the open loop sends about Rate messages a second whatever the echo
// server does, and measures every echo.
func TestRate(t *testing.T) {
	t.Parallel()
	srv, _ := startEcho(t, engine.Config{})
	p := start(t, Options{Target: srv.Addr().String(), Conns: 4, Size: 64, Rate: 200})
	if err := p.Send(CmdGo); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // to let messages flow; no assertion on timing
	e := reportUntil(t, p, func(e Event) bool { return e.Msgs >= 50 })
	if e.Errors != 0 || e.Sent < e.Msgs || !near(e.Hist.Count(), e.Msgs, 1000) {
		t.Fatalf("result %+v (hist %d)", e, e.Hist.Count())
	}
	// 200/s for at least 0.5 s: no more than the schedule allows, by a wide margin
	// for a busy machine.
	if e.Sent > 2000 {
		t.Fatalf("sent %d: the loop is not rate-limited", e.Sent)
	}
}

// near reports whether a histogram's count and a counter read in one report
// can agree: a sample goes into the histogram before the counter, and a report
// reads the counter first, so the histogram may be ahead by the samples
// recorded meanwhile (slack, generous for a busy machine), never behind.
func near(hist, msgs, slack uint64) bool {
	return hist >= msgs && hist <= msgs+slack
}

// stallServer echoes, but holds every echo that arrives while stalled until the
// stall ends: a server hiccup that a closed loop would hide.
type stallServer struct {
	engine.NopHandler
	stalled atomic.Bool
}

func (s *stallServer) OnMessage(c *engine.Conn, op frame.Opcode, p []byte) {
	for s.stalled.Load() {
		time.Sleep(time.Millisecond)
	}
	c.WriteMessage(op, p)
}

// TestRateSeesStall: with the server stalled for 300 ms, the open loop's p99 is
// at least the stall (messages due meanwhile are late by up to all of it), as a
// closed loop with one connection would not show: it sends one message and waits.
func TestRateSeesStall(t *testing.T) {
	t.Parallel()
	h := &stallServer{}
	srv, err := engine.NewServer(h, &engine.Config{Workers: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	p := start(t, Options{Target: srv.Addr().String(), Conns: 1, Size: 32, Rate: 100})
	h.stalled.Store(true)
	if err := p.Send(CmdGo); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	h.stalled.Store(false)
	e := reportUntil(t, p, func(e Event) bool { return e.Msgs >= 20 })
	if q := e.Hist.Quantile(.99); q < 150*time.Millisecond {
		t.Fatalf("p99 %v over a 300 ms stall: the send schedule is not the clock", q)
	}
}

// broadcastServer sends every message to every connection.
type broadcastServer struct {
	engine.NopHandler
	srv *engine.Server
}

func (b *broadcastServer) OnMessage(_ *engine.Conn, op frame.Opcode, p []byte) {
	b.srv.Broadcast(engine.NewPreparedMessage(op, p), nil)
}

// TestFanout: one publisher, every connection (it included) hears every message.
func TestFanout(t *testing.T) {
	t.Parallel()
	h := &broadcastServer{}
	srv, err := engine.NewServer(h, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	p := start(t, Options{Target: srv.Addr().String(), Conns: 10, Size: 64, Fanout: true, Publishers: 1, Rate: 50})
	if err := p.Send(CmdGo); err != nil {
		t.Fatal(err)
	}
	e := reportUntil(t, p, func(e Event) bool { return e.Sent >= 5 && e.Msgs >= 10*5 })
	if e.Errors != 0 || !near(e.Hist.Count(), e.Msgs, 1000) || e.Msgs > 10*e.Sent {
		t.Fatalf("result %+v", e)
	}
}

// TestConnectBound: dials to a listener that never answers end with the connect
// phase, all counted as failed, however long one dial may take.
func TestConnectBound(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	start := time.Now()
	p := Local(testCtx(t), Options{Target: ln.Addr().String(), Conns: 200, Size: 8,
		DialTimeout: time.Minute, ConnectFor: 300 * time.Millisecond}, testLog{t})
	t.Cleanup(func() { p.Close() })
	ready, err := p.Await(testCtx(t), EvReady, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ready.Conns != 0 || ready.Failed != 200 {
		t.Fatalf("ready %+v, want 0 up, 200 failed", ready)
	}
	if el := time.Since(start); el > 20*time.Second {
		t.Fatalf("connect phase took %v with ConnectFor 300ms", el)
	}
}

// TestDialTimeout: one dial to a listener that never answers fails after
// DialTimeout, not the 20 s default.
func TestDialTimeout(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	p := Local(ctx, Options{Target: ln.Addr().String(), Conns: 3, Size: 8, DialTimeout: 200 * time.Millisecond}, testLog{t})
	t.Cleanup(func() { p.Close() })
	ready, err := p.Await(ctx, EvReady, nil)
	if err != nil {
		t.Fatalf("no ready within 15 s: %v", err)
	}
	if ready.Failed != 3 {
		t.Fatalf("ready %+v, want 3 failed", ready)
	}
}

// TestMarkCountsNoEarlierSend: after a mark, no delivery is counted whose
// send was not (fan-out's check: at most one delivery a connection per
// message sent). A publisher that sent while mark was zeroing the counters
// (its stamp already past the new mark, its send zeroed away) was counted on
// delivery: TestBenchFanout once saw 2,480 deliveries of 100 messages to 20
// connections at load 10, the mark's goroutine preempted mid-way.
func TestMarkCountsNoEarlierSend(t *testing.T) {
	t.Parallel()
	g := &gen{}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // a publisher whose message arrives at once, once
		defer close(done)
		p := make([]byte, stampLen)
		for {
			select {
			case <-stop:
				return
			default:
			}
			putStamp(p, time.Now().UnixNano())
			g.sent.Add(1)
			g.gotStamped(p)
		}
	}()
	defer func() { close(stop); <-done }()
	worst := int64(0)
	deadline := time.Now().Add(2 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		g.mark()
		runtime.Gosched()
		// msgs first: a message may be sent and not yet delivered, never
		// the other way round (one in flight: the publisher's own).
		m := int64(g.msgs.Load())
		s := int64(g.sent.Load())
		worst = max(worst, m-s)
	}
	if worst > 1 {
		t.Fatalf("after a mark, %d more deliveries counted than messages sent", worst)
	}
}

// loopback is a msgWriter whose message arrives at once (gotStamped, as an
// echo would) and whose first write stalls: a publisher starved of CPU.
type loopback struct {
	g       *gen
	stall   time.Duration
	stalled atomic.Bool
}

func (l *loopback) WriteMessage(_ frame.Opcode, p []byte) error {
	if !l.stalled.Swap(true) {
		time.Sleep(l.stall)
	}
	l.g.gotStamped(p)
	return nil
}

// TestMarkLatePublisher: a publisher that falls behind its schedule across a
// mark sends the messages due before it late, after the mark. Those are
// warm-up traffic (their deliveries do not count), so their sends do not
// either: a starved `weir bench -rate` reported 599 sent and 0 echoed.
func TestMarkLatePublisher(t *testing.T) {
	t.Parallel()
	g := &gen{o: Options{Rate: 1000}}
	g.mode.Store(modeRate)
	l := &loopback{g: g, stall: 400 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		msg := make([]byte, stampLen)
		g.publish(ctx, modeRate, []msgWriter{l}, frame.OpBinary, msg, 0)
	}()
	defer func() { cancel(); <-done }()
	time.Sleep(200 * time.Millisecond) // the publisher is in its stall
	g.mark()
	// After the stall the publisher catches up: about 400 messages due
	// before the mark go out after it, then the schedule's own.
	time.Sleep(400 * time.Millisecond)
	m, s := g.msgs.Load(), g.sent.Load()
	if s > m+1 || m > s {
		t.Fatalf("after a mark: %d sent, %d delivered (each message arrives at once)", s, m)
	}
}

// TestReportWindow: a result says how long its counts cover, from the mark, so
// a parent that sent "report" long after (or whose generator obeyed it late)
// divides by the right time.
func TestReportWindow(t *testing.T) {
	t.Parallel()
	g, err := newGen(Options{Target: "127.0.0.1:1", Conns: 1, Size: 8}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.close)
	if w := g.report().Window; w != 0 {
		t.Fatalf("before a mark: window %v", time.Duration(w))
	}
	g.mark()
	time.Sleep(50 * time.Millisecond)
	if w := time.Duration(g.report().Window); w < 50*time.Millisecond || w > time.Minute {
		t.Fatalf("50 ms after the mark: window %v", w)
	}
}
