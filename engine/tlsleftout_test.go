package engine

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// TestTLSLoopLeftOutPingKeepsStream: a control frame written to a wss
// connection on the loops whose queue is empty while its socket is full and
// MaxTotalBuffered has no room is left out, as on plain TCP, only if none of
// it is committed. The record layer seals it before the socket refuses it and
// keeps the sealed record to write first next time (tlsloop: the plaintext it
// carries is skipped when handed back, never sealed twice): a frame left out
// of the queue then made the next message lose its first bytes at the peer
// (the skip took them for the ping's). Every message must arrive whole.
func TestTLSLoopLeftOutPingKeepsStream(t *testing.T) {
	t.Parallel()
	forLoopModes(t, func(t *testing.T, cfg Config) {
		cfg.MaxTotalBuffered = 4096 // no room for a page: nothing can be queued
		cfg.PingInterval = -1
		h := newBPHandler()
		_, addr := startTLS(t, h, cfg)
		rc := dialRawTLS(t, addr, nil) // reads nothing for now: the socket fills
		c := h.conn(t)
		// Pings until one does not go out whole: the socket is full, the
		// record is sealed and waits (or the connection was cut).
		record, sent := uint64(0), 0
		var perr error
		for ; sent < 1<<20; sent++ {
			before := c.Stats().BytesOut
			if perr = c.Ping([]byte(fmt.Sprintf("ping %06d", sent))); perr != nil {
				break
			}
			d := c.Stats().BytesOut - before
			if record == 0 {
				record = d
			}
			if d < record {
				break
			}
		}
		if perr != nil && !errors.Is(perr, ErrBudgetCut) {
			t.Fatalf("ping %d: %v", sent, perr)
		}
		// The peer reads what the socket took; then a message follows, once
		// the queue lets it in.
		for i := range sent {
			hd, p, err := rc.readFrame()
			if err != nil || hd.Opcode != frame.OpPing || string(p) != fmt.Sprintf("ping %06d", i) {
				t.Fatalf("frame %d: %v %q %v", i, hd.Opcode, p, err)
			}
		}
		msg := bytes.Repeat([]byte("0123456789abcdef"), 64)
		var err error
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
			if err = c.WriteBinary(msg); !errors.Is(err, ErrWriteBufferFull) || time.Now().After(deadline) {
				break
			}
		}
		if (perr == nil) != (err == nil) {
			t.Fatalf("the message after the ping (%v): %v", perr, err)
		}
		for {
			hd, p, rerr := rc.readFrame()
			if rerr != nil {
				if err == nil {
					t.Fatalf("the message was taken (nil) but the peer read: %v", rerr)
				}
				return // cut: the connection ended, nothing damaged before
			}
			switch {
			case hd.Opcode == frame.OpPing && string(p) == fmt.Sprintf("ping %06d", sent):
				continue // the sealed ping: it is on the wire now
			case hd.Opcode == frame.OpBinary && bytes.Equal(p, msg) && err == nil:
				return
			}
			t.Fatalf("after %d pings the peer read %v fin %v rsv %x, %d bytes %.32q; want the message (%v)",
				sent, hd.Opcode, hd.Fin, hd.Rsv, len(p), p, err)
		}
	})
}
