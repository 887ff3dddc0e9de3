package engine

import (
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/uring"
)

// TestWritePreparedManyMidBatchFailure: in one io_uring batch (Linux, on
// the loops) some sends fail (their peers reset: EPIPE, ECONNRESET), some
// are cut short by a full socket (EAGAIN or a short count: the rest queued),
// the others go out whole; the failed connections end, their fd numbers
// free, and new connections take them, named in the next batches. Every
// reader gets every message it was sent whole, in order, byte for byte, and
// nothing else: a failure in the middle of a batch neither stops the sends
// after it nor lends one connection's bytes, buffer or number to another.
func TestWritePreparedManyMidBatchFailure(t *testing.T) {
	t.Parallel()
	if r := uring.Get(); r == nil {
		t.Log("no io_uring here: WritePreparedMany writes each receiver itself")
	} else {
		uring.Put(r)
	}
	forLoopModes(t, func(t *testing.T, cfg Config) {
		const rounds, perRound, msgs, size = 6, 8, 48, 64 << 10
		cfg.MaxWriteBuffer = 64 << 20
		cfg.PingInterval = -1
		h := &reuseHandler{opened: make(chan *Conn, perRound), closes: map[*Conn]int{}}
		_, addr := startServer(t, h, cfg, nil)
		type recv struct {
			rc   *rawClient
			c    *Conn
			from int // the first message it is sent
			slow bool
		}
		var live []*recv
		var all []*recv
		payload := func(i int) []byte {
			p := make([]byte, size)
			binary.BigEndian.PutUint32(p, uint32(i))
			for j := 4; j < size; j += 101 {
				p[j] = byte(i*7 + j)
			}
			return p
		}
		msg := 0
		for round := range rounds {
			for len(live) < perRound { // new receivers: the numbers the reset ones freed
				rc := dialRaw(t, addr)
				var c *Conn
				select {
				case c = <-h.opened:
				case <-time.After(10 * time.Second):
					t.Fatal("no OnOpen")
				}
				r := &recv{rc: rc, c: c, from: msg, slow: len(all)%3 == 1}
				live = append(live, r)
				all = append(all, r)
			}
			var conns []*Conn
			for _, r := range live {
				conns = append(conns, r.c)
			}
			for range msgs / rounds {
				WritePreparedMany(conns, NewPreparedMessage(frame.OpBinary, payload(msg)))
				msg++
			}
			// Reset two peers mid-stream: the next batch's sends to them fail.
			kept := live[:0]
			for i, r := range live {
				if i%4 == round%4 {
					r.rc.nc.(*net.TCPConn).SetLinger(0)
					r.rc.nc.Close()
					r.from = -1
					continue
				}
				kept = append(kept, r)
			}
			for range 2 {
				WritePreparedMany(conns, NewPreparedMessage(frame.OpBinary, payload(msg)))
				msg++
			}
			live = kept
		}
		for _, r := range all {
			if r.from < 0 {
				continue
			}
			r.rc.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
			for want := r.from; want < msg; want++ {
				_, p := r.rc.readMessage()
				if len(p) != size || int(binary.BigEndian.Uint32(p)) != want || string(p) != string(payload(want)) {
					t.Fatalf("a reader (first message %d, slow %v) wanted message %d, got %d bytes %.8x",
						r.from, r.slow, want, len(p), p[:min(len(p), 8)])
				}
			}
		}
		for i, r := range all {
			if r.from >= 0 {
				continue
			}
			reuseWait(t, "a reset receiver's OnClose", func() bool { return h.closed(r.c) > 0 })
			if n := h.closed(r.c); n != 1 {
				t.Errorf("receiver %d: OnClose ran %d times", i, n)
			}
		}
	})
}
