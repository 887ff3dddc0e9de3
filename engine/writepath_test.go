package engine

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
)

// noise returns n pseudo-random (incompressible) bytes from seed.
func noise(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return p
}

// TestCompressionRefusedWritesKeepHistory: with context takeover, a write refused
// by the write-buffer policy must not enter the compressor's history (RFC 7692
// §7.2.1: the peer's decompressor only ever sees what was sent). A later message
// identical to a refused one would otherwise be sent as back-references to bytes
// the peer never got, and arrive wrong without any error.
func TestCompressionRefusedWritesKeepHistory(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.Compression = &deflate.Options{Threshold: -1}
		cfg.MaxWriteBuffer = 64 << 10
		cfg.PingInterval = -1
		h := newBPHandler()
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr, "Sec-WebSocket-Extensions: permessage-deflate")
		if err := rc.nc.(*net.TCPConn).SetReadBuffer(256 << 10); err != nil {
			t.Fatal(err)
		}
		rc.nc.SetDeadline(time.Time{})
		c := h.conn(t)
		if _, ok := c.Compression(); !ok {
			t.Fatal("permessage-deflate not negotiated")
		}

		const size = 8 << 10
		var sent [][]byte
		seed := uint64(1)
		for ; ; seed++ {
			if seed == 1<<16 {
				t.Fatal("the socket never pushed back")
			}
			p := noise(seed, size)
			err := c.WriteBinary(p)
			if errors.Is(err, ErrWriteBufferFull) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			sent = append(sent, p)
		}
		// Many more writes, each a different message: mostly refused (the queue
		// may drain a little meanwhile, and then a write is taken).
		// Goroutine mode's writer drains the queue while this runs, so more
		// writes may be taken under load: go on until 100 are refused.
		refused := []uint64{seed}
		for i := 0; len(refused) < 100 && i < 5000; i++ {
			s := seed + 1 + uint64(i)
			p := noise(s, size)
			switch err := c.WriteBinary(p); {
			case errors.Is(err, ErrWriteBufferFull):
				refused = append(refused, s)
			case err == nil:
				sent = append(sent, p)
			default:
				t.Fatalf("write %d: %v", i, err)
			}
		}
		if len(refused) < 100 {
			t.Fatalf("only %d writes refused", len(refused))
		}
		// The peer reads what was accepted; then messages equal to refused ones go
		// out, which a compressor that remembered them would send as references.
		z := deflate.NewConn(deflate.Params{}, false, nil)
		defer z.Release()
		rc.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
		read := func(want []byte, i int) {
			t.Helper()
			hd, p, err := rc.readFrame()
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if hd.Rsv == frame.Rsv1 {
				if p, err = z.Decompress(nil, p, 1<<20); err != nil {
					t.Fatalf("message %d does not inflate: %v", i, err)
				}
			}
			if !bytes.Equal(p, want) {
				t.Fatalf("message %d arrived with wrong bytes (%d bytes, want %d)", i, len(p), len(want))
			}
		}
		for i, p := range sent {
			read(p, i)
		}
		for i := range 5 {
			p := noise(refused[len(refused)-1-i], size)
			// Goroutine mode's writer may not yet have noted its last write
			// (in flight until it takes the lock again): retry a moment.
			err := c.WriteBinary(p)
			for end := time.Now().Add(5 * time.Second); errors.Is(err, ErrWriteBufferFull) && time.Now().Before(end); {
				time.Sleep(time.Millisecond)
				err = c.WriteBinary(p)
			}
			if err != nil {
				t.Fatalf("write after the drain: %v", err)
			}
			read(p, len(sent)+i)
		}
	})
}

