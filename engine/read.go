package engine

import (
	"errors"
	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/frame"
)

// The read path (worker context). Bytes are read into the worker's buffer and parsed
// in place: a frame that is wholly there is unmasked where it lies and a
// single-frame message goes to OnMessage as a slice of that buffer, with no copy.
// Only a frame cut by the end of a read is copied, into a pooled buffer (c.in) sized
// to the whole frame as its header declares (after the limits have been checked), and
// the next reads complete it there. Payload bytes are unmasked and UTF-8-checked as
// they arrive, so a bad byte fails the connection at once, even mid-frame (RFC 6455
// §8.1 "fail fast").

// smallIn is the pooled size used to hold a partial frame header.
const smallIn = 64

// maxEarlyBytes caps what a client may send while its handshake waits for a
// deferred decision.
const maxEarlyBytes = 64 << 10

var errEarlyData = errors.New("weir: too much data before the handshake was answered")

// maxReadsPerTurn bounds the reads one connection gets before others have a turn
// (a flooding peer must not hold a worker, or an inline loop, forever).
const maxReadsPerTurn = 32

// readReady reads what the socket has (the poller is edge-triggered, so until a
// short read or EAGAIN). It reports whether it stopped early with more to read.
func (c *Conn) readReady(w *worker, hup bool) (more bool) {
	for i := 0; ; i++ {
		if c.rflags&(rfFinished|rfVerifyWait) != 0 || c.paused.Load() {
			return false
		}
		if c.readHeld() { // output above WriteHighWater: stop (backpressure.go)
			return false
		}
		if i == maxReadsPerTurn && c.g == nil {
			return true
		}
		buf := w.buf
		direct := false
		if c.in != nil && c.inNeed-len(c.in) >= len(buf) {
			// A large frame in flight: read straight into its buffer, no copy.
			buf = c.in[len(c.in):c.inNeed]
			direct = true
		}
		n, err := c.sysRead(buf)
		if n > 0 {
			c.stats.bytesIn.Add(uint64(n))
			c.touch()
			if direct {
				c.in = c.in[:len(c.in)+n]
				c.feed(w, nil)
			} else {
				c.consume(w, buf[:n])
			}
			if n < len(buf) && !hup {
				// A short read drained the socket; new data brings a new edge.
				return false
			}
			continue
		}
		if err == nil { // n == 0: the peer closed its side
			c.onEOF()
			return false
		}
		if isAgain(err) {
			return false
		}
		if isIntr(err) {
			continue
		}
		c.onIOError(err)
		return false
	}
}

// touch records input for keepalive and idle timing.
func (c *Conn) touch() {
	if c.loop == nil {
		return
	}
	now := c.loop.wheel.now.Load()
	if c.lastRead.Load() != now {
		c.lastRead.Store(now)
	}
	if c.pingDue != 0 {
		// Input answers a keepalive ping: the next one is due PingInterval from now,
		// not at the end of the grace period the wheel entry waits for.
		c.pingDue = 0
		c.armKeepalive()
	}
}

// consume feeds freshly read bytes (in the worker's buffer) to the protocol.
func (c *Conn) consume(w *worker, data []byte) {
	if c.rflags&rfDiscard != 0 {
		return
	}
	if c.rflags&rfVerifyWait != 0 {
		// Goroutine mode keeps reading while a deferred verify decision is pending
		// (to notice a hang-up): keep what comes, within reason, for after it.
		if len(c.in)+len(data) > maxEarlyBytes {
			c.finish(frame.StatusAbnormalClosure, "", errEarlyData)
			return
		}
		if c.in == nil {
			c.in = bufpool.Get(len(data))[:0]
		} else if cap(c.in)-len(c.in) < len(data) {
			c.in = bufpool.Grow(c.in, len(data))
		}
		c.in = append(c.in, data...)
		return
	}
	if c.rflags&rfHandshake != 0 {
		c.handshakeInput(w, data)
		return
	}
	if c.rflags&rfStash != 0 {
		// Bytes kept unparsed by a pause come first: parse them with the new ones.
		c.rflags &^= rfStash
		buf := c.in
		c.in = nil
		if cap(buf)-len(buf) < len(data) {
			buf = bufpool.Grow(buf, len(data))
		}
		buf = append(buf, data...)
		c.parse(buf)
		bufpool.Put(buf)
		return
	}
	if c.in != nil {
		data = c.feed(w, data)
	}
	c.parse(data)
}

// feed moves bytes from data into the frame in flight until it is complete (and then
// handles it) or data runs out. It returns what is left of data.
func (c *Conn) feed(w *worker, data []byte) []byte {
	for c.in != nil && c.rflags&(rfFinished|rfDiscard) == 0 {
		if c.inNeed == 0 {
			// The header itself is incomplete: take at most a header's worth.
			k := min(len(data), frame.MaxHeaderSize-len(c.in))
			c.in = append(c.in, data[:k]...)
			h, n, err := frame.ParseHeader(c.in)
			if err == frame.ErrShortHeader {
				return data[k:]
			}
			if err != nil {
				c.fail(err)
				return nil
			}
			total := int64(n) + h.Length
			if int64(len(c.in)) > total {
				// We took bytes of the next frame: leave them in data.
				k -= len(c.in) - int(total)
				c.in = c.in[:total]
			}
			data = data[k:]
			if !c.frameStart(&h) {
				return nil
			}
			c.inNeed = int(total)
			if cap(c.in) < c.inNeed {
				c.in = bufpool.Grow(c.in, c.inNeed-len(c.in))
			}
		}
		if len(data) > 0 {
			k := min(len(data), c.inNeed-len(c.in))
			c.in = append(c.in, data[:k]...)
			data = data[k:]
		}
		h, n, _ := frame.ParseHeader(c.in)
		payload := c.in[n:]
		if !c.framePart(&h, payload, int(c.inDone)) {
			return nil
		}
		c.inDone = int32(len(payload))
		if len(c.in) < c.inNeed {
			return data
		}
		in := c.in
		c.in, c.inNeed, c.inDone = nil, 0, 0
		c.frameEnd(&h, payload)
		bufpool.Put(in)
	}
	return data
}

// parse handles whole frames in place and stashes a trailing partial one.
func (c *Conn) parse(data []byte) {
	for len(data) > 0 && c.rflags&(rfFinished|rfDiscard) == 0 && !c.paused.Load() {
		h, n, err := frame.ParseHeader(data)
		if err == frame.ErrShortHeader {
			c.in = append(bufpool.Get(smallIn)[:0], data...)
			return
		}
		if err != nil {
			c.fail(err)
			return
		}
		if !c.frameStart(&h) {
			return
		}
		total := int64(n) + h.Length
		if int64(len(data)) < total {
			// The frame continues in later reads: keep it, sized to the whole frame.
			c.in = append(bufpool.Get(int(total))[:0], data...)
			c.inNeed = int(total)
			payload := c.in[n:]
			if c.framePart(&h, payload, 0) {
				c.inDone = int32(len(payload))
			}
			return
		}
		payload := data[n:total]
		data = data[total:]
		if !c.framePart(&h, payload, 0) {
			return
		}
		c.frameEnd(&h, payload)
	}
	if len(data) > 0 && c.rflags&(rfFinished|rfDiscard) == 0 {
		// The loop saw the connection paused by a callback: keep the rest,
		// unparsed, for ResumeRead. Not paused.Load() again: a ResumeRead from
		// another goroutine may have cleared it since, and its event, handled
		// after this one, parses the stash.
		c.in = append(bufpool.Get(max(len(data), smallIn))[:0], data...)
		c.rflags |= rfStash
	}
}
