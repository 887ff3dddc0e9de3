package wsconn

import (
	"github.com/weir-ws/weir/internal/assemble"
	"github.com/weir-ws/weir/internal/opening"

	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/internal/sock"
	"github.com/weir-ws/weir/internal/turns"
	"github.com/weir-ws/weir/internal/wsread"
)

// The read path (worker context). Bytes are read into the worker's buffer and fed to
// the connection's frame reader (internal/wsread), the one place that parses and
// checks frames: a frame that is wholly there is unmasked where it lies and a
// single-frame message goes to OnMessage as a slice of that buffer, with no copy.
// Only a frame cut by the end of a read is copied, into a pooled buffer of the
// reader's that grows as bytes arrive (never to what the header declares), and once
// it holds a read's worth, later reads go straight into it. Payload bytes are
// unmasked and UTF-8-checked as they arrive, so a bad byte fails the connection at
// once, even mid-frame (RFC 6455 §8.1 "fail fast").

// smallIn is the smallest pooled size taken to keep bytes.
const smallIn = 64

// readReady reads what the socket has (the poller is edge-triggered, so until a
// short read or EAGAIN). It reports whether it stopped early with more to read.
// Connections on the loops only: goroutine mode's reader reads in perconn.
func (c *Conn) readReady(w *worker, hup bool) (more bool) {
	r := c.ReadSide.Get(w)
	// The turn's budget (internal/turns): a heavy connection (stHeavy,
	// sched.go) gets the full one, a light one under DispatchPool less.
	t := turns.StartRead(c.Sched.Load()&StHeavy != 0, c.Eng().pooled)
	for {
		if r.close.Finished() || r.flags&rfVerifyWait != 0 || c.paused.Load() {
			return false
		}
		if c.readHeld() { // output above WriteHighWater: stop (backpressure.go)
			return false
		}
		if spent, heavy := t.Spent(); spent {
			if heavy {
				c.Sched.Or(StHeavy)
			}
			return true
		}
		if c.TLS != nil {
			// wss on the loops: records are opened before the protocol sees
			// a byte (tlsloop.go), in the worker's buffer behind the kept
			// partial record.
			n, full, err := c.readTLS(w)
			t.Took(n)
			if n > 0 {
				if !full && !hup {
					c.drained(&t) // a short read drained the socket
					return false
				}
				continue
			}
			if c.readErr(w, err) {
				continue
			}
			c.drained(&t)
			return false
		}
		buf := w.buf
		direct := false
		room, err := r.parser.ReadSpace(&c.Eng().Cfg.ReadLimits, len(buf))
		if err != nil { // its growth is over the inbound budget
			c.fail(w, err)
			return false
		}
		if room != nil {
			// A large frame in flight: read straight into its buffer, no copy.
			buf, direct = room, true
		}
		buf = t.Room(buf) // a light turn reads no more than its budget
		n, err := c.sysRead(buf)
		t.Took(n)
		if n > 0 {
			c.stats.bytesIn.Add(uint64(n))
			c.touch(w)
			if direct {
				if err := r.parser.Commit(n); err != nil {
					c.fail(w, err)
				} else {
					c.parse(w, nil)
				}
			} else {
				c.consume(w, buf[:n])
			}
			if n < len(buf) && !hup {
				// A short read drained the socket; new data brings a new edge.
				c.drained(&t)
				return false
			}
			continue
		}
		if c.readErr(w, err) {
			continue
		}
		c.drained(&t)
		return false
	}
}

// drained ends a heavy connection's heaviness when its turn, which read the
// socket dry, read little (turns.Read.Light). An error or EOF ends the
// connection, and what it leaves no longer matters.
func (c *Conn) drained(t *turns.Read) {
	if t.Light() {
		c.Sched.And(^StHeavy)
	}
}

// readErr handles a read that returned no bytes and reports whether to read
// again (an interrupted call).
func (c *Conn) readErr(w *worker, err error) (again bool) {
	switch {
	case err == nil: // n == 0: the peer closed its side
		c.onEOF(w)
	case sock.IsAgain(err):
	case sock.IsIntr(err):
		return true
	default:
		c.onIOError(w, err)
	}
	return false
}

// touch records input for keepalive and idle timing.
func (c *Conn) touch(w *worker) {
	if !c.placed() {
		return
	}
	now := c.Loop.wheel.Now()
	if c.lastRead.Load() != now {
		c.lastRead.Store(now)
	}
	if due := c.due.Get(w); due.ping != 0 {
		// Input answers a keepalive ping: the next one is due PingInterval from now,
		// not at the end of the grace period the wheel entry waits for.
		due.ping = 0
		c.armKeepalive(w)
	}
}

// consume feeds freshly read bytes (in the worker's buffer) to the protocol.
func (c *Conn) consume(w *worker, data []byte) {
	r := c.ReadSide.Get(w)
	if r.close.Discarding() {
		return
	}
	if r.flags&rfVerifyWait != 0 {
		// Goroutine mode keeps reading while a deferred verify decision is pending
		// (to notice a hang-up): kept, within reason, for after it.
		opening.Early(c.opening(), w, data)
		c.adoptKept(w)
		c.settleKept(w)
		return
	}
	if r.flags&rfHandshake != 0 {
		c.handshakeInput(w, data)
		return
	}
	if r.flags&rfStash != 0 {
		// Bytes kept unparsed by a pause come first: parse them with the new ones.
		r.flags &^= rfStash
		buf := assemble.Keep(r.Extras.Unparsed, data, 0) // rfStash: extras made
		r.Extras.Unparsed = nil
		c.parse(w, buf)
		bufpool.Put(buf)
		return
	}
	c.parse(w, data)
}

// parse runs the frame reader over data: whole frames in it are handled in place,
// a trailing partial one is kept by the reader. A callback that pauses the
// connection leaves the rest of data unparsed, kept for ResumeRead.
func (c *Conn) parse(w *worker, data []byte) {
	r := c.ReadSide.Get(w)
	lim := &c.Eng().Cfg.ReadLimits // the parser's, passed to every call (a word less per Conn)
	if !r.parser.Started() {
		// Open now, with the extensions negotiated: RSV1 is permessage-deflate's.
		r.parser.Start(lim, c.client(), c.compression() != nil)
	}
	for !r.close.Over() {
		if len(data) > 0 && c.paused.Load() {
			// A callback paused the connection: keep the rest, unparsed, for
			// ResumeRead. Not paused.Load() again: a ResumeRead from another
			// goroutine may have cleared it since, and its event, handled after
			// this one, parses the stash.
			r.extra().Unparsed = assemble.Keep(nil, data, smallIn)
			r.flags |= rfStash
			return
		}
		ev, n, err := r.parser.Next(lim, data)
		data = data[n:]
		if err != nil {
			c.fail(w, err)
			return
		}
		switch ev.Kind {
		case wsread.EvNone:
			return
		case wsread.EvHeader:
			c.Eng().Cfg.Trace.FrameIn(c, ev.Header) // Limits.Headers is set only with a tracer
			continue
		}
		c.frameEnd(w, &ev)
	}
}
