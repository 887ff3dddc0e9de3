package interop

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

// Bad-peer resource cases: peers that do not read. Memory is judged by what weir
// holds for the connection (BufferedAmount against MaxWriteBuffer) and, coarsely,
// by the heap.

// neverReads: weir writes 64 KiB messages to a peer that reads nothing until the
// policy has refused 256 of them, 256 MiB offered at most.
func neverReads(policy engine.WriteBufferPolicy) func(func(string, ...any), badMode) error {
	return func(logf func(string, ...any), m badMode) error {
		const (
			maxBuf  = 1 << 20
			msgSize = 64 << 10
			offers  = 4096
		)
		want := map[engine.WriteBufferPolicy]error{
			engine.WriteBufferError: engine.ErrWriteBufferFull,
			engine.WriteBufferDrop:  engine.ErrMessageDropped,
			engine.WriteBufferClose: engine.ErrSlowConsumer,
		}[policy]
		rec := newRecorder()
		srv, r, c, err := openRaw(rec, m.config(engine.Config{MaxWriteBuffer: maxBuf, WriteBufferPolicy: policy, PingInterval: -1}))
		if err != nil {
			return err
		}
		defer closeServer(srv)
		defer r.nc.Close()
		heap0 := heapInUse()
		msg := make([]byte, msgSize)
		var accepted []uint64
		peak, refused := 0, 0
		for i := range offers {
			binary.BigEndian.PutUint64(msg, uint64(i))
			err, blocked := writeWithin(c, frame.OpBinary, msg)
			if blocked {
				return fmt.Errorf("WriteMessage %d blocked for %v: the write does not return, so MaxWriteBuffer and the policy never apply", i, badTimeout)
			}
			peak = max(peak, c.BufferedAmount())
			if err == nil {
				accepted = append(accepted, uint64(i))
				continue
			}
			if !errors.Is(err, want) {
				return fmt.Errorf("write %d: %v, want %v", i, err, want)
			}
			refused++
			if policy == engine.WriteBufferClose || refused == 256 {
				break
			}
		}
		growth := heapInUse() - heap0
		logf("%d messages accepted (the kernel's buffers, then weir's), %d refused; BufferedAmount peak %d of %d; heap +%d KiB",
			len(accepted), refused, peak, maxBuf, growth>>10)
		switch {
		case refused == 0:
			return fmt.Errorf("%d MiB offered to a peer that reads nothing and no write was refused", offers*msgSize>>20)
		case peak > maxBuf:
			return fmt.Errorf("BufferedAmount reached %d, over MaxWriteBuffer %d", peak, maxBuf)
		case growth > 64<<20:
			return fmt.Errorf("heap grew by %d MiB", growth>>20)
		}
		r.startFrames()
		if policy == engine.WriteBufferClose {
			select {
			case ev := <-rec.closed:
				if ev.code != 1008 || !errors.Is(ev.err, engine.ErrSlowConsumer) {
					return fmt.Errorf("OnClose %d %v, want 1008 %v", ev.code, ev.err, engine.ErrSlowConsumer)
				}
			case <-time.After(badTimeout):
				return errors.New("no OnClose after ErrSlowConsumer")
			}
			// What the peer still reads is a prefix of the accepted messages, whole.
			for i := 0; ; i++ {
				h, p, err := r.next(badTimeout)
				if err != nil {
					break
				}
				if h.Opcode == frame.OpClose {
					continue
				}
				if i >= len(accepted) || len(p) != msgSize || binary.BigEndian.Uint64(p) != accepted[i] {
					return fmt.Errorf("message %d read after the slow-consumer close is not accepted message %d whole", i, i)
				}
			}
			return waitNoConns(srv)
		}
		if c.State() != engine.StateOpen {
			return fmt.Errorf("state %v after refusals, want open", c.State())
		}
		for i, seq := range accepted {
			op, p, err := r.expectMessage(badTimeout)
			if err != nil {
				return fmt.Errorf("reading accepted message %d of %d: %w", i, len(accepted), err)
			}
			if op != frame.OpBinary || len(p) != msgSize || binary.BigEndian.Uint64(p) != seq {
				return fmt.Errorf("message %d: %d bytes seq %d, want %d bytes seq %d", i, len(p), binary.BigEndian.Uint64(p), msgSize, seq)
			}
		}
		// Drained: a write goes through again.
		deadline := time.Now().Add(badTimeout)
		for c.WriteMessage(frame.OpText, []byte("after")) != nil {
			if time.Now().After(deadline) {
				return errors.New("writes still refused after the peer drained everything")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if _, p, err := r.expectMessage(badTimeout); err != nil || string(p) != "after" {
			return fmt.Errorf("after draining: %q %v", p, err)
		}
		c.Close(1000, "")
		return nil
	}
}

// pingFlood: 40000 pings (5 MB) from a peer that reads nothing meanwhile.
func pingFlood(logf func(string, ...any), m badMode) error {
	const pings = 40000
	rec := newRecorder()
	srv, r, c, err := openRaw(rec, m.config(engine.Config{PingInterval: -1}))
	if err != nil {
		return err
	}
	defer closeServer(srv)
	defer r.nc.Close()
	heap0 := heapInUse()
	var peak int
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			default:
			}
			peak = max(peak, c.BufferedAmount())
			time.Sleep(200 * time.Microsecond)
		}
	}()
	var batch []byte
	payload := make([]byte, 125)
	for i := range pings {
		binary.BigEndian.PutUint64(payload, uint64(i))
		batch = append(batch, cf(true, frame.OpPing, payload)...)
		if len(batch) > 64<<10 || i == pings-1 {
			r.nc.SetWriteDeadline(time.Now().Add(badTimeout))
			if _, err := r.nc.Write(batch); err != nil {
				close(stop)
				return fmt.Errorf("weir stopped reading the flood after %d pings (%v)", i, err)
			}
			batch = batch[:0]
		}
	}
	// A last message marks the end of the flood.
	r.nc.Write(cf(true, frame.OpText, []byte("end")))
	select {
	case <-rec.msgs:
	case <-time.After(badTimeout):
		close(stop)
		return errors.New("weir never got through the flood")
	}
	close(stop)
	select {
	case <-sampled:
	case <-time.After(badTimeout):
		return errors.New("BufferedAmount blocked during the flood")
	}
	growth := heapInUse() - heap0
	logf("%d pings; BufferedAmount peak %d bytes; heap +%d KiB", rec.npings.Load(), peak, growth>>10)
	switch {
	case rec.npings.Load() != pings:
		return fmt.Errorf("OnPing saw %d pings, want %d", rec.npings.Load(), pings)
	case peak > pongBound(m):
		return fmt.Errorf("BufferedAmount reached %d bytes under a ping flood (bound %d)", peak, pongBound(m))
	case growth > 32<<20:
		return fmt.Errorf("heap grew by %d MiB", growth>>20)
	case c.State() != engine.StateOpen:
		return fmt.Errorf("state %v after the flood, want open", c.State())
	}
	// Now read: pongs in order, the last one for the last ping.
	r.startFrames()
	last := int64(-1)
	for last != pings-1 {
		h, p, err := r.next(badTimeout)
		if err != nil {
			return fmt.Errorf("reading pongs: last seen %d: %w", last, err)
		}
		if h.Opcode != frame.OpPong {
			return fmt.Errorf("%v frame among the pongs", h.Opcode)
		}
		seq := int64(binary.BigEndian.Uint64(p))
		if seq <= last {
			return fmt.Errorf("pong %d after pong %d", seq, last)
		}
		last = seq
	}
	c.Close(1000, "")
	return nil
}

// pongBound is the most output a ping flood may leave queued: on the loops one pending
// pong once the socket is full; in goroutine mode, where every write is queued for the
// writer goroutine, pongs queue up to the engine's 64 KiB backlog and then only the
// latest is kept.
func pongBound(m badMode) int {
	if m.name == "goroutine" {
		return 64<<10 + 1<<10
	}
	return 1 << 10
}
