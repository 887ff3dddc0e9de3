package engine

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/tlsrec"
)

// TestTLSLoopPeerEnds: how a wss peer on the loops ends the TLS stream
// reaches the Handler as a ws:// peer's end of TCP does (1006, no close
// frame), with what goes back on the wire (RFC 8446 §6): close_notify after
// the peer's, nothing after its fatal alert, unexpected_message after a
// KeyUpdate flood (a record error, counted).
func TestTLSLoopPeerEnds(t *testing.T) {
	t.Parallel()
	flood := func(c *rawTLS) []byte {
		var b []byte
		for range 17 { // crypto/tls's maxUselessRecords, plus one
			b, _ = c.w.AppendKeyUpdate(b, true)
		}
		return b
	}
	tests := []struct {
		name    string
		bytes   func(c *rawTLS) []byte
		back    func(err error) bool // what the client reads after its bytes
		errs    uint64               // TLSMetrics.RecordErrors
		onClose func(err error) bool
	}{
		{"close_notify", func(c *rawTLS) []byte { b, _ := c.w.AppendCloseNotify(nil); return b },
			func(err error) bool { return err == errEOF },
			0, func(err error) bool { return errors.Is(err, ErrAbnormalClosure) }},
		{"fatal alert", func(c *rawTLS) []byte { b, _ := c.w.AppendAlert(nil, tlsrec.AlertInternalError); return b },
			func(err error) bool { return err == errSocketEOF },
			0, func(err error) bool {
				var ae *tlsrec.AlertError
				return errors.As(err, &ae) && ae.Remote && ae.Code == tlsrec.AlertInternalError
			}},
		{"KeyUpdate flood", flood,
			func(err error) bool {
				var ae *tlsrec.AlertError
				return errors.As(err, &ae) && ae.Remote && ae.Code == tlsrec.AlertUnexpectedMessage
			},
			1, func(err error) bool {
				var te *TLSError
				return errors.As(err, &te)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newModeHandler()
			s, c := upgradedRecords(t, h, h.mode)
			c.write(tc.bytes(c))
			err := readEnd(c)
			if !tc.back(err) {
				t.Fatalf("client read %v after its bytes", err)
			}
			r := h.waitClose(t)
			if r.code != frame.StatusAbnormalClosure || !tc.onClose(r.err) {
				t.Fatalf("OnClose %d %v", r.code, r.err)
			}
			if m := s.TLSMetrics(); m.RecordErrors != tc.errs {
				t.Fatalf("TLS metrics %+v, want %d record errors", m, tc.errs)
			}
		})
	}
}

var (
	errEOF       = errors.New("close_notify")
	errSocketEOF = errors.New("socket EOF with no record")
)

// readEnd reads what the server sends until the stream ends, skipping data:
// errEOF for a close_notify, errSocketEOF for a socket closed with nothing
// after, else the record's error.
func readEnd(c *rawTLS) error {
	for {
		_, err := c.read()
		switch {
		case err == nil:
			continue
		case errors.Is(err, io.EOF):
			if _, sticky := c.r.Open(nil); sticky != nil {
				return errEOF // the Reader's: a close_notify
			}
			return errSocketEOF
		}
		return err
	}
}

// TestTLSLoopWriterRace: the server writes from a goroutine of its own while
// the peer asks for KeyUpdates (the read side switches keys and owes one,
// the write side seals under its own), each side once idle for over
// IdleAfter so that its AEAD is dropped and rebuilt, and then the peer sends
// close_notify in the middle of the writes: every message arrives whole,
// under whichever key, and the connection ends cleanly. Run with -race.
func TestTLSLoopWriterRace(t *testing.T) {
	t.Parallel()
	h := &writerHandler{modeHandler: newModeHandler(), stop: make(chan struct{})}
	_, c := upgradedRecords(t, h, h.mode)
	var all []byte
	for i := range 40 {
		ku, _ := c.w.AppendKeyUpdate(nil, i%2 == 0)
		c.write(append(ku, c.seal(frameBytes(true, frame.OpText, 0, []byte("x"), true))...))
		if i == 15 {
			time.Sleep(tlsrec.IdleAfter + 100*time.Millisecond) // the server's read side drops its AEAD at the next burst
		}
		p, err := c.read()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p...)
	}
	b, _ := c.w.AppendCloseNotify(nil)
	c.write(b)
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		p, err := c.read()
		all = append(all, p...)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("after close_notify: %v", err)
			}
			break
		}
	}
	close(h.stop)
	if r := h.waitClose(t); r.code != frame.StatusAbnormalClosure {
		t.Fatalf("OnClose %d %v", r.code, r.err)
	}
	// Whole frames of the writer's, in order, the last one perhaps cut by
	// the end of the stream.
	msg := frameBytes(true, frame.OpBinary, 0, bytes.Repeat([]byte("w"), 3000), false)
	n := 0
	for ; len(all) >= len(msg); n++ {
		if !bytes.Equal(all[:len(msg)], msg) {
			t.Fatalf("frame %d differs", n)
		}
		all = all[len(msg):]
	}
	if !bytes.HasPrefix(msg, all) || n < 10 {
		t.Fatalf("%d frames, then %d bytes not a frame's start", n, len(all))
	}
}

// writerHandler writes 3000-byte messages from a goroutine until stop or
// the connection closes.
type writerHandler struct {
	*modeHandler
	stop chan struct{}
}

func (h *writerHandler) OnOpen(c *Conn) {
	h.modeHandler.OnOpen(c)
	go func() {
		p := bytes.Repeat([]byte("w"), 3000)
		for i := 0; ; i++ {
			select {
			case <-h.stop:
				return
			default:
			}
			if err := c.WriteMessage(frame.OpBinary, p); err != nil {
				return
			}
			if i == 100 {
				time.Sleep(tlsrec.IdleAfter + 100*time.Millisecond) // the write side drops its AEAD at the next burst
			}
			time.Sleep(time.Millisecond)
		}
	}()
}

func (h *writerHandler) OnMessage(c *Conn, op frame.Opcode, p []byte) {}

// TestTLSLoopSlowlorisSlot: a ClientHello dripped into the only handshake
// slot holds it no longer than HandshakeTimeout from its accept (cut, and
// counted Failed, while it still drips), and the slot is free after: the
// next client is answered.
func TestTLSLoopSlowlorisSlot(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	s, addr := startTLS(t, echoOnly{}, Config{MaxTLSHandshakes: 1, HandshakeTimeout: timeout})
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	go func() { // one byte of a ClientHello every 20 ms until cut
		hello := []byte{22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3}
		for i := 0; ; i++ {
			if _, err := nc.Write(hello[i%len(hello) : i%len(hello)+1]); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	start := time.Now()
	for s.TLSMetrics().Failed == 0 {
		if time.Since(start) > 10*timeout {
			t.Fatalf("the drip held the slot %v", time.Since(start))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if held := time.Since(start); held < timeout/2 {
		t.Fatalf("cut after %v, before its timeout", held)
	}
	rc := dialRawTLS(t, addr, nil)
	rc.send(true, frame.OpText, []byte("after the drip"))
	if _, got := rc.readMessage(); string(got) != "after the drip" {
		t.Fatalf("echo %q", got)
	}
}
