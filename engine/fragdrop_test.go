package engine

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// TestDropNeverHolesAFragmentedMessage: under WriteBufferDrop a frame of a
// fragmented message already begun (WriteFrame) cannot be dropped the way a
// whole message is: its first frames are on the wire, so the peer would
// assemble the message with a hole in it and deliver it as if whole (RFC 6455
// §5.4 leaves it no way to tell). A fan-out loop ignores ErrMessageDropped as
// the policy invites, and writes on; the peer must never get a message other
// than the one written. The frame that would be dropped closes the connection
// instead (1008, ErrSlowConsumer, as WriteBufferClose), which ends the
// message unfinished.
func TestDropNeverHolesAFragmentedMessage(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.MaxWriteBuffer = 64 << 10
		cfg.WriteBufferPolicy = WriteBufferDrop
		h := newBPHandler()
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr) // reads nothing for now: the socket fills
		c := h.conn(t)
		chunk := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 16<<10) }
		var want []byte
		write := func(fin bool, op frame.Opcode, i int) error {
			want = append(want, chunk(i)...) // what the writer means to send
			return c.WriteFrame(fin, op, 0, chunk(i))
		}
		if err := write(false, frame.OpBinary, 0); err != nil {
			t.Fatal(err)
		}
		refused := 0
		for i := 1; i < 4000 && refused < 3; i++ {
			switch err := write(false, frame.OpContinuation, i); {
			case err == nil:
			case errors.Is(err, ErrMessageDropped), errors.Is(err, ErrSlowConsumer), errors.Is(err, ErrClosed):
				refused++ // ignored, as a fan-out loop under the drop policy does
			default:
				t.Fatalf("frame %d: %v", i, err)
			}
		}
		if refused == 0 {
			t.Fatal("no frame was refused: the socket never filled")
		}
		// The peer reads again; once the queue is out the last frame fits.
		last := chunk(4000)
		want = append(want, last...)
		got := make(chan string, 1)
		go func() { got <- readFragDrop(rc, want) }()
		deadline := time.Now().Add(10 * time.Second)
		for c.BufferedAmount() > 0 && c.State() == StateOpen && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		err := c.WriteFrame(true, frame.OpContinuation, 0, last)
		if err != nil && !errors.Is(err, ErrClosed) {
			t.Fatalf("the last frame: %v", err)
		}
		if r := <-got; r != "" {
			t.Fatal(r)
		}
	})
}

// readFragDrop reads the message and says what is wrong with it: "" when it
// arrived as written, or did not arrive whole (a close frame, 1008, or the
// end of the connection came first).
func readFragDrop(rc *rawClient, want []byte) string {
	var msg []byte
	for {
		hd, p, err := rc.readFrame()
		if err != nil {
			return "" // the connection ended
		}
		switch {
		case hd.Opcode == frame.OpClose:
			if code, _, _ := frame.ParseClose(p); code != frame.StatusPolicyViolation {
				return fmt.Sprintf("close %d, want 1008", code)
			}
			return ""
		case hd.Opcode.IsControl():
			continue
		}
		msg = append(msg, p...)
		if hd.Fin {
			if !bytes.Equal(msg, want) {
				return fmt.Sprintf("the peer got a whole message of %d bytes; %d were written, some dropped from its middle",
					len(msg), len(want))
			}
			return ""
		}
	}
}
