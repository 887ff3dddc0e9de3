package engine

import (
	"errors"

	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/sock"
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

// maxEarlyBytes caps what a client may send while its handshake waits for a
// deferred decision.
const maxEarlyBytes = 64 << 10

var errEarlyData = errors.New("weir: too much data before the handshake was answered")

// maxReadsPerTurn bounds the reads one connection gets before others have a turn
// (a flooding peer must not hold a worker, or an inline loop, forever), and
// maxTurnBytes the bytes: a read of a large frame's payload goes straight into
// its buffer and may take more than a read buffer's worth. A flooder then
// holds a worker for 128 KiB of input and its echoes, not for 32 full reads (2
// MiB with the default buffer): with hundreds of flooders queued, that is what
// a fresh connection waits for (issue 12).
//
// Under DispatchPool a turn taken from the fresh lane (the connection is not
// heavy) reads at most lightTurnBytes: a message of up to 16 KiB and its
// header still come in one read, and so do the echo benchmarks'. A turn that
// ends on its budget makes the connection heavy (stHeavy, sched.go): its later
// turns, whatever wakes them, wait in the back lane with the full budget,
// until one reads the socket dry with little read. So the fresh lane only
// ever holds light work: when 200 connections start flooding at once, a fresh
// client's handshake and first message wait behind at most 32 KiB of each
// (issue 12: measured, that surge is what the first probe of
// TestAttackNeverReads waited for), not behind 128 KiB and the echoes of
// every flooder's every edge.
const (
	maxReadsPerTurn = 32
	maxTurnBytes    = 128 << 10
	lightTurnBytes  = 32 << 10
)

// readReady reads what the socket has (the poller is edge-triggered, so until a
// short read or EAGAIN). It reports whether it stopped early with more to read.
func (c *Conn) readReady(w *worker, hup bool) (more bool) {
	r := c.read.Get(w)
	got := 0 // bytes read this turn
	budget, heavy, light := c.turnBudget()
	for i := 0; ; i++ {
		if r.flags&(rfFinished|rfVerifyWait) != 0 || c.paused.Load() {
			return false
		}
		if c.readHeld() { // output above WriteHighWater: stop (backpressure.go)
			return false
		}
		if (i == maxReadsPerTurn || got >= budget) && c.goroutine == nil {
			if light {
				c.sched.Or(stHeavy)
			}
			return true
		}
		if c.tls != nil {
			// wss on the loops: records are opened before the protocol sees
			// a byte (tlsloop.go), in the worker's buffer behind the kept
			// partial record.
			n, full, err := c.readTLS(w)
			got += n
			if n > 0 {
				if !full && !hup {
					c.drained(heavy, got) // a short read drained the socket
					return false
				}
				continue
			}
			if c.readErr(w, err) {
				continue
			}
			c.drained(heavy, got)
			return false
		}
		buf := w.buf
		direct := false
		room, err := r.parser.ReadSpace(len(buf))
		if err != nil { // its growth is over the inbound budget
			c.fail(w, err)
			return false
		}
		if room != nil {
			// A large frame in flight: read straight into its buffer, no copy.
			buf, direct = room, true
		}
		if light && len(buf) > budget-got {
			buf = buf[:budget-got] // a light turn reads no more than its budget
		}
		n, err := c.sysRead(buf)
		got += n
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
				c.drained(heavy, got)
				return false
			}
			continue
		}
		if c.readErr(w, err) {
			continue
		}
		c.drained(heavy, got)
		return false
	}
}

// turnBudget is the bytes a read turn may take, whether the connection is
// heavy, and whether the turn is light (see lightTurnBytes): its reads are
// cut to what is left of the budget.
func (c *Conn) turnBudget() (budget int, heavy, light bool) {
	switch {
	case c.sched.Load()&stHeavy != 0:
		return maxTurnBytes, true, false
	case c.eng.pool == nil || c.goroutine != nil:
		return maxTurnBytes, false, false // inline loops and goroutine mode have one lane
	}
	return lightTurnBytes, false, true
}

// drained ends a heavy connection's heaviness when its turn read the socket
// dry having read less than a light turn may: a flooder whose heavy turn
// happens to catch up with its input stays heavy (its next edge would bring
// another full read into the fresh lane), while a connection that sent one
// burst is light again from its next small read. An error or EOF ends the
// connection, and what it leaves no longer matters.
func (c *Conn) drained(heavy bool, got int) {
	if heavy && got < lightTurnBytes {
		c.sched.And(^stHeavy)
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
	if c.loop == nil {
		return
	}
	now := c.loop.wheel.Now()
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
	r := c.read.Get(w)
	if r.flags&rfDiscard != 0 {
		return
	}
	if r.flags&rfVerifyWait != 0 {
		// Goroutine mode keeps reading while a deferred verify decision is pending
		// (to notice a hang-up): keep what comes, within reason, for after it.
		if len(r.unparsed)+len(data) > maxEarlyBytes {
			c.finish(w, frame.StatusAbnormalClosure, "", errEarlyData)
			return
		}
		if r.unparsed == nil {
			r.unparsed = bufpool.Get(len(data))[:0]
		} else if cap(r.unparsed)-len(r.unparsed) < len(data) {
			r.unparsed = bufpool.Grow(r.unparsed, len(data))
		}
		r.unparsed = append(r.unparsed, data...)
		return
	}
	if r.flags&rfHandshake != 0 {
		c.handshakeInput(w, data)
		return
	}
	if r.flags&rfStash != 0 {
		// Bytes kept unparsed by a pause come first: parse them with the new ones.
		r.flags &^= rfStash
		buf := r.unparsed
		r.unparsed = nil
		if cap(buf)-len(buf) < len(data) {
			buf = bufpool.Grow(buf, len(data))
		}
		buf = append(buf, data...)
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
	r := c.read.Get(w)
	if !r.parser.Started() {
		// Open now, with the extensions negotiated: RSV1 is permessage-deflate's.
		r.parser.Start(&c.eng.cfg.readLimits, c.client, c.compression() != nil)
	}
	for r.flags&(rfFinished|rfDiscard) == 0 {
		if len(data) > 0 && c.paused.Load() {
			// A callback paused the connection: keep the rest, unparsed, for
			// ResumeRead. Not paused.Load() again: a ResumeRead from another
			// goroutine may have cleared it since, and its event, handled after
			// this one, parses the stash.
			r.unparsed = append(bufpool.Get(max(len(data), smallIn))[:0], data...)
			r.flags |= rfStash
			return
		}
		ev, n, err := r.parser.Next(data)
		data = data[n:]
		if err != nil {
			c.fail(w, err)
			return
		}
		switch ev.Kind {
		case wsread.EvNone:
			return
		case wsread.EvHeader:
			c.eng.cfg.Trace.FrameIn(c, ev.Header) // Limits.Headers is set only with a tracer
			continue
		}
		c.frameEnd(w, &ev)
	}
}
