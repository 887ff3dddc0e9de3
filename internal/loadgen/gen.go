package loadgen

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

// What arriving messages mean: nothing yet, an echo (closed loop), a broadcast,
// a stamped echo (open loop) or a stamped fan-out message.
const (
	modeIdle int32 = iota
	modeEcho
	modeBcast
	modeRate
	modeFanout
)

const (
	// dialers is the number of goroutines opening connections in the connect phase.
	dialers = 64
	// handshakeTimeout bounds one WebSocket dial; generous, since a loaded server
	// may take a while to accept tens of thousands.
	handshakeTimeout = 20 * time.Second
	// loggedDialErrors is how many dial errors a generator writes to its log; the
	// rest are only counted.
	loggedDialErrors = 3
)

// gen is one generator: its client, connections, counters and histogram.
type gen struct {
	o     Options
	url   string // ws:// or wss:// URL
	addr  string // host:port, for raw TCP
	log   io.Writer
	start time.Time
	msg   []byte
	op    frame.Opcode

	cl   *engine.Client
	dial []*engine.DialOptions // by source address (index i mod len)

	mu  sync.Mutex
	ws  []*engine.Conn
	raw []net.Conn

	mode       atomic.Int32
	up, failed atomic.Int64 // connect phase
	compressed atomic.Int64 // connections that negotiated permessage-deflate
	msgs, errs atomic.Uint64
	sent       atomic.Uint64 // rate, fanout: messages sent
	markNs     atomic.Int64  // rate, fanout: Unix ns of the last mark; older stamps are not counted
	handshakes atomic.Uint64 // storm
	h          hist
	pub        sync.WaitGroup // the publisher goroutine (rate, fanout)

	bcastGen  atomic.Int64 // generation of the broadcast now expected
	bcastGot  atomic.Int64 // connections that got it
	bcastLast atomic.Int64 // unix ns when the last one did
	bcastWant int64
}

// connState is one WebSocket connection's state, in its UserData.
type connState struct {
	sent  atomic.Int64 // ns since gen.start of the last echo send
	bcast atomic.Int64 // broadcast generation last seen
}

func newGen(o Options, log io.Writer) (*gen, error) {
	u, addr, err := o.endpoint()
	if err != nil {
		return nil, err
	}
	g := &gen{o: o, url: u.String(), addr: addr, log: log, start: time.Now(), op: frame.OpBinary}
	g.msg = binaryPayload(o.Size)
	if o.Text {
		g.op, g.msg = frame.OpText, jsonLike(o.Size)
	}
	cfg := &engine.Config{PingInterval: -1, HandshakeTimeout: handshakeTimeout}
	if g.cl, err = engine.NewClient(handler{g: g}, cfg); err != nil {
		return nil, err
	}
	for s := range max(o.Sources, 1) {
		d := &engine.DialOptions{Handler: handler{g: g}, NoProxy: true, HandshakeTimeout: o.dialTimeout()}
		if ip := srcAddr(s, o.Sources); ip != nil {
			d.LocalAddr = &net.TCPAddr{IP: ip}
		}
		if o.Deflate {
			d.Compression = &deflate.Options{}
		}
		g.dial = append(g.dial, d)
	}
	return g, nil
}

// now is the time since the generator started, in ns: what connState.sent holds.
func (g *gen) now() int64 { return time.Since(g.start).Nanoseconds() }

// handler receives every WebSocket connection's events.
type handler struct {
	engine.NopHandler
	g *gen
}

func (h handler) OnMessage(c *engine.Conn, _ frame.Opcode, p []byte) {
	g := h.g
	cs, _ := c.UserData().(*connState)
	if cs == nil {
		return // before connect set it up: not ours to count
	}
	switch g.mode.Load() {
	case modeEcho:
		now := g.now()
		g.h.add(now - cs.sent.Load())
		g.msgs.Add(1)
		if len(p) != len(g.msg) {
			g.errs.Add(1) // not an echo of what we sent
		}
		cs.sent.Store(now)
		if err := c.WriteMessage(g.op, g.msg); err != nil {
			g.errs.Add(1)
		}
	case modeBcast:
		g.gotBcast(&cs.bcast)
	case modeRate:
		if !g.gotStamped(p) || len(p) != len(g.msg) {
			g.errs.Add(1) // not an echo of what we sent
		}
	case modeFanout:
		g.gotStamped(p) // anything else the server sends is not ours to count
	}
}

// gotBcast counts a connection's first message of the current broadcast.
func (g *gen) gotBcast(seen *atomic.Int64) {
	gen := g.bcastGen.Load()
	if seen.Swap(gen) == gen {
		return
	}
	if g.bcastGot.Add(1) == g.bcastWant {
		g.bcastLast.Store(time.Now().UnixNano())
	}
}

// connect opens o.Conns connections from dialers goroutines; ctx, or the end of
// o.ConnectFor, ends it early (the dials not made count as failed).
func (g *gen) connect(ctx context.Context) {
	if g.o.ConnectFor > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.o.ConnectFor)
		defer cancel()
	}
	idx := make(chan int)
	var wg sync.WaitGroup
	for range dialers {
		wg.Go(func() {
			for i := range idx {
				g.open(ctx, g.o.Base+i)
			}
		})
	}
