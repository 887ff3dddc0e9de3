package engine

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// TestHeldMessagesNeverBlockTheirFragments: whole messages written while a
// WriteFrame message is in progress wait behind its last frame (RFC 6455
// §5.4) and count against MaxWriteBuffer. The frames of that message go out
// ahead of them, so they are judged by what is queued ahead (as any write
// that finds nothing queued, they are not held to the cap then): counted
// against messages that cannot leave before them, they were refused for good
// once the held messages neared the cap, with the socket empty and the peer
// reading, and the held messages never went out either.
func TestHeldMessagesNeverBlockTheirFragments(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.MaxWriteBuffer = 64 << 10
		h := newBPHandler()
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		c := h.conn(t)
		if err := c.WriteFrame(false, frame.OpText, 0, []byte("first ")); err != nil {
			t.Fatal(err)
		}
		held := 0
		for ; held < 100; held++ {
			err := c.WriteBinary(bytes.Repeat([]byte{byte(held)}, 16<<10))
			if errors.Is(err, ErrWriteBufferFull) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if held == 100 {
			t.Fatal("no whole message was refused behind the fragments")
		}
		last := bytes.Repeat([]byte("L"), 20<<10)
		var err error
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if err = c.WriteFrame(true, frame.OpContinuation, 0, last); !errors.Is(err, ErrWriteBufferFull) {
				break
			}
		}
		if err != nil {
			t.Fatalf("the last frame, with nothing queued ahead of it and %d messages held behind: %v", held, err)
		}
		op, msg := rc.readMessage()
		if op != frame.OpText || string(msg) != "first "+string(last) {
			t.Fatalf("fragmented message %v, %d bytes", op, len(msg))
		}
		for i := range held {
			op, msg := rc.readMessage()
			if op != frame.OpBinary || !bytes.Equal(msg, bytes.Repeat([]byte{byte(i)}, 16<<10)) {
				t.Fatalf("held message %d: %v, %d bytes", i, op, len(msg))
			}
		}
	})
}
