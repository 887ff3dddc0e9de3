package loadgen

import (
	"context"
	"time"

	"github.com/weir-ws/weir/frame"
)

// maxNap is the longest the publisher sleeps at a time, so that "stop" and the
// end of the run are seen promptly even at a low rate.
const maxNap = 50 * time.Millisecond

// startPublish starts the open loop (Options.Rate) or the fan-out publishers
// (Options.Fanout): a goroutine that sends stamped messages on schedule until the
// mode changes or ctx ends. g.pub counts it.
func (g *gen) startPublish(ctx context.Context) {
	mode, ws := modeRate, g.ws
	op, msg, at := g.op, append([]byte(nil), g.msg...), 0
	if g.o.Fanout {
		mode, ws = modeFanout, g.ws[:min(g.o.Publishers, len(g.ws))]
		op = frame.OpText
		msg, at = fanoutPayload(g.o.Size)
	}
	if g.mode.Load() == mode {
		return // "go" twice
	}
	g.pub.Wait() // one stopped by "stop" ends within maxNap of it
	g.mode.Store(mode)
	if len(ws) == 0 || g.o.Rate <= 0 {
		return // a subscriber only, or nothing to send on
	}
	conns := make([]msgWriter, len(ws))
	for i, c := range ws {
		conns[i] = c
	}
	g.pub.Go(func() { g.publish(ctx, mode, conns, op, msg, at) })
}

// msgWriter is what the publisher sends on: an *engine.Conn.
type msgWriter interface {
	WriteMessage(op frame.Opcode, p []byte) error
}

// publish sends g.o.Rate messages a second round robin over conns. Message k is
// due at start + k/Rate and carries that time, not the time it actually left:
// when the sender or the socket falls behind, the delay shows in the latency
// of every message due meanwhile, as a user arriving on schedule would see it
// (a closed loop would instead send less and hide the stall). Late messages go
// out at once, one after another, until the schedule is caught up.
func (g *gen) publish(ctx context.Context, mode int32, conns []msgWriter, op frame.Opcode, msg []byte, at int) {
	start := time.Now()
	perNs := 1e9 / g.o.Rate
	t := time.NewTimer(0)
	defer t.Stop()
	<-t.C
	for k := 0; ; k++ {
		due := start.Add(time.Duration(float64(k) * perNs))
		for {
			if ctx.Err() != nil || g.mode.Load() != mode {
				return
			}
			d := time.Until(due)
			if d <= 0 {
				break
			}
			t.Reset(min(d, maxNap))
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
		}
		ns := due.UnixNano()
		putStamp(msg[at:], ns)
		// Counted before it goes, so no report has its echo without it, and
		// by its due time, as its deliveries are (gotStamped): a message due
		// before the last mark is warm-up traffic however late it leaves (a
		// starved publisher catching up). The mark is read after due passed,
		// so one read while mark zeroes the counters (+inf) skips a message
		// due before the new mark. WriteMessage neither keeps nor changes
		// msg, so the next stamp may overwrite it at once.
		counted := ns >= g.markNs.Load()
		if counted {
			g.sent.Add(1)
		}
		if err := conns[k%len(conns)].WriteMessage(op, msg); err != nil {
			if counted {
				g.sent.Add(^uint64(0))
			}
			g.errs.Add(1)
		}
	}
}

// gotStamped records a stamped message's delay from its due time (rate and
// fanout modes), unless it was due before the last mark. It reports false for a
// message without a stamp.
func (g *gen) gotStamped(p []byte) bool {
	ns, ok := findStamp(p)
	if !ok {
		return false
	}
	if ns < g.markNs.Load() {
		return true // sent in the warm-up
	}
	g.h.add(time.Now().UnixNano() - ns)
	g.msgs.Add(1)
	return true
}