feed:
	for i := range g.o.Conns {
		select {
		case idx <- i:
		case <-ctx.Done():
			g.failed.Add(int64(g.o.Conns - i))
			break feed
		}
	}
	close(idx)
	wg.Wait()
	g.bcastWant = int64(len(g.ws) + len(g.raw))
	for _, nc := range g.raw {
		go g.rawLoop(nc)
	}
}

// open dials the connection with global index i.
func (g *gen) open(ctx context.Context, i int) {
	if g.o.Raw {
		nc, err := newDialer(srcAddr(i, g.o.Sources), g.o.dialTimeout()).DialContext(ctx, "tcp", g.addr)
		if err != nil {
			g.dialFailed(err)
			return
		}
		g.mu.Lock()
		g.raw = append(g.raw, nc)
		g.mu.Unlock()
	} else {
		c, _, err := g.cl.Dial(ctx, g.url, g.dial[i%len(g.dial)])
		if err != nil {
			g.dialFailed(err)
			return
		}
		c.SetUserData(&connState{})
		if _, ok := c.Compression(); ok {
			g.compressed.Add(1)
		}
		g.mu.Lock()
		g.ws = append(g.ws, c)
		g.mu.Unlock()
	}
	g.up.Add(1)
}

func (g *gen) dialFailed(err error) {
	if g.failed.Add(1) <= loggedDialErrors {
		fmt.Fprintln(g.log, "loadgen: dial:", err)
	}
}

// begin starts the workload ("go"): the open loop or fan-out when asked for,
// else the closed echo loop.
func (g *gen) begin(ctx context.Context) {
	if g.o.Rate > 0 || g.o.Fanout {
		g.startPublish(ctx)
		return
	}
	g.startEcho()
}

// startEcho puts one message in flight on every connection.
func (g *gen) startEcho() {
	if g.mode.Swap(modeEcho) == modeEcho {
		return
	}
	for _, nc := range g.raw {
		nc.SetReadDeadline(time.Now()) // wakes rawLoop's wait
	}
	now := g.now()
	for _, c := range g.ws {
		c.UserData().(*connState).sent.Store(now)
		if err := c.WriteMessage(g.op, g.msg); err != nil {
			g.errs.Add(1)
		}
	}
}

// mark zeroes the histogram, then the counters; stamped messages sent before it
// (warm-up traffic still in flight) are not counted after it. Round trips complete while it
// runs, so the two may disagree by the messages then in flight (one a connection):
// a round trip recorded in the histogram before its bucket was zeroed but counted
// after the counter was. Any later round trip is in both.
//
// The window is shut while the counters are zeroed and opened at a time taken
// after: a message sent while they were being zeroed (its send possibly
// zeroed away) is due before the new mark, so its deliveries are not counted
// either. Setting the mark first let such a message's deliveries count
// without its send, for as long as this goroutine was preempted mid-way.
func (g *gen) mark() {
	g.markNs.Store(math.MaxInt64) // no stamp counts while the counters are zeroed
	g.h.reset()
	g.msgs.Store(0)
	g.errs.Store(0)
	g.sent.Store(0)
	g.handshakes.Store(0)
	g.markNs.Store(time.Now().UnixNano())
}

// armBcast makes every connection wait for one more broadcast message.
func (g *gen) armBcast() {
	g.bcastGot.Store(0)
	g.bcastLast.Store(0)
	g.bcastGen.Add(1)
	g.mode.Store(modeBcast)
}

// report is the "result" event: everything counted since the last mark, and
// how long ago that was.
func (g *gen) report() Event {
	e := Event{Ev: EvResult, Msgs: g.msgs.Load(), Sent: g.sent.Load(), Errors: g.errs.Load(), Handshakes: g.handshakes.Load(),
		Hist: g.h.read(), BcastGot: g.bcastGot.Load(), BcastLast: g.bcastLast.Load(),
		Open: int64(g.cl.NumConns() + len(g.raw))}
	if m := g.markNs.Load(); m > 0 && m != math.MaxInt64 {
		e.Window = max(time.Now().UnixNano()-m, 0)
	}
	return e
}

// close ends every connection and the client.
func (g *gen) close() {
	g.mode.Store(modeIdle)
	for _, nc := range g.raw {
		nc.Close()
	}
	g.cl.Close()
}

// binaryPayload returns n bytes of the alphabet, repeated.
func binaryPayload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

// jsonLike returns n bytes of JSON-ish text (records with varying numbers and
// repeated keys), compressible the way real API traffic is.
func jsonLike(n int) []byte {
	if n == 0 {
		return []byte{}
	}
	b := []byte{'['}
	for i := 0; len(b) < n; i++ {
		b = fmt.Appendf(b, `{"id":%d,"user":"user-%d","price":%d.%02d,"tags":["alpha","beta"],"ok":%t},`,
			1000+i*7919%9973, i*31%97, i*13%500, i*17%100, i%3 == 0)
	}
	b = b[:n]
	b[n-1] = ']'
	return b
}
