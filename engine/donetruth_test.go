package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// TestDoneTellsTheTruth: a WriteMessageFunc callback says nil exactly for
// the messages the socket took whole, and ErrClosed exactly for the others
// (its documentation: "once the socket has taken all of it, or with
// ErrClosed if the connection ends first"), however the connection ends
// while messages wait for a peer that does not read: CloseNow, the peer's
// close frame, Close past CloseTimeout, Abort. The peer reads to EOF, once every
// callback has run (but for the peer's close, which the loops read only once
// the output drains), and checks which messages came whole.
// Goroutine mode's writer goes on writing what was queued after the
// connection ended (closeNet), so a callback that said ErrClosed there was
// a lie: the peer got the message. After CloseNow or Abort the socket
// closes at once (closesNetNow) and the queue is dropped; its bytes were
// still counted as out, so the messages of the writer's cut write said nil,
// whole or not.
func TestDoneTellsTheTruth(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"CloseNow", "peer close", "Close timeout", "Abort"} {
		for _, wss := range []bool{false, true} {
			name := how
			if wss {
				name += " wss"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				forModes(t, func(t *testing.T, cfg Config) { testDoneTruth(t, cfg, how, wss) })
			})
		}
	}
}

func testDoneTruth(t *testing.T, cfg Config, how string, wss bool) {
	const msgs, size = 24, 512 << 10
	cfg.MaxWriteBuffer = 64 << 20
	if cfg.CloseTimeout == 0 {
		cfg.CloseTimeout = time.Second
	}
	cfg.PingInterval = -1
	h := &openedHandler{opened: make(chan *Conn, 1)}
	var rc *rawClient
	if wss { // the record layer on the loops, crypto/tls in goroutine mode
		_, addr := startTLS(t, h, cfg)
		rc = dialRawTLS(t, addr, nil)
	} else {
		_, addr := startServer(t, h, cfg, nil)
		rc = dialRaw(t, addr)
	}
	var c *Conn
	select {
	case c = <-h.opened:
	case <-time.After(10 * time.Second):
		t.Fatal("no OnOpen")
	}
	payload := func(i int) []byte {
		p := bytes.Repeat([]byte{byte('a' + i)}, size)
		binary.BigEndian.PutUint32(p, uint32(i))
		return p
	}
	results := make(chan [2]any, msgs)
	for i := range msgs {
		err := c.WriteMessageFunc(frame.OpBinary, payload(i), func(err error) { results <- [2]any{i, err} })
		if err != nil {
			t.Fatalf("message %d refused: %v", i, err)
		}
	}
	switch how {
	case "CloseNow":
		c.CloseNow(frame.StatusGoingAway, "")
	case "Abort":
		c.Abort()
	case "peer close":
		rc.write(frameBytes(true, frame.OpClose, 0, []byte{0x03, 0xe8}, true))
	case "Close timeout":
		c.Close(frame.StatusNormalClosure, "")
	}
	// The peer reads only once every callback has run (what it gets whole
	// went out whole), but for the peer's close: on the loops reading is
	// held while so much output waits (backpressure), so the close frame is
	// read once the peer has read.
	whole := map[int]bool{}
	read := make(chan struct{})
	reader := func() {
		defer close(read)
		rc.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
		for {
			hd, p, err := rc.readFrame()
			if err != nil || hd.Opcode == frame.OpClose {
				return
			}
			if hd.Opcode != frame.OpBinary || !hd.Fin || len(p) != size {
				t.Errorf("frame %+v of %d bytes", hd, len(p))
				return
			}
			i := int(binary.BigEndian.Uint32(p))
			if i >= msgs || !bytes.Equal(p, payload(i)) {
				t.Errorf("message %d is not what was written", i)
				return
			}
			whole[i] = true
		}
	}
	said := make(map[int]error, msgs)
	if how == "peer close" {
		go reader()
	}
	for range msgs {
		select {
		case r := <-results:
			said[r[0].(int)], _ = r[1].(error)
		case <-time.After(10 * time.Second):
			if how == "peer close" { // the reader runs: stop it first
				rc.nc.Close()
				<-read
			}
			t.Fatalf("%d callbacks of %d ran", len(said), msgs)
		}
	}
	if how != "peer close" {
		go reader()
	}
	<-read
	for i := range msgs {
		err := said[i]
		switch {
		case err == nil && !whole[i]:
			t.Errorf("message %d: done said nil, the peer did not get it whole", i)
		case err != nil && whole[i]:
			t.Errorf("message %d: done said %v, the peer got it whole", i, err)
		case err != nil && !errors.Is(err, ErrClosed):
			t.Errorf("message %d: done said %v, want ErrClosed", i, err)
		}
	}
	t.Logf("%d of %d messages came whole", len(whole), msgs)
}
