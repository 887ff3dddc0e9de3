package engine

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// holdHandler is a bpHandler whose OnMessage blocks until release is closed,
// after saying so on entered: the connection's turn stays busy, so the
// events posted to it meanwhile (the hang-up a failed write posts) wait.
type holdHandler struct {
	*bpHandler
	entered chan struct{}
	release chan struct{}
}

func (h *holdHandler) OnMessage(*Conn, frame.Opcode, []byte) {
	h.entered <- struct{}{}
	<-h.release
}

// TestNothingAfterBudgetCut: once a write is cut mid-frame (ErrBudgetCut: the
// socket took part of a frame and MaxTotalBuffered had no room for the rest),
// nothing more may reach the socket until the connection ends: the peer is
// in the middle of that frame's payload, so any later frame's bytes would be
// read as its payload (silently wrong data at the peer, or a frame read out
// of the middle of another's), and a close frame cannot follow half a frame
// either (RFC 6455 §5.2). Later writes get ErrClosed. The connection's turn
// is kept busy by its handler so the window until it ends stays open.
func TestNothingAfterBudgetCut(t *testing.T) {
	t.Parallel()
	forLoopModes(t, func(t *testing.T, cfg Config) {
		cfg.MaxTotalBuffered = 1 << 20
		h := &holdHandler{bpHandler: newBPHandler(), entered: make(chan struct{}, 1), release: make(chan struct{})}
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr) // reads nothing for now: the socket leaves most of the frame
		c := h.conn(t)
		rc.send(true, frame.OpText, []byte("hold the turn"))
		select {
		case <-h.entered:
		case <-time.After(10 * time.Second):
			t.Fatal("OnMessage not called")
		}
		released := false
		defer func() {
			if !released {
				close(h.release)
			}
		}()
		big := bytes.Repeat([]byte{'x'}, 16<<20)
		if err := c.WriteBinary(big); !errors.Is(err, ErrBudgetCut) {
			t.Fatalf("16 MiB write with a 1 MiB budget and a full socket: %v, want ErrBudgetCut", err)
		}
		// The peer reads all the socket took: part of the frame.
		hdr := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Length: int64(len(big))})
		got := readIdle(t, rc.nc, 300*time.Millisecond)
		if len(got) < len(hdr) || !bytes.Equal(got[:len(hdr)], hdr) || len(got) >= len(hdr)+len(big) {
			t.Fatalf("the peer read %d bytes, want part of the 16 MiB frame", len(got))
		}
		// Everything written now must be refused and stay off the wire.
		for _, w := range []struct {
			name string
			do   func() error
		}{
			{"WriteText", func() error { return c.WriteText("after the cut") }},
			{"WriteMessageFunc", func() error {
				return c.WriteMessageFunc(frame.OpBinary, []byte("after"), func(error) {})
			}},
			{"WriteFrame", func() error { return c.WriteFrame(false, frame.OpText, 0, []byte("frag")) }},
			{"WritePrepared", func() error { return c.WritePrepared(NewPreparedMessage(frame.OpText, []byte("prep"))) }},
			{"Ping", func() error { return c.Ping([]byte("ping")) }},
			{"Pong", func() error { return c.Pong([]byte("pong")) }},
		} {
			if err := w.do(); !errors.Is(err, ErrClosed) {
				t.Errorf("%s after the cut: %v, want ErrClosed", w.name, err)
			}
		}
		c.Close(frame.StatusNormalClosure, "")         // no close frame behind half a frame
		rc.send(true, frame.OpPing, []byte("answer?")) // nor a pong (read once the turn ends)
		if more := readIdle(t, rc.nc, 300*time.Millisecond); len(more) > 0 {
			i := bytes.IndexFunc(more, func(r rune) bool { return r != 'x' })
			t.Errorf("%d more bytes reached the peer after the cut (first not of the frame at %d: %q)",
				len(more), i, more[max(i, 0):min(max(i, 0)+32, len(more))])
		}
		close(h.release)
		released = true
		if r := h.waitClose(t); !errors.Is(r.err, ErrBudgetCut) {
			t.Fatalf("OnClose %d %v, want ErrBudgetCut", r.code, r.err)
		}
	})
}

// readIdle reads from nc until it has been idle for idle (or EOF) and returns
// what it read.
func readIdle(t *testing.T, nc net.Conn, idle time.Duration) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, 256<<10)
	for {
		nc.SetReadDeadline(time.Now().Add(idle))
		n, err := nc.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return out // idle, EOF or reset
		}
	}
}

// TestNothingAfterAbort: Abort closes the TCP connection at once without a
// close frame, and so nothing written after it returns reaches the peer: it
// gets ErrClosed, as after Close. The connection's turn is kept busy by its
// handler so the socket stays open meanwhile (it is closed in that turn's
// context); writes used to go out to the peer then and report success.
func TestNothingAfterAbort(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		h := &holdHandler{bpHandler: newBPHandler(), entered: make(chan struct{}, 1), release: make(chan struct{})}
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		c := h.conn(t)
		rc.send(true, frame.OpText, []byte("hold the turn"))
		select {
		case <-h.entered:
		case <-time.After(10 * time.Second):
			t.Fatal("OnMessage not called")
		}
		defer close(h.release)
		c.Abort()
		for _, w := range []struct {
			name string
			do   func() error
		}{
			{"WriteText", func() error { return c.WriteText("after the abort") }},
			{"WritePrepared", func() error { return c.WritePrepared(NewPreparedMessage(frame.OpText, []byte("prep"))) }},
			{"Ping", func() error { return c.Ping([]byte("ping")) }},
		} {
			if err := w.do(); !errors.Is(err, ErrClosed) {
				t.Errorf("%s after Abort: %v, want ErrClosed", w.name, err)
			}
		}
		c.Close(frame.StatusNormalClosure, "") // no close frame either
		if got := readIdle(t, rc.nc, 300*time.Millisecond); len(got) > 0 {
			t.Errorf("the peer read %d bytes after Abort: %.40q", len(got), got)
		}
	})
}