// TestPeerCloseFlushesQueuedOutput: the peer's close arrives while megabytes of
// output are queued; the server's close echo goes behind them and the TCP
// connection ends only once all of it is out (RFC 6455 §7.1.1), so the peer reads
// every message whole, then the close frame, then EOF.
func TestPeerCloseFlushesQueuedOutput(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.PingInterval = -1
		cfg.WriteHighWater = -1 // read the close although output is queued
		cfg.MaxWriteBuffer = 16 << 20
		// The flush is bounded by CloseTimeout (5 s by default), which an 8 MiB
		// read under -race on a loaded 2-core box can pass: this test is about
		// the flush, not its bound.
		cfg.CloseTimeout = time.Minute
		h := newBPHandler()
		_, addr := startServer(t, h, cfg, nil)
		rc := bpDial(t, addr)
		c := h.conn(t)
		ok := bpQueue(t, c, 512) // 8 MiB behind a full socket
		rc.write(frameBytes(true, frame.OpClose, 0, []byte{0x03, 0xe8}, true))
		waitFor(t, func() bool { return c.State() != StateOpen })
		time.Sleep(100 * time.Millisecond) // the old code closed TCP at once here
		rc.readSeqs(ok)
		rc.expectClose(frame.StatusNormalClosure)
		rc.expectEOF()
		if r := h.waitClose(t); r.code != frame.StatusNormalClosure || r.err != nil {
			t.Fatalf("OnClose %d %v, want 1000 and no error", r.code, r.err)
		}
	})
}

// TestWriteFrameClose: WriteFrame(OpClose) is the close: later writes get
// ErrClosed, and the peer's answer ends the connection.
func TestWriteFrameClose(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		h := newBPHandler()
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		c := h.conn(t)
		if err := c.WriteFrame(true, frame.OpClose, 0, []byte{0x03, 0xe8, 'b', 'y', 'e'}); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteText("after the close"); !errors.Is(err, ErrClosed) {
			t.Fatalf("write after WriteFrame(OpClose): %v, want ErrClosed", err)
		}
		if err := c.WriteFrame(true, frame.OpClose, 0, nil); !errors.Is(err, ErrClosed) {
			t.Fatalf("second close frame: %v, want ErrClosed", err)
		}
		if got := rc.expectClose(frame.StatusNormalClosure); got != "bye" {
			t.Fatalf("close reason %q", got)
		}
		rc.write(frameBytes(true, frame.OpClose, 0, []byte{0x03, 0xe8}, true))
		rc.expectEOF()
		h.waitClose(t)
	})
}

// TestWriteFrameFragmentsNotInterleaved: whole messages written from other
// goroutines while a WriteFrame message is in progress wait behind its last frame
// (RFC 6455 §5.4); control frames may go between fragments.
func TestWriteFrameFragmentsNotInterleaved(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		h := newBPHandler()
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		c := h.conn(t)
		if err := c.WriteFrame(false, frame.OpText, 0, []byte("frag-1 ")); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := c.WriteBinary([]byte{byte(i)}); err != nil {
					t.Errorf("whole message %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if err := c.WriteMessageFunc(frame.OpBinary, []byte{9}, func(err error) { done <- err }); err != nil {
			t.Fatal(err)
		}
		if err := c.Ping([]byte("between")); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteFrame(false, frame.OpText, 0, []byte("x")); !errors.Is(err, ErrFragmentOrder) {
			t.Fatalf("a second fragmented message inside the first: %v, want ErrFragmentOrder", err)
		}
		select {
		case err := <-done:
			t.Fatalf("done(%v) while the message waits behind the fragments", err)
		default:
		}
		if err := c.WriteFrame(true, frame.OpContinuation, 0, []byte("frag-2")); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteFrame(true, frame.OpContinuation, 0, nil); !errors.Is(err, ErrFragmentOrder) {
			t.Fatalf("continuation after the last frame: %v, want ErrFragmentOrder", err)
		}
		want := []frame.Opcode{frame.OpText, frame.OpPing, frame.OpContinuation,
			frame.OpBinary, frame.OpBinary, frame.OpBinary, frame.OpBinary, frame.OpBinary}
		for i, op := range want {
			hd, p, err := rc.readFrame()
			if err != nil {
				t.Fatal(err)
			}
			if hd.Opcode != op {
				t.Fatalf("frame %d: %v %q, want %v", i, hd.Opcode, p, op)
			}
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("done(%v)", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("done not called for the held message")
		}
	})
}
